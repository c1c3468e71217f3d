import assert from "node:assert/strict";
import { displayBundle, inNotebook, JUPYTER_DISPLAY, showMarkdown, shown } from "./jupyter.ts";

// Inside the kernel these are exercised by tools/render_test.ts and lib/lab_test.ts.
Deno.test("inNotebook is false outside the Deno Jupyter kernel", () => {
  assert.equal(inNotebook(), false);
});

Deno.test("displayBundle outside the kernel fails with a clear message", () => {
  assert.throws(() => displayBundle({ "text/plain": "x" }), /not running in the Deno Jupyter kernel/);
});

Deno.test("a Shown displays as nothing once its output is sent, and as its error if that failed", async () => {
  assert.deepEqual(await shown(Promise.resolve())[JUPYTER_DISPLAY](), {});
  const failed = shown(Promise.reject(new Error("display failed")));
  await assert.rejects(failed[JUPYTER_DISPLAY](), /display failed/);
  await assert.rejects(failed, /display failed/);
});

Deno.test("showMarkdown prints outside a notebook and can be awaited", async () => {
  const logged: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => logged.push(...args);
  try {
    await showMarkdown("**x**");
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, ["**x**"]);
});
