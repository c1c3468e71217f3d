import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../data/locate.ts";
import { cnn7, resnet32, vgg16 } from "../../nn/architectures.ts";
import { allReluPlan, uniformPlan } from "../../nn/plan.ts";
import { DEFAULT_FRAC_BITS } from "../fixed.ts";
import { readPlan } from "./model.ts";
import { RING } from "../poly/ring.ts";
import { planSchedule } from "./schedule.ts";
import { heStatisticalDistance, inferenceStatisticalDistance } from "./security.ts";

Deno.test("statistical distance per inference: <= 2^-40 for the 80% plans of CNN-7, VGG-16 and ResNet-32", async () => {
  const shipped = await readPlan(join(REPO_ROOT, "data/plans/cnn7_uniform80_deg2.json"));
  const cnn = inferenceStatisticalDistance(cnn7(), shipped, DEFAULT_FRAC_BITS);
  assert.equal(cnn.polyNeurons, 137856);
  assert.ok(cnn.log2 < -46.7 && cnn.log2 > -46.9, `CNN-7: 2^${cnn.log2}`);
  for (const [graph, log2] of [[vgg16(), -46.1], [resnet32(), -46.0]] as const) {
    const sd = inferenceStatisticalDistance(graph, uniformPlan(graph, 0.8, 2), DEFAULT_FRAC_BITS);
    assert.ok(Math.abs(sd.log2 - log2) < 0.1, `${graph.name}: 2^${sd.log2}`);
  }
  // Linear in the activation bound: 2^-40 holds up to 2^16, not at 2^17.
  const at = (bound: number) =>
    inferenceStatisticalDistance(resnet32(), uniformPlan(resnet32(), 0.8, 2), 9, bound);
  assert.ok(at(2 ** 16).log2 <= -40 && at(2 ** 17).log2 > -40);
  assert.equal(inferenceStatisticalDistance(cnn7(), allReluPlan(cnn7()), 9).total, 0);
});

Deno.test("HE flooding over an inference: answers counted from the schedule, <= 2^-40 on all three networks", () => {
  const relu = heStatisticalDistance(planSchedule(cnn7(), allReluPlan(cnn7())));
  const plan80 = heStatisticalDistance(planSchedule(cnn7(), uniformPlan(cnn7(), 0.8, 2)));
  // CNN-7's linear answers (results/bench_he.json lists them per layer: 102 in all), then for
  // the 80% plan degree-2 correlations: per site, 2 answers per chunk of 8191 neurons per prime.
  assert.equal(relu.answers, 102);
  const sites = [[32, 32], [32, 32], [16, 16], [16, 16], [8, 8], [8, 8], [8, 8]];
  const chunks = sites.map(([h, w], i) => Math.ceil(h * w * (i === 6 ? 12 : 51) / 8191));
  assert.equal(plan80.answers, 102 + RING.length * 2 * chunks.reduce((a, b) => a + b, 0));
  for (const graph of [cnn7(), vgg16(), resnet32()]) {
    const sd = heStatisticalDistance(planSchedule(graph, uniformPlan(graph, 0.8, 3)));
    assert.ok(sd.log2 <= -40, `${graph.name}: ${sd.answers} answers, 2^${sd.log2}`);
  }
});
