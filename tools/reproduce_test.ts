/**
 * `reproduce --profile smoke` writes its own result and figure files, leaves every other
 * profile's alone, and writes the same figure bytes every run.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { runTool } from "./testdata/process.ts";

/** sha256 of every file in results/ and figures/, by path. */
async function hashes(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const dir of ["results", "figures"]) {
    for await (const entry of Deno.readDir(join(REPO_ROOT, dir))) {
      if (!entry.isFile) continue;
      const bytes = await Deno.readFile(join(REPO_ROOT, dir, entry.name));
      files.set(`${dir}/${entry.name}`, createHash("sha256").update(bytes).digest("hex"));
    }
  }
  return files;
}

Deno.test("reproduce --profile smoke keeps other profiles' files and writes byte-stable figures", async () => {
  const before = await hashes();
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const { code, text } = await runTool("reproduce.ts", ["--profile", "smoke", "--no-render"]);
    assert.equal(code, 0, text);
    runs.push(await hashes());
  }
  const smoke = (path: string) => /_smoke\.[a-z]+$/.test(path);
  for (const [path, hash] of before) {
    if (!smoke(path)) assert.equal(runs[1].get(path), hash, `${path} changed`);
  }
  const figures = [...runs[1].keys()].filter((p) => p.startsWith("figures/") && p.endsWith("_smoke.svg"));
  assert.ok(figures.length >= 1, "the smoke run writes figures");
  for (const path of figures) {
    assert.equal(runs[1].get(path), runs[0].get(path), `${path} differs between runs`);
  }
});
