import assert from "node:assert/strict";
import type { ConvOp, DenseOp, Shape } from "../../nn/graph.ts";
import { Fp, P } from "../field.ts";
import { Prg } from "../prg.ts";
import type { LinearLayer } from "./layer.ts";
import { outputShape } from "./layer.ts";
import { plainLinear } from "./plain.ts";

const prg = new Prg(new Uint8Array(16).fill(11));
const p = BigInt(P);

function conv(filters: number, kernel: number, stride: number, padding: "same" | "valid" = "same"): ConvOp {
  return { kind: "conv", id: "c", inputs: ["x"], filters, kernel, stride, padding, useBias: true };
}

/** Small signed weights as field elements. */
function smallWeights(n: number, bound: number): Float64Array {
  const words = prg.int32s(n);
  return Fp.fromSignedVec(Array.from(words, (v) => v % bound));
}

/** Direct BigInt convolution with TensorFlow padding, HWC input, [kh][kw][cin][cout] kernel. */
function referenceConv(shape: Shape, op: ConvOp, x: Float64Array, kernel: Float64Array, bias?: Float64Array) {
  const [h, w, c] = shape, k = op.kernel, s = op.stride, m = op.filters;
  const [oh, ow] = outputShape({ op, inputShape: shape });
  const pt = op.padding === "same" ? Math.floor(Math.max((oh - 1) * s + k - h, 0) / 2) : 0;
  const pl = op.padding === "same" ? Math.floor(Math.max((ow - 1) * s + k - w, 0) / 2) : 0;
  const out = new Float64Array(oh * ow * m);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < m; o++) {
        let acc = bias ? BigInt(bias[o]) : 0n;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const iy = oy * s + ky - pt, ix = ox * s + kx - pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let ci = 0; ci < c; ci++) {
              acc += BigInt(x[(iy * w + ix) * c + ci]) * BigInt(kernel[((ky * k + kx) * c + ci) * m + o]);
            }
          }
        }
        out[(oy * ow + ox) * m + o] = Number(acc % p);
      }
    }
  }
  return out;
}

for (
  const [shape, op] of [
    [[8, 8, 3], conv(4, 3, 1)],
    [[8, 8, 3], conv(5, 1, 1)],
    [[8, 8, 2], conv(3, 3, 2)],
    [[7, 9, 2], conv(3, 3, 2)],
    [[8, 8, 2], conv(3, 1, 2)],
    [[6, 6, 2], conv(2, 3, 1, "valid")],
    [[9, 9, 2], conv(2, 5, 1)],
  ] as [Shape, ConvOp][]
) {
  Deno.test(`plainLinear: conv k${op.kernel} s${op.stride} ${op.padding} on ${shape.join("x")} matches BigInt`, () => {
    const layer: LinearLayer = { op, inputShape: shape };
    const x = Fp.random(shape[0] * shape[1] * shape[2], prg);
    const kernel = smallWeights(op.kernel * op.kernel * shape[2] * op.filters, 300);
    const bias = Fp.random(op.filters, prg);
    assert.deepEqual(plainLinear(layer, { kernel, bias }, x), referenceConv(shape, op, x, kernel, bias));
  });
}

Deno.test("plainLinear: full-range weights take the split path and stay exact", () => {
  const shape: Shape = [5, 5, 4];
  const op = conv(3, 3, 1);
  const x = Fp.random(100, prg), kernel = Fp.random(9 * 4 * 3, prg);
  kernel[0] = P - 1;
  assert.deepEqual(
    plainLinear({ op, inputShape: shape }, { kernel }, x),
    referenceConv(shape, op, x, kernel),
  );
});

Deno.test("plainLinear: dense reads the HWC-flattened input and equals a 1x1 conv", () => {
  const op: DenseOp = { kind: "dense", id: "d", inputs: ["f"], units: 7 };
  const shape: Shape = [1, 1, 300];
  const x = Fp.random(300, prg), kernel = smallWeights(300 * 7, 1000), bias = Fp.random(7, prg);
  const got = plainLinear({ op, inputShape: shape }, { kernel, bias }, x);
  assert.deepEqual(got, referenceConv(shape, conv(7, 1, 1), x, kernel, bias));
});

Deno.test("plainLinear: pooling sums windows; globalavgpool sums the image", () => {
  const x = Fp.fromSignedVec(Array.from({ length: 4 * 4 * 2 }, (_, i) => i - 10));
  const pooled = Fp.toSignedVec(
    plainLinear(
      { op: { kind: "avgpool", id: "p", inputs: [], size: 2 }, inputShape: [4, 4, 2] },
      undefined,
      x,
    ),
  );
  // window (0,0): pixels (0,0),(0,1),(1,0),(1,1) -> channel 0 values i = 0, 2, 8, 10 minus 10 each.
  assert.equal(pooled[0], 0 + 2 + 8 + 10 - 40);
  assert.equal(pooled.length, 2 * 2 * 2);
  const g = Fp.toSignedVec(
    plainLinear({ op: { kind: "globalavgpool", id: "g", inputs: [] }, inputShape: [4, 4, 2] }, undefined, x),
  );
  let s0 = 0;
  for (let i = 0; i < 32; i += 2) s0 += i - 10;
  assert.equal(g[0], s0);
});

Deno.test("plainLinear: rejects wrong input and weight sizes", () => {
  const layer: LinearLayer = { op: conv(2, 3, 1), inputShape: [4, 4, 1] };
  assert.throws(
    () => plainLinear(layer, { kernel: new Float64Array(18) }, new Float64Array(15)),
    /input has 15/,
  );
  assert.throws(
    () => plainLinear(layer, { kernel: new Float64Array(17) }, new Float64Array(16)),
    /kernel has 17/,
  );
  assert.throws(() => plainLinear(layer, undefined, new Float64Array(16)), /needs weights/);
});

Deno.test("plainLinear: 'same' padding and strides agree with TensorFlow.js conv2d", async () => {
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  for (
    const [shape, op] of [[[8, 8, 2], conv(3, 3, 2)], [[7, 6, 2], conv(2, 3, 2)], [
      [6, 6, 1],
      conv(2, 4, 1),
    ]] as [Shape, ConvOp][]
  ) {
    const n = shape[0] * shape[1] * shape[2], kn = op.kernel * op.kernel * shape[2] * op.filters;
    const xs = Array.from(prg.int32s(n), (v) => v % 50), ks = Array.from(prg.int32s(kn), (v) => v % 20);
    const want = tf.conv2d(
      tf.tensor3d(xs, shape as [number, number, number]),
      tf.tensor4d(ks, [op.kernel, op.kernel, shape[2], op.filters]),
      op.stride,
      "same",
    ).dataSync();
    const got = Fp.toSignedVec(
      plainLinear({ op, inputShape: shape }, { kernel: Fp.fromSignedVec(ks) }, Fp.fromSignedVec(xs)),
    );
    assert.deepEqual(Array.from(got), Array.from(want));
  }
});
