import assert from "node:assert/strict";
import { checkName, FIGURES_DIR, REPO_ROOT, RESULTS_DIR, writeTextAtomic } from "./paths.ts";

Deno.test("REPO_ROOT is the directory holding deno.json, whatever the working directory", () => {
  assert.ok(Deno.statSync(`${REPO_ROOT}/deno.json`).isFile);
  assert.equal(RESULTS_DIR, `${REPO_ROOT}/results`);
  assert.equal(FIGURES_DIR, `${REPO_ROOT}/figures`);
});

Deno.test("checkName accepts file stems and rejects paths", () => {
  assert.equal(checkName("fig2_relu-distribution.v1"), "fig2_relu-distribution.v1");
  for (const bad of ["../x", "a/b", "", ".hidden", "a b"]) {
    assert.throws(() => checkName(bad), /invalid output name/);
  }
});

Deno.test("writeTextAtomic creates directories and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTextAtomic(`${dir}/sub/f.txt`, "hello");
    assert.equal(await Deno.readTextFile(`${dir}/sub/f.txt`), "hello");
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["f.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
