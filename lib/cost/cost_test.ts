import assert from "node:assert/strict";
import type { Graph } from "../nn/graph.ts";
import { architecture, MODEL_NAMES } from "../nn/architectures.ts";
import { allReluPlan, countPlan, type Plan, uniformPlan } from "../nn/plan.ts";
import { PAPER_LATENCY_TABLES } from "../paper.ts";
import { toyCalibration, unit } from "./testdata/toy.ts";
import { countSchedule } from "./counts.ts";
import { nnls } from "./fit.ts";
import { LINKS, price } from "./model.ts";
import { fitPaperCalibration } from "./paper_fit.ts";
import { planSchedule } from "../mpc/inference/schedule.ts";
import { rotationCounts } from "./rotation_packing.ts";
import { sectionWork } from "./variants.ts";

/** input 4x4x2 -> conv 3x3 (3 filters) -> activation -> avgpool 2 -> dense 5. */
const tiny: Graph = {
  name: "tiny",
  ops: [
    { kind: "input", id: "in", inputs: [], shape: [4, 4, 2] },
    {
      kind: "conv",
      id: "c",
      inputs: ["in"],
      filters: 3,
      kernel: 3,
      stride: 1,
      padding: "same",
      useBias: true,
    },
    { kind: "activation", id: "a", inputs: ["c"], producer: "c" },
    { kind: "avgpool", id: "p", inputs: ["a"], size: 2 },
    { kind: "flatten", id: "f", inputs: ["p"] },
    { kind: "dense", id: "d", inputs: ["f"], units: 5, useBias: true },
  ],
} as Graph;

Deno.test("cost counts: a hand-computed small graph", () => {
  // alpha 2/3 of 3 channels -> 2 approximated channels x 16 positions, degree 3.
  const plan: Plan = { model: "tiny", sites: [{ alpha: 2 / 3, beta: 3 }] };
  const counts = countSchedule(planSchedule(tiny, plan));
  assert.deepEqual(counts.map((s) => [s.section, s.kind, s.elements]), [
    ["in", "input", 32],
    ["c", "linear", 48],
    ["a", "activation", 48],
    ["d", "linear", 5],
  ]);
  const conv = counts[1].linear!;
  assert.equal(conv.macs, 4 * 4 * 3 * 3 * 3 * 2, "h w cout k^2 cin");
  assert.deepEqual(conv.shape, { inChannels: 2, outChannels: 3, height: 4, width: 4, kernel: 3, stride: 1 });
  assert.deepEqual(counts[2].activation, {
    neurons: 48,
    relus: 16,
    poly: { 1: 0, 2: 0, 3: 32 },
    polyChunks: { 1: 0, 2: 0, 3: 1 },
    constants: 0,
  });
  assert.equal(counts[2].localElements, 2 * 2 * 3, "the pooling counts with the activation's section");
  assert.equal(counts[3].linear!.macs, 12 * 5);
  assert.deepEqual(counts[3].linear!.shape, {
    inChannels: 12,
    outChannels: 5,
    height: 1,
    width: 1,
    kernel: 1,
    stride: 1,
  });
});

Deno.test("cost counts: activation totals agree with countPlan on all three networks and random plans", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const model of MODEL_NAMES) {
    const graph = architecture(model);
    for (let trial = 0; trial < 3; trial++) {
      const plan: Plan = {
        model,
        sites: countPlan(graph, allReluPlan(graph)).sites.map(() => ({
          alpha: Math.round(rand() * 20) / 20,
          beta: ([0, 2, 3] as const)[Math.floor(rand() * 3)],
        })),
      };
      const want = countPlan(graph, plan);
      const acts = countSchedule(planSchedule(graph, plan)).filter((s) => s.activation).map((s) =>
        s.activation!
      );
      assert.equal(acts.reduce((n, a) => n + a.relus, 0), want.relus, `${model} ReLUs`);
      for (const d of [2, 3] as const) {
        assert.equal(
          acts.reduce((n, a) => n + a.poly[d], 0),
          want.approximatedByDegree[d],
          `${model} degree ${d}`,
        );
      }
      assert.equal(
        acts.reduce((n, a) => n + a.constants, 0),
        want.approximatedByDegree[0],
        `${model} pruned`,
      );
    }
  }
});

Deno.test("rotation packing: hand-computed counts", () => {
  const counts = countSchedule(planSchedule(tiny, allReluPlan(tiny)));
  // 4x4 images: 16 slots each, c_n = 4096 / 16 = 256 >= 2 channels: one input ciphertext.
  assert.deepEqual(rotationCounts(counts[1].linear!), {
    inputCiphertexts: 1,
    outputCiphertexts: 1,
    multiplies: 1 * 1 * 256 * 9,
    rotations: 256 * 9 - 1,
  });
  // Dense 12 -> 5: one multiply, log2(4096 / 5) rounded up = 10 folding rotations.
  assert.deepEqual(rotationCounts(counts[3].linear!), {
    inputCiphertexts: 1,
    outputCiphertexts: 1,
    multiplies: 1,
    rotations: 11,
  });
});

Deno.test("variants: what runs where", () => {
  const counts = countSchedule(planSchedule(tiny, { model: "tiny", sites: [{ alpha: 1, beta: 2 }] }));
  const act = counts[2];
  assert.deepEqual(sectionWork("delphi", act).offline.activation, { "poly2.offline": 48 });
  // This project's protocol pays its HE correlations per whole ciphertext chunk.
  assert.deepEqual(sectionWork("lab", act).offline.activation, {
    "poly2.offline": 48,
    "poly2.offline.chunk": 1,
  });
  assert.throws(() => sectionWork("gazelle", act), /ReLU only/);
  const mixed = countSchedule(planSchedule(tiny, { model: "tiny", sites: [{ alpha: 1 / 3, beta: 3 }] }))[2];
  assert.throws(() => sectionWork("delphi", mixed), /whole layers/);
  assert.deepEqual(sectionWork("safenet", mixed).online.activation, {
    "gc.relu.online": 32,
    "poly3.online": 16,
  });
  const conv = counts[1];
  assert.deepEqual(Object.keys(sectionWork("gazelle", conv).online.linear).sort(), [
    "rot.ciphertext",
    "rot.multiply",
    "rot.rotation",
  ]);
  assert.deepEqual(sectionWork("delphi", conv).online.linear, { "plain.mac": conv.linear!.macs });
  assert.deepEqual(Object.keys(sectionWork("lab", conv).offline.linear).sort(), [
    "lab.answer",
    "lab.kernel",
    "lab.product",
    "lab.query",
  ]);
});

Deno.test("price: unit costs, threads, bytes and the link add up as documented", () => {
  const calibration = toyCalibration({
    "lab.session": unit(0),
    "lab.query": unit(1, 100),
    "lab.kernel": unit(0),
    "lab.product": unit(0.1),
    "lab.answer": unit(2, 0, 50),
    "plain.mac": unit(1e-6),
    "share.element": unit(0, 6),
    "gc.relu.offline": unit(1e-3, 10, 1000),
    "gc.relu.online": unit(1e-4, 1, 100),
  });
  const schedule = planSchedule(tiny, allReluPlan(tiny));
  const counts = countSchedule(schedule);
  const conv = counts[1].linear!.packing, dense = counts[3].linear!.packing;
  const heSeconds = (p: typeof conv) => p.queryCiphertexts + 0.1 * p.products + 2 * p.answerCiphertexts;
  const loop = price(schedule, { variant: "lab", calibration });
  assert.ok(Math.abs(loop.offline.linear_s - (heSeconds(conv) + heSeconds(dense))) < 1e-12);
  assert.ok(Math.abs(loop.offline.activation_s - 48e-3) < 1e-12);
  assert.equal(loop.offline.bytes.toServer, 100 * (conv.queryCiphertexts + dense.queryCiphertexts) + 10 * 48);
  const two = price(schedule, { variant: "lab", calibration, threads: 2 });
  assert.ok(Math.abs(two.offline.activation_s - 24e-3) < 1e-12, "compute splits over threads");
  const wan = price(schedule, { variant: "lab", calibration, link: LINKS.wan });
  const wire = (48 * 1000) / LINKS.wan.bandwidth + 1 * LINKS.wan.rtt;
  assert.ok(Math.abs(wan.offline.activation_s - (48e-3 + wire)) < 1e-12, "bytes / bandwidth + rounds x rtt");
  assert.throws(() => price(schedule, { variant: "gazelle", calibration }), /no unit cost for 'rot\./);
  assert.throws(() => price(schedule, { variant: "lab", calibration, threads: 0 }), /threads/);
});

Deno.test("nnls: recovers non-negative coefficients and clamps negative ones to zero", () => {
  const a = [[1, 0], [0, 1], [1, 1]];
  assert.deepEqual(nnls(a, [2, 3, 5]).map((x) => Math.round(x * 1e9) / 1e9), [2, 3]);
  const x = nnls([[1, 1], [1, 2], [1, 3]], [3, 2, 1]); // unconstrained slope is -1
  assert.ok(x[1] === 0 && Math.abs(x[0] - 2) < 1e-9, `${x}`);
});

Deno.test("paper calibration: the stored fit is the fit of the paper's tables, with its residuals", async () => {
  const stored = JSON.parse(await Deno.readTextFile(new URL("./calibrations/paper.json", import.meta.url)));
  assert.deepEqual(
    stored,
    JSON.parse(JSON.stringify(fitPaperCalibration())),
    "run `tools/deno task calibrate`",
  );
  // The activation columns fit within 15%; the residuals say where the linear columns do not.
  for (const r of stored.residuals.filter((r: { observation: string }) => /Activation/.test(r.observation))) {
    assert.ok(Math.abs(r.relative) < 0.15, `${r.observation}: ${r.relative}`);
  }
  // SAFENet's rows are predictions: a SAFENet plan costs less activation time than Delphi's.
  const graph = architecture("cnn7");
  const safenet = price(planSchedule(graph, uniformPlan(graph, 0.8, 2)), {
    variant: "safenet",
    calibration: stored,
  });
  assert.ok(safenet.offline.activation_s < PAPER_LATENCY_TABLES.cnn7.rows.delphi.offlineActivation);
});
