import assert from "node:assert/strict";
import { runTool as run } from "./testdata/process.ts";

Deno.test("eval: a directory without a model is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run("eval.ts", [dir]);
    assert.equal(r.code, 1);
    assert.match(r.text, /no trained model in .*: model\.json is missing\. Train one with `deno task train/);
  } finally {
    await Deno.remove(dir);
  }
});
