import assert from "node:assert/strict";
import { searchCommand, searchResultName, searchRunName, specLabel } from "./options.ts";

Deno.test("search labels: default degrees keep the searcher's name; others add them; bad ones are errors", () => {
  assert.equal(specLabel({ searcher: "btpbt" }), "btpbt");
  assert.equal(specLabel({ searcher: "btpbt", degrees: [3, 0, 2] }), "btpbt");
  assert.equal(specLabel({ searcher: "btpbt", degrees: [2] }), "btpbt-d2");
  assert.equal(specLabel({ searcher: "pbt", degrees: [3, 2] }), "pbt-d23");
  assert.equal(specLabel({ searcher: "uniform", degrees: [2] }), "uniform");
  assert.equal(specLabel({ searcher: "uniform", degrees: [3] }), "uniform-d3");
  assert.equal(specLabel({ searcher: "delphi", degrees: [2] }), "delphi");
  assert.throws(
    () => specLabel({ searcher: "uniform", degrees: [2, 3] }),
    /uniform searcher takes a single degree/,
  );
  assert.throws(() => specLabel({ searcher: "delphi", degrees: [3] }), /degree-2 polynomials only/);
  assert.throws(() => specLabel({ searcher: "btpbt", degrees: [2, 2] }), /degrees must be distinct/);
  assert.throws(
    () => specLabel({ searcher: "drl", degrees: [4 as 2] }),
    /degrees must be distinct values of/,
  );
});

Deno.test("search labels: a cost other than the paper's names the run, the result and the command", () => {
  assert.equal(specLabel({ searcher: "btpbt", cost: "paper" }), "btpbt");
  assert.equal(specLabel({ searcher: "btpbt", cost: "lab-lan" }), "btpbt-lab-lan");
  assert.equal(specLabel({ searcher: "btpbt", degrees: [2], cost: "lab-wan" }), "btpbt-d2-lab-wan");
  const spec = { searcher: "pbt", degrees: [0, 2], cost: "lab-loopback" } as const;
  assert.equal(searchRunName(spec, "cnn7", "quick", 3), "pbt-d02-lab-loopback-cnn7-quick-s3");
  assert.equal(searchResultName(spec, "cnn7"), "search_pbt-d02-lab-loopback_cnn7");
  assert.equal(
    searchCommand(spec, "cnn7", "quick", 3),
    "deno task search --searcher pbt --degrees 0,2 --cost lab-loopback --model cnn7 --profile quick --seed 3",
  );
  assert.equal(
    searchCommand({ searcher: "drl" }, "cnn7", "long", 1),
    "deno task search --searcher drl --model cnn7 --profile long --seed 1",
  );
  assert.throws(
    () => specLabel({ searcher: "btpbt", cost: "lab-moon" as "paper" }),
    /--cost must be one of paper, lab-loopback/,
  );
});
