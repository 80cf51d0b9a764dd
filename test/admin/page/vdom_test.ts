/**
 * h() and patch() against a small fake document that records what it is
 * asked to do, so a test sees which nodes were kept, moved or made.
 */
import { assert, assertEquals, assertStrictEquals } from "../../_util/assert.ts";
import {
  type DomDocument,
  type DomElement,
  type DomNode,
  type DomText,
  findAll,
  findByAttr,
  h,
  NodeType,
  patch,
  textOf,
  type VNode,
} from "../../../src/admin/page/vdom.ts";

class FakeText implements DomText {
  readonly nodeType = NodeType.Text;
  parent: FakeElement | null = null;
  constructor(public data: string) {}
}

class FakeElement implements DomElement {
  readonly nodeType = NodeType.Element;
  readonly attrs = new Map<string, string>();
  readonly kids: (FakeElement | FakeText)[] = [];
  parent: FakeElement | null = null;
  constructor(readonly tag: string, readonly log: string[]) {}
  get childNodes(): ArrayLike<DomNode> {
    return this.kids;
  }
  setAttribute(name: string, value: string): void {
    this.log.push(`set ${this.tag}.${name}`);
    this.attrs.set(name, value);
  }
  removeAttribute(name: string): void {
    this.log.push(`remove ${this.tag}.${name}`);
    this.attrs.delete(name);
  }
  insertBefore(node: DomNode, before: DomNode | null): void {
    const n = node as FakeElement | FakeText;
    if (n.parent) n.parent.kids.splice(n.parent.kids.indexOf(n), 1);
    const i = before === null ? this.kids.length : this.kids.indexOf(before as FakeElement);
    assert(i >= 0, "insertBefore: the reference node is a child");
    this.kids.splice(i, 0, n);
    n.parent = this;
  }
  removeChild(node: DomNode): void {
    const i = this.kids.indexOf(node as FakeElement);
    assert(i >= 0, "removeChild: a child");
    this.kids.splice(i, 1);
    (node as FakeElement).parent = null;
  }
  /** The subtree as markup, for comparisons. */
  html(): string {
    const attrs = [...this.attrs].map(([k, v]) => ` ${k}="${v}"`).join("");
    return `<${this.tag}${attrs}>${
      this.kids.map((k) => k instanceof FakeText ? k.data : k.html()).join("")
    }</${this.tag}>`;
  }
}

class FakeDocument implements DomDocument {
  readonly log: string[] = [];
  created = 0;
  createElement(tag: string): FakeElement {
    this.created++;
    return new FakeElement(tag, this.log);
  }
  createTextNode(text: string): FakeText {
    this.created++;
    return new FakeText(text);
  }
}

function setup(): { doc: FakeDocument; root: FakeElement } {
  const doc = new FakeDocument();
  return { doc, root: new FakeElement("div", doc.log) };
}

Deno.test("h() stringifies attributes, leaves out false and null, and flattens children", () => {
  const el = h(
    "button",
    { disabled: true, hidden: false, title: null, "data-n": 3 },
    "a",
    [1, [null, "b"]],
    false,
  );
  assertEquals(el, { tag: "button", attrs: { disabled: "", "data-n": "3" }, children: ["a", "1", "b"] });
});

Deno.test("h() takes `key` as the sibling key, not an attribute", () => {
  assertEquals(h("li", { key: "live/cam", class: "x" }), {
    tag: "li",
    attrs: { class: "x" },
    children: [],
    key: "live/cam",
  });
});

Deno.test("patch() builds a tree into an empty element", () => {
  const { doc, root } = setup();
  patch(doc, root, [h("p", { class: "a" }, "one ", h("b", {}, "two"))]);
  assertEquals(root.html(), '<div><p class="a">one <b>two</b></p></div>');
});

Deno.test("patch() keeps the nodes of an unchanged tree and touches nothing", () => {
  const { doc, root } = setup();
  const tree = () => [h("ul", {}, h("li", { "data-x": "1" }, "a"), h("li", {}, "b"))];
  patch(doc, root, tree());
  const ul = root.kids[0];
  const made = doc.created;
  doc.log.length = 0;
  patch(doc, root, tree());
  assertStrictEquals(root.kids[0], ul);
  assertEquals(doc.created, made, "no node made");
  assertEquals(doc.log, [], "no attribute set or removed");
});

Deno.test("patch() changes only the text and attributes that differ", () => {
  const { doc, root } = setup();
  patch(doc, root, [h("dd", { "data-field": "bitrate", class: "old" }, "1 Mbit/s")]);
  const dd = root.kids[0] as FakeElement;
  const text = dd.kids[0] as FakeText;
  doc.log.length = 0;
  patch(doc, root, [h("dd", { "data-field": "bitrate", title: "t" }, "2 Mbit/s")]);
  assertStrictEquals(root.kids[0], dd);
  assertStrictEquals(dd.kids[0], text);
  assertEquals(text.data, "2 Mbit/s");
  assertEquals(doc.log.sort(), ["remove dd.class", "set dd.title"]);
});

Deno.test("patch() follows keyed rows when the list reorders, and removes the ones gone", () => {
  const { doc, root } = setup();
  const rows = (keys: string[]) => keys.map((k) => h("tr", { key: k, "data-client-id": k }, k));
  patch(doc, root, rows(["1", "2", "3"]));
  const [one, , three] = root.kids;
  patch(doc, root, rows(["3", "1", "4"]));
  assertEquals(root.kids.map((k) => (k as FakeElement).attrs.get("data-client-id")), ["3", "1", "4"]);
  assertStrictEquals(root.kids[0], three);
  assertStrictEquals(root.kids[1], one);
});

Deno.test("patch() replaces a node whose tag changed", () => {
  const { doc, root } = setup();
  patch(doc, root, [h("p", {}, "x")]);
  const p = root.kids[0];
  patch(doc, root, [h("table", {}, "x")]);
  assert(root.kids[0] !== p, "a new element");
  assertEquals(root.html(), "<div><table>x</table></div>");
});

Deno.test("patch() sets text as text: markup in a stream name stays characters", () => {
  const { doc, root } = setup();
  patch(doc, root, [h("h3", {}, "<img src=x onerror=alert(1)>")]);
  const h3 = root.kids[0] as FakeElement;
  assertEquals(h3.kids.length, 1);
  assert(h3.kids[0] instanceof FakeText, "one text node");
  assertEquals((h3.kids[0] as FakeText).data, "<img src=x onerror=alert(1)>");
});

Deno.test("patch() clears children the template had that the tree does not", () => {
  const { doc, root } = setup();
  root.insertBefore(new FakeElement("span", doc.log), null);
  root.insertBefore(new FakeText("loading"), null);
  patch(doc, root, [h("p", {}, "ready")]);
  assertEquals(root.html(), "<div><p>ready</p></div>");
});

Deno.test("textOf(), findAll() and findByAttr() read a tree", () => {
  const tree: VNode = h(
    "dl",
    {},
    h("dd", { "data-field": "a" }, "x", h("b", {}, "y")),
    h("dd", { "data-field": "b" }, "z"),
  );
  assertEquals(textOf(tree), "xyz");
  assertEquals(findAll(tree, (el) => el.tag === "dd").length, 2);
  assertEquals(textOf(findByAttr(tree, "data-field", "b")!), "z");
  assertEquals(findByAttr(tree, "data-field", "c"), undefined);
  assertEquals(findByAttr(tree, "data-field")?.attrs["data-field"], "a");
});
