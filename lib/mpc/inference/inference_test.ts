import assert from "node:assert/strict";
import { Fp } from "../field.ts";
import { referenceForward } from "../quantize.ts";
import { randomServed, runPair, TestRandom } from "./testdata/networks.ts";
import { checkEveryOp } from "./testdata/check.ts";
import { InferenceServer, type ServedNetwork } from "./server.ts";
import { InferenceClient } from "./client.ts";
import { memoryChannelPair } from "../transport.ts";
import type { ChannelFunction } from "../../nn/fold.ts";
import type { InputOp } from "../../nn/graph.ts";
import { buildSchedule } from "./schedule.ts";
import { publicNetwork } from "./public.ts";
import { type Calibration, OPERATIONS, price as priceOf } from "../../cost/mod.ts";

/** Every operation free: pricing only counts (here, round trips). */
const ROUNDS_ONLY: Calibration = {
  name: "rounds only",
  source: "test",
  includesNetwork: false,
  units: Object.fromEntries(OPERATIONS.map((op) => [op, { seconds: 0, toServer: 0, toClient: 0 }])),
};

const ALL: readonly ChannelFunction[] = ["relu", 0, 1, 2, 3];

function images(served: ServedNetwork, count: number, seed: number): Float32Array[] {
  const [h, w, c] = (served.graph.ops[0] as InputOp).shape;
  const rng = new TestRandom(seed);
  return Array.from({ length: count }, () => rng.array(h * w * c, 2));
}

Deno.test("secure inference equals the fixed-point reference bit for bit on random all-ReLU graphs", async () => {
  for (const seed of [1, 3, 7]) {
    const served = randomServed(seed, ["relu"]);
    const xs = images(served, 2, seed);
    const run = await runPair(served, xs, seed);
    xs.forEach((x, i) => {
      const ref = referenceForward(served.net, served.graph, x);
      assert.deepEqual(Array.from(run.results[i].logits), Array.from(ref.logits), `graph ${seed} image ${i}`);
      checkEveryOp(served, run, x, i);
    });
  }
});

Deno.test("secure inference with ReLU, degree 0-3 channels mixed: every op matches the reference within bounds", async () => {
  let polyDifferences = 0;
  for (const seed of [2, 4, 5, 6]) {
    const served = randomServed(seed, ALL);
    const xs = images(served, 1, seed);
    const run = await runPair(served, xs, seed);
    polyDifferences += checkEveryOp(served, run, xs[0], 0);
    const ref = referenceForward(served.net, served.graph, xs[0]).logits;
    run.results[0].logits.forEach((v, i) =>
      assert.ok(Math.abs(v - ref[i]) < 0.25, `logit ${i}: ${v} vs ${ref[i]}`)
    );
  }
  // Share truncation does differ from the floor sometimes: the bound check above is not vacuous.
  assert.ok(polyDifferences > 0, "no polynomial output ever differed from the floor reference");
});

Deno.test("secure inference: ReLU and pruned channels only (no polynomials) stay bit-exact", async () => {
  const served = randomServed(8, ["relu", 0]);
  const xs = images(served, 1, 8);
  const run = await runPair(served, xs, 8);
  assert.deepEqual(
    Array.from(run.results[0].logits),
    Array.from(referenceForward(served.net, served.graph, xs[0]).logits),
  );
});

Deno.test("secure inference: time and bytes are counted per layer and phase; online input is the masked image only", async () => {
  const served = randomServed(9, ALL);
  const run = await runPair(served, images(served, 1, 9), 9);
  const stats = run.client.stats();
  const sections = new Set(stats.sections.map((s) => s.section));
  for (const op of served.graph.ops) {
    if (op.kind === "conv" || op.kind === "dense" || op.kind === "activation") {
      assert.ok(sections.has(op.id), op.id);
    }
  }
  const onlineLinear = stats.sections.filter((s) => s.phase === "online" && s.section.startsWith("conv"));
  assert.ok(onlineLinear.every((s) => s.bytesSent === 0), "linear layers send nothing online");
  assert.ok(stats.phases.offline.bytesSent > stats.phases.online.bytesSent);
  // Client's online upload of the input: one element of 6 bytes per input value, plus a header.
  const [h, w, c] = (served.graph.ops[0] as InputOp).shape;
  const input = stats.sections.find((s) => s.section === "input" && s.phase === "online")!;
  assert.ok(
    input.bytesSent >= h * w * c * Fp.bytesPerElement &&
      input.bytesSent < h * w * c * Fp.bytesPerElement + 64,
  );
});

Deno.test("offline phases can be prepared ahead, before the images are known, and used in order", async () => {
  const served = randomServed(10, ["relu", 0]);
  const xs = images(served, 2, 10);
  const [clientChannel, serverChannel] = memoryChannelPair();
  const [, results] = await Promise.all([
    (async () => {
      const server = await InferenceServer.open(serverChannel, served);
      await server.offline();
      await server.offline();
      await server.online();
      await server.online();
      await assert.rejects(server.online(), /needs a prepared offline phase/);
      server.close();
    })(),
    (async () => {
      const client = await InferenceClient.open(clientChannel);
      await client.offline();
      await client.offline();
      const first = await client.online(xs[0]);
      client.close(); // a prepared phase still runs after close; a new one does not
      const second = await client.online(xs[1]);
      await assert.rejects(client.offline(), /after close/);
      client.close(); // idempotent: the keys are not freed twice
      return [first, second];
    })(),
  ]);
  await Promise.all([clientChannel.close(), serverChannel.close()]);
  xs.forEach((x, i) =>
    assert.deepEqual(
      Array.from(results[i].logits),
      Array.from(referenceForward(served.net, served.graph, x).logits),
    )
  );
});

Deno.test("secure inference: each activation site's offline round trips are the cost model's", async () => {
  for (const seed of [9, 10]) {
    const served = randomServed(seed, ALL);
    const run = await runPair(served, images(served, 1, seed), seed);
    const price = priceOf(buildSchedule(publicNetwork(served.net, served.graph)), {
      variant: "lab",
      calibration: ROUNDS_ONLY,
    });
    const counted = run.client.stats().sections;
    for (const section of price.sections.filter((s) => s.kind === "activation")) {
      const cell = counted.find((c) => c.section === section.section && c.phase === "offline");
      assert.equal(cell?.roundTrips ?? 0, section.offline.rounds, `graph ${seed} ${section.section}`);
    }
  }
});
