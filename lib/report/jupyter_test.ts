import assert from "node:assert/strict";
import { displayBundle, inNotebook } from "./jupyter.ts";

// Inside the kernel these are exercised by tools/render_test.ts, which renders a notebook.
Deno.test("inNotebook is false outside the Deno Jupyter kernel", () => {
  assert.equal(inNotebook(), false);
});

Deno.test("displayBundle outside the kernel fails with a clear message", async () => {
  await assert.rejects(displayBundle({ "text/plain": "x" }), /not running in the Deno Jupyter kernel/);
});
