import assert from "node:assert/strict";
import { architecture, MODEL_NAMES } from "../../nn/architectures.ts";
import { activationSites, type InputOp } from "../../nn/graph.ts";
import { countPlan, type Plan } from "../../nn/plan.ts";
import { countSchedule } from "../../cost/counts.ts";
import { reluTraffic } from "../gc/protocol.ts";
import { linearTraffic } from "../he/linear.ts";
import { heContext } from "../he/seal.ts";
import { buildSchedule, planSchedule } from "./schedule.ts";
import { publicNetwork } from "./public.ts";
import { randomServed, runPair, TestRandom } from "./testdata/networks.ts";

function randomPlan(model: string, sites: number, rng: TestRandom): Plan {
  return {
    model,
    sites: Array.from({ length: sites }, () => ({
      alpha: Math.round(rng.next() * 20) / 20,
      beta: ([0, 1, 2, 3] as const)[Math.floor(rng.next() * 4)],
    })),
  };
}

Deno.test("schedule: every op once, in graph order, with its sub-protocol; sites split as the plan says", () => {
  const rng = new TestRandom(11);
  for (const model of MODEL_NAMES) {
    const graph = architecture(model);
    for (let trial = 0; trial < 3; trial++) {
      const plan = randomPlan(model, activationSites(graph).length, rng);
      const schedule = planSchedule(graph, plan);
      assert.deepEqual(schedule.steps.map((s) => s.op), graph.ops);
      const kinds = new Map([["conv", "he-linear"], ["dense", "he-linear"], ["activation", "activation"]]);
      for (const step of schedule.steps) {
        assert.equal(
          step.kind === "he-linear" || step.kind === "activation",
          kinds.has(step.op.kind),
          step.op.id,
        );
      }
      const counts = countPlan(graph, plan);
      const acts = schedule.steps.filter((s) => s.kind === "activation");
      acts.forEach((step, i) => {
        if (step.kind !== "activation") return;
        const site = counts.sites[i];
        assert.equal(step.layout.relu.length, site.relus, `${model} ${site.id} ReLUs`);
        const approximated = step.poly.reduce((n, b) => n + b.indices.length, 0) +
          step.layout.constant.length;
        assert.equal(approximated, site.approximatedNeurons, `${model} ${site.id} approximated`);
      });
      assert.equal(schedule.output, graph.ops.at(-1)!.id);
    }
  }
});

Deno.test("schedule: both parties and the cost model agree on every op (sections, HE and garbled-circuit bytes)", async () => {
  const he = await heContext();
  let checkedRelu = 0, checkedLinear = 0;
  for (const [seed, functions] of [[3, ["relu", 0, 2, 3]], [5, ["relu"]]] as const) {
    const served = randomServed(seed, functions);
    const schedule = buildSchedule(publicNetwork(served.net, served.graph));
    const [h, w, c] = (served.graph.ops[0] as InputOp).shape;
    const run = await runPair(served, [new Float32Array(h * w * c).fill(0.5)], seed);
    const client = run.client.stats(), server = run.server.stats();
    // The sections both parties counted are the schedule's, and the cost model's.
    const scheduled = [
      ...new Set(
        schedule.steps.filter((s) =>
          s.kind !== "identity" && s.kind !== "pool" &&
          s.kind !== "add"
        ).map((s) => s.section),
      ),
    ];
    // Sections each party counted (in the schedule's order; the server's offline phase has no input).
    const sections = (stats: typeof client) => {
      const seen = new Set(stats.sections.map((s) => s.section));
      return scheduled.filter((s) => seen.has(s)).concat([...seen].filter((s) =>
        !scheduled.includes(s) &&
        !s.startsWith("(") && s !== "setup"
      ));
    };
    assert.deepEqual(sections(client), scheduled);
    assert.deepEqual(sections(server), scheduled);
    assert.deepEqual(countSchedule(schedule).map((s) => s.section), scheduled);
    const cell = (section: string, phase: "offline" | "online") =>
      client.sections.find((s) => s.section === section && s.phase === phase)!;
    for (const step of schedule.steps) {
      if (step.kind === "he-linear") {
        // HE linear layers: exactly the bytes the cost model's formula gives.
        const t = linearTraffic(he, step.packing), got = cell(step.section, "offline");
        assert.deepEqual({ toServer: got.bytesSent, toClient: got.bytesReceived }, t, step.section);
        checkedLinear++;
      }
      if (step.kind === "activation" && step.poly.length === 0 && step.layout.relu.length > 0) {
        // ReLU-only sites online: the labels of the server's share, per ReLU, plus headers.
        const per = reluTraffic({ shift: served.net.fracBits });
        const got = cell(step.section, "online").bytesReceived;
        const want = per.online.toClient * step.layout.relu.length;
        assert.ok(got >= want && got < want + 256, `${step.section}: ${got} vs ${want}`);
        checkedRelu++;
      }
    }
  }
  assert.ok(
    checkedLinear > 2 && checkedRelu > 0,
    `${checkedLinear} linear, ${checkedRelu} ReLU sections checked`,
  );
});
