import assert from "node:assert/strict";
import type { ConvOp, DenseOp, Shape } from "../../nn/graph.ts";
import { Fp } from "../field.ts";
import { Prg } from "../prg.ts";
import { convGeometry, geometryInput, geometryKernel, type LinearLayer } from "./layer.ts";
import {
  choosePacking,
  type Packing,
  packingCost,
  packingWith,
  packInput,
  packKernel,
  polyIndex,
  unpackOutput,
} from "./packing.ts";
import { plainLinear } from "./plain.ts";

const prg = new Prg(new Uint8Array(16).fill(21));

/** a * b in F_p[X] / (X^N + 1), naive over b's non-zero coefficients. */
function negacyclic(a: Float64Array, b: Float64Array): Float64Array {
  const n = a.length, out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (b[j] === 0) continue;
    for (let i = 0; i < n; i++) {
      const e = i + j, v = Fp.mul(a[i], b[j]);
      if (e < n) out[e] = Fp.add(out[e], v);
      else out[e - n] = Fp.sub(out[e - n], v);
    }
  }
  return out;
}

/** The layer evaluated through the packing with plaintext polynomial arithmetic. */
function throughPacking(
  layer: LinearLayer,
  pk: Packing,
  x: Float64Array,
  kernel: Float64Array,
): Float64Array {
  const g = pk.geometry;
  const inputs = packInput(pk, geometryInput(layer, g, x));
  const kz = geometryKernel(layer, g, kernel);
  const answers: Float64Array[] = [];
  for (let t = 0; t < pk.tiles; t++) {
    for (let og = 0; og < pk.outputGroups; og++) {
      let acc: Float64Array = new Float64Array(pk.degree);
      for (let cg = 0; cg < pk.channelGroups; cg++) {
        const kp = packKernel(pk, kz, cg, og);
        if (kp) acc = Fp.addVec(acc, negacyclic(inputs[polyIndex(t, cg, pk.channelGroups)], kp));
      }
      answers.push(acc);
    }
  }
  return unpackOutput(pk, answers);
}

function conv(filters: number, kernel: number, stride: number): ConvOp {
  return { kind: "conv", id: "c", inputs: [], filters, kernel, stride, padding: "same", useBias: false };
}

const cases: [string, LinearLayer][] = [
  ["conv3 s1", { op: conv(5, 3, 1), inputShape: [6, 6, 3] }],
  ["conv1 s1", { op: conv(4, 1, 1), inputShape: [5, 5, 6] }],
  ["conv3 s2", { op: conv(3, 3, 2), inputShape: [8, 8, 2] }],
  ["conv1 s2", { op: conv(3, 1, 2), inputShape: [6, 6, 2] }],
  ["dense", {
    op: { kind: "dense", id: "d", inputs: [], units: 9 } as DenseOp,
    inputShape: [1, 1, 40] as Shape,
  }],
];

for (const [name, layer] of cases) {
  Deno.test(`packing: ${name} through every small packing equals plainLinear`, () => {
    const g = convGeometry(layer);
    const x = Fp.random(layer.inputShape[0] * layer.inputShape[1] * layer.inputShape[2], prg);
    const kn = layer.op.kind === "conv"
      ? layer.op.kernel ** 2 * layer.inputShape[2] * layer.op.filters
      : 40 * 9;
    const kernel = Fp.fromSignedVec(Array.from(prg.int32s(kn), (v) => v % 100));
    const want = plainLinear(layer, { kernel }, x);
    const degree = 256;
    let tried = 0;
    for (let rows = 1; rows <= g.outHeight; rows++) {
      for (let cb = 1; cb <= g.channels; cb++) {
        if ((rows + g.kernel - 1) * g.width * cb > degree) break;
        if ((rows + cb) % 2 && tried > 3) continue; // a spread of packings keeps the test fast
        const pk = packingWith(g, degree, rows, cb);
        assert.deepEqual(
          throughPacking(layer, pk, x, kernel),
          want,
          `rows ${rows} cb ${cb} mb ${pk.outputsPerPoly}`,
        );
        tried++;
      }
    }
    assert.ok(tried >= 3);
    assert.deepEqual(throughPacking(layer, choosePacking(g, degree), x, kernel), want);
  });
}

Deno.test("packing: choosePacking for CNN-7's 32x32x64 -> 64 conv fits N and beats the extremes", () => {
  const g = convGeometry({ op: conv(64, 3, 1), inputShape: [32, 32, 64] });
  const pk = choosePacking(g);
  assert.ok(pk.channelsPerBlock * pk.blockRows * pk.blockWidth * pk.outputsPerPoly <= 8192);
  for (const cb of [1, 7]) assert.ok(packingCost(pk) <= packingCost(packingWith(g, 8192, 32, cb)));
  // The product count cannot beat the volume bound C * M * Hb * Wb / N.
  assert.ok(pk.products >= Math.floor(64 * 64 * 34 * 34 / 8192));
});

Deno.test("packing: kernels of all-zero weights are reported as null", () => {
  const layer: LinearLayer = { op: conv(2, 3, 1), inputShape: [4, 4, 1] };
  const g = convGeometry(layer);
  const pk = choosePacking(g, 256);
  assert.equal(packKernel(pk, new Float64Array(18), 0, 0), null);
});
