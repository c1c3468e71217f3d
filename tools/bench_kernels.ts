/**
 * Micro-benchmark: CNN-7 (batch-norm, ReLU, average pooling) training and inference speed on a
 * tfjs backend, built directly from tf ops; optionally a per-kernel time profile.
 *
 * Usage: deno run -A tools/bench_kernels.ts [--backend wasm|cpu] [--batch 64] [--steps 10]
 *   [--repeats 3] [--profile] [--bn stock|fused] [--out results/bench_kernels.json]
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import process from "node:process";
import { parseArgs } from "node:util";
import { writeBenchmark } from "../lib/report/results.ts";
import { type BackendName, initBackend } from "../lib/nn/backend.ts";
import { batchNormTraining } from "../lib/nn/kernels/mod.ts";
import { median } from "../lib/report/stats.ts";

/** stock: tf.moments + tf.batchNorm; fused: batchNormTraining; inference: fixed statistics. */
type BnMode = "stock" | "fused" | "inference";

interface ConvLayer {
  w: tf.Variable<tf.Rank.R4>;
  gamma: tf.Variable<tf.Rank.R1>;
  beta: tf.Variable<tf.Rank.R1>;
  stride: number;
}

/** CNN-7's parameters: 3x3 conv 64 x2, pool, 3x3 conv 64 x2, pool, 3x3 64, 1x1 64, 1x1 16, dense. */
function cnn7Params(classes = 10) {
  const specs: [number, number, number][] = [
    [3, 3, 64],
    [3, 64, 64],
    [3, 64, 64],
    [3, 64, 64],
    [
      3,
      64,
      64,
    ],
    [1, 64, 64],
    [1, 64, 16],
  ];
  const convs: ConvLayer[] = specs.map(([k, ci, co]) => ({
    w: tf.variable(tf.randomNormal<tf.Rank.R4>([k, k, ci, co], 0, Math.sqrt(2 / (k * k * ci)))),
    gamma: tf.variable(tf.ones<tf.Rank.R1>([co])),
    beta: tf.variable(tf.zeros<tf.Rank.R1>([co])),
    stride: 1,
  }));
  const dense = {
    w: tf.variable(tf.randomNormal([8 * 8 * 16, classes], 0, Math.sqrt(1 / (8 * 8 * 16)))),
    b: tf.variable(tf.zeros([classes])),
  };
  return { convs, dense };
}

function forward(p: ReturnType<typeof cnn7Params>, x: tf.Tensor4D, bn: BnMode): tf.Tensor2D {
  let h: tf.Tensor4D = x;
  p.convs.forEach((c, i) => {
    const y = tf.conv2d(h, c.w, c.stride, "same");
    let n: tf.Tensor4D;
    if (bn === "fused") {
      const r = batchNormTraining(y, c.gamma, c.beta, 1e-3);
      r.mean.dispose();
      r.variance.dispose();
      n = r.y;
    } else if (bn === "inference") n = tf.batchNorm4d(y, c.beta, c.gamma, c.beta, c.gamma, 1e-3);
    else {
      const { mean, variance } = tf.moments(y, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
      n = tf.batchNorm4d(y, mean, variance, c.beta, c.gamma, 1e-3);
    }
    h = tf.relu(n);
    if (i === 1 || i === 3) h = tf.avgPool(h, 2, 2, "valid");
  });
  const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
  return tf.add(tf.matMul(flat, p.dense.w as tf.Tensor2D), p.dense.b);
}

/**
 * Prints each kernel's time in one training step: the minimum over `repeats` profiled steps (less
 * disturbed by other processes than one sample). Kernels called from the project's kernels are
 * counted in both, so the column does not add up to the step.
 */
async function printProfile(step: () => tf.Scalar, repeats: number): Promise<void> {
  const best = new Map<string, { ms: number; n: number }>();
  for (let r = 0; r < repeats; r++) {
    const prof = await tf.profile(() => step());
    const totals = new Map<string, { ms: number; n: number }>();
    for (const k of prof.kernels) {
      const e = totals.get(k.name) ?? { ms: 0, n: 0 };
      e.ms += k.kernelTimeMs as number;
      e.n++;
      totals.set(k.name, e);
    }
    for (const [name, e] of totals) if (!(best.get(name)?.ms! <= e.ms)) best.set(name, e);
  }
  console.log(`kernel times in one step (min of ${repeats}):`);
  for (const [name, e] of [...best.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${name.padEnd(26)} ${e.ms.toFixed(1).padStart(8)} ms  x${e.n}`);
  }
}

/** Current size of the wasm backend's linear memory. */
function wasmHeapBytes(): number {
  return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const USAGE = `usage: deno task bench:kernels [--backend wasm|cpu] [--batch 64] [--steps 10] [--repeats 3]
                              [--profile] [--bn stock|fused] [--out FILE]

Micro-benchmark of CNN-7 (batch-norm, ReLU, average pooling) training and inference speed on a
tfjs backend, built from tf ops; --profile adds a per-kernel time profile. The task writes
results/bench_kernels.json.`;

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      help: { type: "boolean", short: "h" },
      backend: { type: "string", default: "wasm" },
      batch: { type: "string", default: "64" },
      steps: { type: "string", default: "10" },
      repeats: { type: "string", default: "3" },
      profile: { type: "boolean", default: false },
      bn: { type: "string", default: "fused" },
      out: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const info = await initBackend(values.backend as BackendName);
  const batch = Number(values.batch), steps = Number(values.steps), repeats = Number(values.repeats);
  const bn = values.bn as BnMode;
  const p = cnn7Params();
  const x = tf.randomUniform([batch, 32, 32, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, "int32") as tf.Tensor1D, 10);
  const opt = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, forward(p, x, bn)), true);
    return loss!;
  };
  const infer = () => tf.tidy(() => forward(p, x, "inference").dataSync());

  // Warm-up (operator creation, memory growth).
  for (let i = 0; i < 2; i++) (await step()).dispose();
  infer();

  if (values.profile) await printProfile(step, repeats);

  // Wall-clock rates suffer from other processes on this shared machine; rates per CPU second
  // (this process's user + system time) show what a dedicated core would give.
  const rates = {
    train: [] as number[],
    trainCpu: [] as number[],
    infer: [] as number[],
    inferCpu: [] as number[],
  };
  const measure = (run: () => void, wall: number[], cpu: number[]) => {
    const t0 = performance.now(), c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    wall.push((batch * steps) / ((performance.now() - t0) / 1000));
    cpu.push((batch * steps) / ((c.user + c.system) / 1e6));
  };
  for (let r = 0; r < repeats; r++) {
    measure(
      () => {
        for (let i = 0; i < steps; i++) {
          const loss = step();
          if (i === steps - 1) loss.dataSync();
          loss.dispose();
        }
      },
      rates.train,
      rates.trainCpu,
    );
    measure(
      () => {
        for (let i = 0; i < steps; i++) infer();
      },
      rates.infer,
      rates.inferCpu,
    );
  }
  const summary = (xs: number[]) => ({
    min: round(Math.min(...xs)),
    median: round(median(xs)),
    max: round(Math.max(...xs)),
  });
  const result = {
    model: "cnn7",
    backend: info,
    bn,
    batch,
    steps,
    repeats,
    trainImgPerSec: summary(rates.train),
    trainImgPerCpuSec: summary(rates.trainCpu),
    inferImgPerSec: summary(rates.infer),
    inferImgPerCpuSec: summary(rates.inferCpu),
    numTensors: tf.memory().numTensors,
    // The wasm heap only grows; its size after the run is the peak (4 GiB is the hard limit).
    wasmHeapMiB: info.backend === "wasm" ? Math.round(wasmHeapBytes() / 2 ** 20) : 0,
  };
  console.log(JSON.stringify(result));
  if (values.out) await writeBenchmark(values.out, result);
}

if (import.meta.main) await main();
