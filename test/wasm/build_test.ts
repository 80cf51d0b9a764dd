import { assertEquals } from "../_util/assert.ts";
import { buildWasm } from "../../wasm/build.ts";

Deno.test("deno task build reproduces the committed sluice.wasm and sluice.wat byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-build-" });
  try {
    const { wasm, wat } = await buildWasm(dir);
    const committed = new URL("../../wasm/build/", import.meta.url);
    const wantWasm = await Deno.readFile(new URL("sluice.wasm", committed));
    const gotWasm = await Deno.readFile(wasm);
    assertEquals(gotWasm.length, wantWasm.length, "sluice.wasm size differs: run `deno task build`");
    assertEquals(gotWasm, wantWasm, "sluice.wasm bytes differ: run `deno task build`");
    assertEquals(
      await Deno.readTextFile(wat),
      await Deno.readTextFile(new URL("sluice.wat", committed)),
      "sluice.wat differs: run `deno task build`",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
