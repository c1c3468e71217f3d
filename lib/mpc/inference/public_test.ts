import assert from "node:assert/strict";
import { memoryChannelPair, TransportError } from "../transport.ts";
import { quantizeNetwork, weightsHash } from "../quantize.ts";
import { DEFAULT_FRAC_BITS } from "../fixed.ts";
import { cnn7 } from "../../nn/architectures.ts";
import { allReluPlan, uniformPlan } from "../../nn/plan.ts";
import { CIFAR10_STATS } from "../../data/augment.ts";
import {
  acceptSession,
  checkPublicNetwork,
  OFFER_KIND,
  offerSession,
  planHash,
  publicNetwork,
  type SessionPins,
  siteLayout,
} from "./public.ts";
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
  assert.equal(got.weights, weightsHash(s.net));
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
    ["weights", { weights: "0".repeat(64) }, /weights: client has "0000/],
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
    ] as const
  ) {
    const [client, server] = memoryChannelPair({ client: { timeoutMs: 2000 }, server: { timeoutMs: 2000 } });
    const bytes = new TextEncoder().encode(typeof offer === "string" ? offer : JSON.stringify(offer));
    await server.send(OFFER_KIND, bytes);
    await assert.rejects(acceptSession(client), pattern);
    await Promise.all([client.close(), server.close()]);
  }
});

Deno.test("planHash depends on the plan's content only", () => {
  const graph = cnn7();
  assert.equal(planHash(allReluPlan(graph)), planHash(JSON.parse(JSON.stringify(allReluPlan(graph)))));
  assert.notEqual(planHash(allReluPlan(graph)), planHash(uniformPlan(graph, 0.5, 2)));
  assert.notEqual(planHash(uniformPlan(graph, 0.5, 2)), planHash(uniformPlan(graph, 0.5, 3)));
});
