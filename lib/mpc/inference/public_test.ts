import assert from "node:assert/strict";
import { memoryChannelPair, PublicError, TransportError } from "../transport.ts";
import { quantizeNetwork, weightsFingerprint, weightsHash } from "../quantize.ts";
import { DEFAULT_FRAC_BITS } from "../fixed.ts";
import { cnn7 } from "../../nn/architectures.ts";
import type { InputOp } from "../../nn/graph.ts";
import { allReluPlan, uniformPlan } from "../../nn/plan.ts";
import { CIFAR10_STATS } from "../../data/augment.ts";
import {
  acceptSession,
  checkPublicNetwork,
  OFFER_KIND,
  offerSession,
  planHash,
  publicNetwork,
  SESSION_START_LIMITS,
  sessionLimits,
  type SessionPins,
  siteLayout,
  weightsCommitment,
} from "./public.ts";
import { INPUT_KIND } from "./steps.ts";
import { isTransportError } from "../transport/testdata/assertions.ts";
import { randomFolded, randomGraph, testPlan, TestRandom } from "./testdata/networks.ts";

function served(seed = 1) {
  const rng = new TestRandom(seed);
  const graph = randomGraph(rng);
  const net = quantizeNetwork(randomFolded(graph, rng, ["relu", 0, 2, 3]), graph);
  return { graph, net, plan: testPlan(graph) };
}

Deno.test("siteLayout splits a site's neurons by their channel's function", () => {
  const pub = {
    graph: cnn7(),
    fracBits: 8,
    masks: { act7: Array.from({ length: 16 }, (_, c) => (["relu", 0, 2, 3] as const)[c % 4]) },
  };
  const layout = siteLayout(pub, "act7");
  assert.equal(layout.size, 8 * 8 * 16);
  assert.equal(layout.relu.length, 256);
  assert.equal(layout.constant.length, 256);
  assert.deepEqual([...layout.poly.keys()], [2, 3]);
  assert.ok(Array.from(layout.poly.get(3)!).every((i) => i % 16 % 4 === 3));
  assert.equal(layout.relu[1], 4);
});

Deno.test("offer and accept: the client learns the public network and the hashes, nothing secret", async () => {
  const s = served();
  const [client, server] = memoryChannelPair();
  const [sent, got] = await Promise.all([offerSession(server, s), acceptSession(client)]);
  assert.deepEqual(got, JSON.parse(JSON.stringify(sent)));
  assert.deepEqual(got.network, JSON.parse(JSON.stringify(publicNetwork(s.net, s.graph))));
  assert.equal(got.weights.length, 64);
  assert.deepEqual(got.normalize, CIFAR10_STATS);
  checkPublicNetwork(got.network);
  // No weights, biases or coefficients travel in the offer.
  assert.ok(!JSON.stringify(got).includes("coefficients"));
  await Promise.all([client.close(), server.close()]);
});

for (
  const [what, pins, pattern] of [
    ["model", { model: "vgg16" }, /model: client has "vgg16", server has "tiny"/],
    [
      "plan",
      { plan: planHash(uniformPlan(cnn7(), 0.5, 2)) },
      /plan: client has "[0-9a-f]+", server has "[0-9a-f]+"/,
    ],
    ["weights", { weights: "0".repeat(64) }, /weights: client has "[0-9a-f]{64}", server has "[0-9a-f]{64}"/],
    [
      "fixed-point bits",
      { fracBits: 12 },
      new RegExp(`fracBits: client has 12, server has ${DEFAULT_FRAC_BITS}`),
    ],
  ] as const
) {
  Deno.test(`a ${what} mismatch fails the handshake on both sides, naming the difference`, async () => {
    const [client, server] = memoryChannelPair();
    const results = await Promise.allSettled([
      offerSession(server, served()),
      acceptSession(client, pins as SessionPins),
    ]);
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, "rejected");
      const error = (r as PromiseRejectedResult).reason;
      assert.ok(error instanceof TransportError && error.code === "handshake", String(error));
      assert.match(
        error.message,
        i === 0 ? /^server: handshake with client failed/ : /^client: handshake with server failed/,
      );
      assert.match(error.message, /the sessions differ/);
    }
    assert.match((results[1] as PromiseRejectedResult).reason.message, pattern);
    await Promise.all([client.close(), server.close()]);
  });
}

Deno.test("a malformed offer fails the client clearly", async () => {
  const s = served();
  const good = { network: publicNetwork(s.net, s.graph), normalize: CIFAR10_STATS, plan: "", weights: "" };
  const site = Object.keys(good.network.masks)[0];
  for (
    const [offer, pattern] of [
      ["{not json", /malformed \(.*JSON/],
      [
        { ...good, network: { ...good.network, graph: { name: "x", ops: [] } } },
        /must start with its input op/,
      ],
      [{ ...good, network: { ...good.network, masks: {} } }, new RegExp(`site '${site}' needs a mask`)],
      [{ ...good, network: { ...good.network, fracBits: "8" } }, /fracBits must be a positive integer/],
      [good, /weights commitment or salt is missing/],
    ] as const
  ) {
    const [client, server] = memoryChannelPair({ client: { timeoutMs: 2000 }, server: { timeoutMs: 2000 } });
    const bytes = new TextEncoder().encode(typeof offer === "string" ? offer : JSON.stringify(offer));
    await server.send(OFFER_KIND, bytes);
    // Public: the client may tell the server what was wrong with its own offer.
    await assert.rejects(acceptSession(client), (e) => e instanceof PublicError && pattern.test(e.message));
    await Promise.all([client.close(), server.close()]);
  }
});

/** Runs offer and accept over a fresh memory pair; returns both channels and the offer. */
async function startSession(s: ReturnType<typeof served>, pins: SessionPins = {}) {
  const [client, server] = memoryChannelPair();
  const [offer] = await Promise.all([offerSession(server, s), acceptSession(client, pins)]);
  return { client, server, offer };
}

Deno.test("the weights commitment is salted per session and keyed: pinned clients check it, guessers cannot", async () => {
  const key = new Uint8Array(32).fill(7);
  const s = { ...served(), weightsKey: key };
  const fingerprint = weightsFingerprint(s.net, key);
  const first = await startSession(s, { weights: fingerprint });
  const second = await startSession(s, { weights: fingerprint });
  // Fresh salt per session: two sessions of the same weights cannot be linked.
  assert.notEqual(first.offer.weightsSalt, second.offer.weightsSalt);
  assert.notEqual(first.offer.weights, second.offer.weights);
  for (const { offer } of [first, second]) {
    assert.equal(offer.weights, weightsCommitment(fingerprint, offer.weightsSalt));
    // A client holding the very weights (a public checkpoint it guessed) cannot recompute it
    // without the server's key.
    assert.notEqual(offer.weights, weightsCommitment(weightsHash(s.net), offer.weightsSalt));
    assert.ok(!JSON.stringify(offer).includes(weightsHash(s.net)));
    assert.ok(!JSON.stringify(offer).includes(fingerprint));
  }
  assert.notEqual(
    weightsFingerprint(s.net, new Uint8Array(32)),
    fingerprint,
    "the fingerprint depends on the key",
  );
  for (const { client, server } of [first, second]) await Promise.all([client.close(), server.close()]);
});

Deno.test("session limits: kilobytes before the handshake, what the public network needs after", async () => {
  // Before the handshake: a hello of 20 KiB is refused before its payload is read.
  const [client, server] = memoryChannelPair();
  const offering = offerSession(server, served());
  await client.recv(OFFER_KIND);
  await client.send("hello", new Uint8Array(20 << 10));
  await assert.rejects(
    offering,
    isTransportError("oversized", `frame "hello" announces 20480`, "limit of 16384"),
  );
  assert.ok(server.largestAllocation < 20 << 10, `allocated ${server.largestAllocation} bytes`);
  await Promise.all([client.close(), server.close()]);
  assert.equal(SESSION_START_LIMITS.default, 16 << 10);

  // After it: the input share exactly, anything else up to the derived default.
  const s = served();
  const limits = sessionLimits(publicNetwork(s.net, s.graph));
  const [h, w, c] = (s.graph.ops[0] as InputOp).shape;
  assert.equal(limits.kinds?.[INPUT_KIND], 6 * h * w * c);
  const session = await startSession(s);
  await session.client.send(INPUT_KIND, new Uint8Array(6 * h * w * c));
  await session.server.recv(INPUT_KIND);
  await assert.rejects(
    session.client.send("he.linear.answer", new Uint8Array(limits.default + 1)),
    isTransportError("oversized", `over its limit of ${limits.default}`),
  );
  await assert.rejects(
    session.client.send(INPUT_KIND, new Uint8Array(6 * h * w * c + 1)),
    isTransportError("oversized", `over its limit of ${6 * h * w * c}`),
  );
  await Promise.all([session.client.close(), session.server.close()]);
});

Deno.test("sessionLimits of CNN-7: 48 MiB a message, never over the transport's default", () => {
  const graph = cnn7();
  const pub = { graph, fracBits: 9, masks: {} };
  assert.equal(sessionLimits(pub).default, (16 << 20) + 512 * 32 * 32 * 64);
  const huge = {
    ...pub,
    graph: {
      ...graph,
      ops: graph.ops.map((op) => op.kind === "input" ? { ...op, shape: [1 << 20, 1 << 20, 3] } : op),
    },
  };
  assert.equal(sessionLimits(huge as typeof pub).kinds?.[INPUT_KIND], 1 << 30);
});

Deno.test("planHash depends on the plan's content only", () => {
  const graph = cnn7();
  assert.equal(planHash(allReluPlan(graph)), planHash(JSON.parse(JSON.stringify(allReluPlan(graph)))));
  assert.notEqual(planHash(allReluPlan(graph)), planHash(uniformPlan(graph, 0.5, 2)));
  assert.notEqual(planHash(uniformPlan(graph, 0.5, 2)), planHash(uniformPlan(graph, 0.5, 3)));
});
