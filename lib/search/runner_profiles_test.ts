import assert from "node:assert/strict";
import { btpbtTree, siblingPairs } from "./btpbt.ts";
import { cyclesWithin } from "./options.ts";
import { SEARCH_PROFILES, searchProfile } from "./runner_profiles.ts";

Deno.test("searchProfile: CNN-7's profiles as they stand; deeper networks' budgets fit every BTPBT stage", () => {
  for (const name of ["smoke", "quick", "long", "paper"] as const) {
    assert.equal(searchProfile(name, "cnn7"), SEARCH_PROFILES[name]);
    assert.equal(searchProfile(name, "vgg16").population, SEARCH_PROFILES[name].population);
  }
  assert.equal(searchProfile("paper", "resnet32"), SEARCH_PROFILES.paper);
  // ResNet-32: 31 tree PBTs and the global PBT's two shares; VGG-16: 14 and 2.
  assert.equal(1 + siblingPairs(btpbtTree(31)).length, 31);
  assert.equal(1 + siblingPairs(btpbtTree(14)).length, 14);
  const cycle = (p: { population: number; interval: number }) => p.population * p.interval;
  const smoke = searchProfile("smoke", "resnet32");
  assert.equal(smoke.budgetImages, 33 * cycle(smoke));
  const long = searchProfile("long", "vgg16");
  assert.equal(long.budgetImages, 2 * 16 * cycle(long));
  // The budget split BTPBT makes (lib/search/btpbt.ts) leaves each stage one cycle at smoke.
  const stageImages = Math.floor(smoke.budgetImages * 20 / (20 * 31 + 40));
  assert.equal(cyclesWithin("test", stageImages, smoke.population, smoke.interval), 1);
});
