import assert from "node:assert/strict";
import { experimentByName, EXPERIMENTS } from "./registry.ts";

Deno.test("registry: unique names, titles, and lookup by name", () => {
  const names = EXPERIMENTS.map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("fig2_relu_distribution"));
  for (const e of EXPERIMENTS) {
    assert.ok(e.title.length > 0);
    assert.equal(experimentByName(e.name), e);
  }
  assert.throws(
    () => experimentByName("nope"),
    /unknown experiment 'nope': known are .*fig2_relu_distribution/,
  );
});
