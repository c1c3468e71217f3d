import assert from "node:assert/strict";
import { searchVariant } from "./options.ts";

Deno.test("search variants: default degrees keep the searcher's name; others add them; bad ones are errors", () => {
  assert.equal(searchVariant("btpbt"), "btpbt");
  assert.equal(searchVariant("btpbt", [3, 0, 2]), "btpbt");
  assert.equal(searchVariant("btpbt", [2]), "btpbt-d2");
  assert.equal(searchVariant("pbt", [3, 2]), "pbt-d23");
  assert.equal(searchVariant("uniform", [2]), "uniform");
  assert.equal(searchVariant("uniform", [3]), "uniform-d3");
  assert.equal(searchVariant("delphi", [2]), "delphi");
  assert.throws(() => searchVariant("uniform", [2, 3]), /uniform searcher takes a single degree/);
  assert.throws(() => searchVariant("delphi", [3]), /degree-2 polynomials only/);
  assert.throws(() => searchVariant("btpbt", [2, 2]), /degrees must be distinct/);
  assert.throws(() => searchVariant("drl", [4 as 2]), /degrees must be distinct values of/);
});
