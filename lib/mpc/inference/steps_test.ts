import assert from "node:assert/strict";
import { Fp } from "../field.ts";
import { Prg } from "../prg.ts";
import { share } from "../sharing.ts";
import { plainLinear } from "../he/plain.ts";
import { resnet32 } from "../../nn/architectures.ts";
import { alignShares, deriveSeed } from "./steps.ts";
import { buildSchedule } from "./schedule.ts";
import { activationSites, type Graph } from "../../nn/graph.ts";

const allReluMasks = (graph: Graph) =>
  Object.fromEntries(activationSites(graph).map((s) => [s.id, Array(s.channels).fill("relu")]));
import { tensorScales } from "../quantize.ts";

Deno.test("alignShares: shares of a residual add reconstruct 2^f x (f-bit input) + (2f-bit input)", () => {
  const graph = resnet32();
  const add = graph.ops.find((op) => op.kind === "add")!;
  const scales = tensorScales(graph, 8);
  const [convId, shortcutId] = add.inputs;
  assert.equal(scales.get(convId)!.bits, 16);
  assert.equal(scales.get(shortcutId)!.bits, 8);
  const prg = new Prg(new Uint8Array(16).fill(4));
  const conv = Fp.fromSignedVec([1000, -70000, 5]);
  const shortcut = Fp.fromSignedVec([3, -2, -1]);
  const [a, b] = [share(conv, prg), share(shortcut, prg)];
  const server = alignShares(scales, add, new Map([[convId, a.server], [shortcutId, b.server]]));
  const client = alignShares(scales, add, new Map([[convId, a.client], [shortcutId, b.client]]));
  assert.deepEqual(Array.from(Fp.toSignedVec(Fp.addVec(server, client))), [
    1000 + 768,
    -70000 - 512,
    5 - 256,
  ]);
});

Deno.test("pooling steps: pooling on each share sums windows of the reconstructed value", () => {
  const graph = resnet32();
  const step = buildSchedule({ graph, fracBits: 9, masks: allReluMasks(graph) }).steps.find((s) =>
    s.op.kind === "globalavgpool"
  )!;
  assert.equal(step.kind, "pool");
  const layer = (step as Extract<typeof step, { kind: "pool" }>).layer;
  assert.deepEqual(layer.inputShape, [8, 8, 64]);
  const prg = new Prg(new Uint8Array(16).fill(5));
  const x = Fp.fromSignedVec(Array.from({ length: 8 * 8 * 64 }, (_, i) => (i % 7) - 3));
  const { server, client } = share(x, prg);
  const sum = Fp.addVec(plainLinear(layer, undefined, server), plainLinear(layer, undefined, client));
  assert.deepEqual(Array.from(sum), Array.from(plainLinear(layer, undefined, x)));
});

Deno.test("deriveSeed gives independent 16-byte streams per label", () => {
  const seed = new Uint8Array(16).fill(7);
  const [a, b] = [deriveSeed(seed, "masks"), deriveSeed(seed, "gc")];
  assert.equal(a.length, 16);
  assert.notDeepEqual(a, b);
  assert.deepEqual(a, deriveSeed(new Uint8Array(16).fill(7), "masks"));
});
