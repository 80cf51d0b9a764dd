import { assertEquals, assertThrows } from "../_util/assert.ts";
import { AddressPolicy } from "../../src/auth/address_policy.ts";
import { AdmissionAction, type AdmissionRequest, DecisionKind } from "../../src/hub/admission.ts";
import { Protocol } from "../../src/hub/session_kind.ts";

function request(key: string, action: AdmissionAction, hostname?: string): AdmissionRequest {
  const [app, name] = key.split("/");
  return {
    action,
    protocol: Protocol.HttpPush,
    app,
    name,
    key,
    query: {},
    ...(hostname !== undefined && { remote: { hostname, port: 50000 } }),
  };
}

Deno.test("AddressPolicy.admit() applies a key's rules for its action only, and names address and rule", () => {
  const policy = new AddressPolicy([
    { key: "feed/feed1", action: AdmissionAction.Publish, acl: ["allow 127.0.0.1"] },
  ]);
  assertEquals(
    policy.admit(request("feed/feed1", AdmissionAction.Publish, "127.0.0.1")).kind,
    DecisionKind.Allow,
  );
  assertEquals(
    policy.admit(request("feed/feed1", AdmissionAction.Publish, "::ffff:127.0.0.1")).kind,
    "allow",
  );
  assertEquals(
    policy.admit(request("feed/feed1", AdmissionAction.Play, "10.0.0.1")).kind,
    DecisionKind.Allow,
  );
  assertEquals(policy.admit(request("feed/other", AdmissionAction.Publish, "10.0.0.1")).kind, "allow");
  const denied = policy.admit(request("feed/feed1", AdmissionAction.Publish, "10.0.0.1"));
  assertEquals(denied.kind === DecisionKind.Deny && [denied.deny, denied.reason], [
    "forbidden",
    "address 10.0.0.1 may not publish feed/feed1 (no rule allows it)",
  ]);
});

Deno.test("AddressPolicy.update() replaces the rules, and refuses a bad rule changing nothing", () => {
  const policy = new AddressPolicy([{
    key: "feed/a",
    action: AdmissionAction.Publish,
    acl: ["deny 10.0.0.0/8"],
  }]);
  const denied = policy.admit(request("feed/a", AdmissionAction.Publish, "10.1.1.1"));
  assertEquals(denied.kind, DecisionKind.Deny);
  assertThrows(
    () => policy.update([{ key: "feed/a", action: AdmissionAction.Publish, acl: ["allow x"] }]),
    SyntaxError,
  );
  assertEquals(policy.admit(request("feed/a", AdmissionAction.Publish, "10.1.1.1")).kind, DecisionKind.Deny);
  policy.update([]);
  assertEquals(policy.admit(request("feed/a", AdmissionAction.Publish, "10.1.1.1")).kind, DecisionKind.Allow);
  policy.update([{ key: "feed/a", action: AdmissionAction.Publish, acl: ["allow all"] }]);
  assertEquals(policy.admit(request("feed/a", AdmissionAction.Publish)).kind, DecisionKind.Allow);
});
