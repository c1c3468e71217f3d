import assert from "node:assert/strict";
import { REPO_ROOT } from "../data/locate.ts";
import { checkName, FIGURES_DIR, RESULTS_DIR } from "./paths.ts";

Deno.test("output directories are under the repository root, whatever the working directory", () => {
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
