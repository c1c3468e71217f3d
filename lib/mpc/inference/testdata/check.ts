/**
 * The per-op check of a secure run against the fixed-point reference, for tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Fp } from "../../field.ts";
import { encodeFixed } from "../../fixed.ts";
import {
  activationReference,
  poolWindow,
  type QuantizedActivation,
  type QuantizedLinear,
} from "../../quantize.ts";
import { resolvePolyLayout } from "../../poly/layout.ts";
import { inferShapes } from "../../../nn/graph.ts";
import { convAccumulate, sumPool } from "../../../nn/linear.ts";
import type { ServedNetwork } from "../server.ts";
import type { PairRun } from "./networks.ts";

/** Largest |p'(y)| for |y| <= bound: sum_k k |c_k| bound^(k-1). */
function derivativeBound(coefficients: readonly number[], bound: number): number {
  return coefficients.reduce((sum, c, k) => sum + (k === 0 ? 0 : k * Math.abs(c) * bound ** (k - 1)), 0);
}

/**
 * Checks every op's reconstructed value (server share + client share) against the reference
 * step applied to the reconstructed inputs: linear and local ops, ReLU and degree-0 channels
 * exactly; polynomial channels within the protocol's truncation bound. Returns how many
 * polynomial outputs differed from the floor reference (by at most the bound).
 */
export function checkEveryOp(
  served: ServedNetwork,
  run: PairRun,
  image: Float32Array,
  index: number,
): number {
  const { graph, net } = served;
  const f = net.fracBits;
  const value = (id: string) =>
    Fp.toSignedVec(Fp.addVec(run.serverShares[index].get(id)!, run.results[index].shares.get(id)!));
  let polyDifferences = 0;
  for (const op of graph.ops) {
    const got = value(op.id);
    const x = op.inputs.length ? value(op.inputs[0]) : undefined;
    let want: Float64Array;
    switch (op.kind) {
      case "input":
        want = Fp.toSignedVec(encodeFixed(image, f));
        break;
      case "conv":
      case "dense": {
        const q = net.ops[op.id] as QuantizedLinear;
        const cout = q.geometry.outShape[2];
        want = Float64Array.from({ length: got.length }, (_, i) => q.bias[i % cout]);
        convAccumulate(x!, q.weights, q.geometry, want);
        break;
      }
      case "activation": {
        const act = net.ops[op.id] as QuantizedActivation;
        want = activationReference(act, x!, f);
        const channels = act.mask.length;
        for (let i = 0; i < got.length; i++) {
          const fn = act.mask[i % channels];
          if (fn === "relu" || fn === 0) continue;
          const coefficients = act.coefficients[i % channels];
          const g = resolvePolyLayout({ degree: fn, inFracBits: 2 * f, outFracBits: f }).inputBits;
          const y = Math.abs(x![i]) / 2 ** (2 * f) + 1;
          const tolerance = 2 + 2 ** (f + 1 - g) * derivativeBound(coefficients, y);
          const diff = Math.abs(got[i] - want[i]);
          assert.ok(
            diff <= tolerance,
            `${op.id}[${i}] degree ${fn}: secure ${got[i]} vs reference ${want[i]} (bound ${tolerance})`,
          );
          if (diff > 0) polyDifferences++;
          want[i] = got[i]; // checked; the exact comparison below covers the other channels
        }
        break;
      }
      case "avgpool":
      case "globalavgpool": {
        const inShape = inferShapes(graph).get(op.inputs[0])!;
        want = sumPool(x!, inShape, poolWindow(op, inShape));
        break;
      }
      case "add": {
        const [a, b] = op.inputs.map(value);
        const [ka, kb] = op.inputs.map((id) => 2 ** (2 * f - net.scales.get(id)!.bits));
        want = a.map((v, i) => v * ka + b[i] * kb);
        break;
      }
      case "batchnorm":
      case "flatten":
        want = x!;
        break;
    }
    assert.deepEqual(Array.from(got), Array.from(want), `op ${op.id} (${op.kind})`);
  }
  return polyDifferences;
}
