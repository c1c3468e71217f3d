/**
 * Training and inference throughput of the paper's networks on this machine, through the same
 * data-parallel engine the trainer uses: `deno task bench:train [--steps 12] [--rounds 3]
 * [--models a,b] [--workers 1,2] [--out results/bench_train.json]`.
 *
 * Each case builds the model in fresh workers (wasm), runs warm-up steps, then times `steps`
 * (VGG-16: half as many) training steps of batch 64 on random inputs (speed does not depend on pixel values) in three
 * chunks and reports the median chunk's images/s; inference is timed the same way on batches
 * of 250. Every model is measured with each worker count (a worker's oneDNN convolutions get
 * cores / workers threads) and reported at its fastest for training; CNN-7 also with a masked
 * plan (uniform alpha 0.5, degree 2). Timings on a shared
 * machine are noisy: the load average at start and end is recorded beside them, and the whole
 * measurement (ours, then the peer's) repeats `rounds` times, each figure the median over rounds
 * and each ratio to the peer the median of the rounds' own ratios, so that drift in the machine's
 * speed between our run and the peer's cancels. Each model also
 * gets a per-kernel profile of one worker's training step (where the time goes).
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { architecture, type ModelName } from "../lib/nn/architectures.ts";
import { initBackend } from "../lib/nn/backend.ts";
import { forwardMacs } from "../lib/nn/graph.ts";
import { uniformPlan } from "../lib/nn/plan.ts";
import { writeBenchmark } from "../lib/report/results.ts";
import type { Batch, Engine } from "../lib/train/engine.ts";
import { type ModelRecipe, recipeFactory, recipeModel } from "../lib/train/models.ts";
import { Replica } from "../lib/train/replica.ts";
import { WorkerEngine } from "../lib/train/parallel.ts";
import { median } from "../lib/report/stats.ts";

const USAGE =
  `usage: deno task bench:train [--steps 12] [--rounds 3] [--models cnn7,cnn7_masked,resnet32,vgg16]
                            [--workers 1,2] [--batch 64] [--peer] [--out results/bench_train.json]

Training and inference throughput (images/s) of the paper's networks on this machine, through
the trainer's data-parallel engine, on random inputs; writes --out. --peer also runs PyTorch (CPU,
Debian's python3-torch, installed here with apt-get if missing) on the same architectures with
as many threads as the largest worker count, and records ours / theirs. The measurement repeats
--rounds times (ours, then the peer's, each round); figures are medians over the rounds.`;

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    help: { type: "boolean", short: "h" },
    steps: { type: "string", default: "12" },
    rounds: { type: "string", default: "3" },
    models: { type: "string", default: "cnn7,cnn7_masked,resnet32,vgg16" },
    workers: { type: "string", default: "1,2" },
    batch: { type: "string", default: "64" },
    out: { type: "string", default: "results/bench_train.json" },
    peer: { type: "boolean", default: false },
  },
  strict: true,
});
if (a.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const steps = Math.max(3, Number(a.steps));
const rounds = Number(a.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new Error(`bench_train: --rounds must be a positive integer, got '${a.rounds}'`);
}
const batchSize = Number(a.batch);
const workerCounts = a.workers!.split(",").map(Number);
const maxWorkers = Math.max(...workerCounts);
const CASES = ["cnn7", "cnn7_masked", "resnet32", "vgg16"] as const;
type Case = typeof CASES[number];
const models = a.models!.split(",") as Case[];
for (const m of models) {
  if (!CASES.includes(m)) throw new Error(`bench_train: unknown model '${m}' (use ${CASES.join(", ")})`);
}

function recipe(name: Case): ModelRecipe {
  const model: ModelName = name === "cnn7_masked" ? "cnn7" : name;
  const base = { model, numClasses: 10, seed: 0 };
  return name === "cnn7_masked" ? { ...base, plan: uniformPlan(architecture("cnn7"), 0.5, 2) } : base;
}

function randomBatch(count: number, seed: number): Batch {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  return {
    x: Float32Array.from({ length: count * 3072 }, () => 2 * next() - 1),
    y: Int32Array.from({ length: count }, () => Math.floor(next() * 10)),
    count,
  };
}

/**
 * Seconds the training worker threads of this process ran and waited runnable for a CPU, from
 * Linux's per-thread schedstat (undefined where /proc is unavailable).
 */
function workerSchedule(): { run: number; wait: number } | undefined {
  try {
    let run = 0, wait = 0;
    for (const task of Deno.readDirSync("/proc/self/task")) {
      const dir = `/proc/self/task/${task.name}`;
      try {
        if (!Deno.readTextFileSync(`${dir}/comm`).startsWith("worker")) continue;
        const [r, w] = Deno.readTextFileSync(`${dir}/schedstat`).split(" ").map(Number);
        run += r / 1e9;
        wait += w / 1e9;
      } catch {
        // The thread ended between listing and reading.
      }
    }
    return { run, wait };
  } catch {
    return undefined;
  }
}

/**
 * Three timed chunks of `run` (each a third of `n` calls): median images per wall second, and
 * median images per CPU second of this process (all threads), which other processes' load on
 * the shared cores disturbs much less.
 */
async function rate(n: number, images: number, run: () => Promise<unknown>) {
  const wall: number[] = [], cpu: number[] = [];
  const per = Math.max(1, Math.floor(n / 3));
  for (let c = 0; c < 3; c++) {
    const t = performance.now();
    const u = process.cpuUsage();
    for (let i = 0; i < per; i++) await run();
    const used = process.cpuUsage(u);
    wall.push((per * images) / ((performance.now() - t) / 1000));
    cpu.push((per * images) / ((used.user + used.system) / 1e6));
  }
  return { median: median(wall), perCpu: median(cpu), chunks: wall.map((v) => +v.toFixed(1)) };
}

/**
 * Peak resident memory of this process (all its worker threads) in MiB since the last
 * {@link resetPeakMemory}, from Linux's VmHWM; undefined elsewhere.
 */
function peakMemoryMiB(): number | undefined {
  try {
    const kib = Deno.readTextFileSync("/proc/self/status").match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    return kib === undefined ? undefined : +(Number(kib) / 1024).toFixed(1);
  } catch {
    return undefined;
  }
}

/** Restarts the peak {@link peakMemoryMiB} measures (Linux: 5 > /proc/self/clear_refs). */
function resetPeakMemory(): void {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Not Linux: the peak is then the process's whole life, and says so by being absent.
  }
}

async function measure(name: Case, workers: number) {
  resetPeakMemory();
  const started = performance.now();
  const engine: Engine = await WorkerEngine.create({
    workers,
    backend: "wasm",
    factory: recipeFactory(recipe(name)),
    replica: { momentum: 0.9, weightDecay: 5e-4 },
  });
  try {
    const train = randomBatch(batchSize, 1);
    const infer = randomBatch(250, 2);
    for (let i = 0; i < 2; i++) await engine.step(train, 0.01); // warm-up: kernel setup, allocation
    await engine.evaluate(infer);
    // VGG-16 steps take seconds each: half as many keep the whole benchmark to minutes.
    const n = name === "vgg16" ? Math.max(3, Math.round(steps / 2)) : steps;
    const before = workerSchedule();
    const t = await rate(n, batchSize, () => engine.step(train, 0.01));
    const after = workerSchedule();
    const waited = before && after ? after.wait - before.wait : NaN;
    const ran = before && after ? after.run - before.run : NaN;
    const inferSteps = Math.max(3, Math.round(n * batchSize / 250));
    const i = await rate(inferSteps, 250, () => engine.evaluate(infer));
    const peak = peakMemoryMiB();
    const result = {
      train_img_s: +t.median.toFixed(1),
      infer_img_s: +i.median.toFixed(1),
      train_img_per_cpu_s: +t.perCpu.toFixed(1),
      // Share of the workers' runnable time spent waiting for a CPU (other processes' load).
      ...(Number.isFinite(waited)
        ? { train_worker_cpu_wait_share: +(waited / (waited + ran)).toFixed(3) }
        : {}),
      infer_img_per_cpu_s: +i.perCpu.toFixed(1),
      train_chunks: t.chunks,
      infer_chunks: i.chunks,
      seconds: +((performance.now() - started) / 1000).toFixed(1),
      // The whole process: its training workers and the benchmark's own few batches.
      ...(peak !== undefined ? { peak_memory_mib: peak } : {}),
    };
    console.error(
      `${name} x${workers}: train ${result.train_img_s} img/s ${JSON.stringify(t.chunks)} ` +
        `(${result.train_img_per_cpu_s} per CPU s, workers waited for a CPU ${
          (100 * waited / (waited + ran)).toFixed(0)
        }% of their runnable time), inference ${result.infer_img_s} img/s ` +
        `${JSON.stringify(i.chunks)} (${result.infer_img_per_cpu_s} per CPU s) (${result.seconds} s, ` +
        `peak memory ${result.peak_memory_mib ?? "?"} MiB)`,
    );
    return result;
  } finally {
    await engine.close();
  }
}

/**
 * GFLOP/s of this process's forward convolution (native oneDNN where installed, else wasm) on CNN-7's largest layer (3x3, 64 -> 64,
 * 32x32, one worker's half of a batch of 64), on this thread: the arithmetic rate a training
 * step can reach at best (its backward convolutions run through the same kernels, in shapes no
 * faster). Median of three timed chunks, like the rest.
 */
async function convCeilingGflops(): Promise<number> {
  await initBackend("wasm");
  const x = tf.randomNormal([batchSize / 2, 32, 32, 64]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 64, 64]) as tf.Tensor4D;
  const flops = 2 * (batchSize / 2) * 32 * 32 * 9 * 64 * 64;
  const conv = () => {
    const y = tf.conv2d(x, w, 1, "same");
    y.dataSync();
    y.dispose();
  };
  for (let i = 0; i < 3; i++) conv();
  const t = await rate(6, 1, () => Promise.resolve(conv()));
  tf.dispose([x, w]);
  return +(t.median * flops / 1e9).toFixed(1);
}

/** How many kernels a step profile lists by name (the rest are summed as "other kernels"). */
const PROFILE_TOP = 8;

/**
 * Where one training step's time goes: one worker's share of a batch (batch / workers images)
 * through `name` on this thread (one oneDNN thread), a forward and backward pass plus the SGD
 * update, timed per tfjs kernel (tf.profile: wall time around each synchronous kernel), after two
 * warm-up steps. "outside kernels" is the step's wall time the kernels do not account for (graph
 * bookkeeping, gradient flattening, JS).
 */
async function stepProfile(name: Case) {
  await initBackend("wasm");
  const model = await recipeModel(recipe(name));
  const replica = new Replica(model, { momentum: 0.9, weightDecay: 5e-4 });
  try {
    const batch = randomBatch(Math.max(1, Math.floor(batchSize / maxWorkers)), 3);
    const step = () => replica.applyGradients(replica.gradients(batch.x, batch.y, batch.count).grads, 0.01);
    for (let i = 0; i < 2; i++) step();
    const started = performance.now();
    const info = await tf.profile(() => {
      step();
    });
    const wallMs = performance.now() - started;
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) {
      // Scopes (a custom gradient's, an op's `name__op`) are recorded around the kernels they run,
      // which are recorded too.
      if (k.name === "unnamed scope" || k.name.endsWith("__op")) continue;
      const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
    }
    const sorted = [...byKernel].sort((p, q) => q[1] - p[1]);
    const kernelMs = sorted.reduce((t, [, ms]) => t + ms, 0);
    const rows = sorted.slice(0, PROFILE_TOP).map(([kernel, ms]) => ({ kernel, ms }));
    const rest = sorted.slice(PROFILE_TOP).reduce((t, [, ms]) => t + ms, 0);
    if (rest > 0) rows.push({ kernel: "other kernels", ms: rest });
    rows.push({ kernel: "outside kernels", ms: Math.max(0, wallMs - kernelMs) });
    const result = {
      images: batch.count,
      wall_ms: +wallMs.toFixed(1),
      kernels: rows.map((r) => ({
        kernel: r.kernel,
        ms: +r.ms.toFixed(1),
        share: +(r.ms / wallMs).toFixed(3),
      })),
    };
    console.error(
      `${name} step profile (${batch.count} images, ${result.wall_ms} ms): ` +
        result.kernels.map((k) => `${k.kernel} ${(100 * k.share).toFixed(0)}%`).join(", "),
    );
    return result;
  } finally {
    replica.dispose();
    model.dispose();
  }
}

/** Debian's interpreter, which has python3-torch (a pyenv python3 earlier on PATH would not). */
const SYSTEM_PYTHON = "/usr/bin/python3";

/** Installs python3-torch from Debian if the system interpreter lacks it (the benchmark's own setup). */
async function ensureTorch(): Promise<void> {
  const probe = await new Deno.Command(SYSTEM_PYTHON, { args: ["-c", "import torch"], stderr: "null" })
    .output();
  if (probe.success) return;
  console.error("bench:train --peer: installing Debian's python3-torch (apt-get) ...");
  const install = await new Deno.Command("apt-get", {
    args: ["install", "-y", "-qq", "--no-install-recommends", "python3-torch"],
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  if (!install.success) {
    throw new Error(
      "bench:train --peer: could not install python3-torch with apt-get (run as root, or install it yourself)",
    );
  }
}

/**
 * PyTorch's train and inference img/s on the same graphs (tools/peer/bench_pytorch.py), with
 * `threads` threads, batch and steps as ours.
 */
async function peerRates(names: readonly ModelName[], threads: number) {
  await ensureTorch();
  const spec = {
    threads,
    batch: batchSize,
    steps,
    inferBatch: 250,
    models: Object.fromEntries(names.map((m) => [m, architecture(m)])),
  };
  const child = new Deno.Command(SYSTEM_PYTHON, {
    args: [new URL("./peer/bench_pytorch.py", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(spec)));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`bench:train --peer: PyTorch failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as {
    torch: string;
    threads: number;
    models: Record<string, { train_img_s: number; infer_img_s: number }>;
  };
}

/** Training arithmetic per image: forward plus backward (input and filter gradients, ~2x forward). */
const trainFlopsPerImage = (model: ModelName) => 6 * forwardMacs(architecture(model));

/** Of `runs`, the one whose `key` is the median (the lower middle of an even count). */
function medianRun<T extends Record<K, number>, K extends string>(runs: T[], key: K): T {
  return [...runs].sort((p, q) => p[key] - q[key])[Math.floor((runs.length - 1) / 2)];
}

const loadStart = loadavg();
type Measured = Awaited<ReturnType<typeof measure>>;
const peerModels = [...new Set(models.filter((m) => m !== "cnn7_masked") as ModelName[])];
// Per model and worker count, one measurement per round; the peer's, one per round.
const runs: Record<string, Record<number, Measured[]>> = {};
const peerRuns: Awaited<ReturnType<typeof peerRates>>[] = [];
for (let r = 0; r < rounds; r++) {
  if (rounds > 1) console.error(`round ${r + 1} of ${rounds}`);
  for (const name of models) {
    for (const w of workerCounts) ((runs[name] ??= {})[w] ??= []).push(await measure(name, w));
  }
  if (a.peer) peerRuns.push(await peerRates(peerModels, maxWorkers));
}
const results: Record<string, unknown> = {};
for (const name of models) {
  const byWorkers: Record<string, Measured & { train_img_s_rounds: number[] }> = {};
  for (const w of workerCounts) {
    byWorkers[w] = {
      ...medianRun(runs[name][w], "train_img_s"),
      train_img_s_rounds: runs[name][w].map((m) => m.train_img_s),
    };
  }
  // The model's row is its fastest training configuration: with few, large convolutions (VGG-16)
  // one process with every core's oneDNN thread beats data-parallel processes, elsewhere not.
  const bestWorkers = workerCounts.reduce((b, w) =>
    byWorkers[w].train_img_s > byWorkers[b].train_img_s ? w : b
  );
  const best = byWorkers[bestWorkers];
  results[name] = {
    step_profile: await stepProfile(name),
    train_img_s: best.train_img_s,
    infer_img_s: best.infer_img_s,
    workers: bestWorkers,
    ...(best.peak_memory_mib !== undefined ? { peak_memory_mib: best.peak_memory_mib } : {}),
    train_gflop_s_per_core: +(best.train_img_s * trainFlopsPerImage(recipe(name).model) / maxWorkers / 1e9)
      .toFixed(1),
    by_workers: byWorkers,
  };
}
const peer = peerRuns[0];
for (const name of peer ? peerModels : []) {
  const ours = results[name] as Record<string, number>;
  const mine = runs[name][ours.workers];
  const rates = (key: "train_img_s" | "infer_img_s") => peerRuns.map((p) => p.models[name][key]);
  const vsPeer = (key: "train_img_s" | "infer_img_s") =>
    +median(rates(key).map((theirs, r) => mine[r][key] / theirs)).toFixed(3);
  Object.assign(ours, {
    peer_train_img_s: +median(rates("train_img_s")).toFixed(1),
    peer_infer_img_s: +median(rates("infer_img_s")).toFixed(1),
    peer_train_img_s_rounds: rates("train_img_s"),
    train_vs_peer: vsPeer("train_img_s"),
    infer_vs_peer: vsPeer("infer_img_s"),
  });
  console.error(
    `${name}: PyTorch ${ours.peer_train_img_s} train, ${ours.peer_infer_img_s} inference img/s ` +
      `(medians of ${rounds}); ours x${ours.train_vs_peer} train, x${ours.infer_vs_peer} inference`,
  );
}
const ceiling = await convCeilingGflops();
console.error(
  `conv forward (CNN-7's 3x3 64->64 at 32x32, this process's kernels): ${ceiling} GFLOP/s on one thread`,
);
const ratio = (x: string, y: string, key: "train_img_s" | "infer_img_s") => {
  const p = results[x] as { [k: string]: number } | undefined,
    q = results[y] as { [k: string]: number } | undefined;
  return p && q ? +(p[key] / q[key]).toFixed(3) : undefined;
};
const cnn7 = results.cnn7 as { by_workers: Record<string, { train_img_s: number }> } | undefined;
const report = {
  ...results,
  summary: {
    cnn7_speedup_2_vs_1_workers: cnn7?.by_workers["1"] && cnn7.by_workers["2"]
      ? +(cnn7.by_workers["2"].train_img_s / cnn7.by_workers["1"].train_img_s).toFixed(3)
      : undefined,
    masked_train_overhead: (() => {
      const r = ratio("cnn7", "cnn7_masked", "train_img_s");
      return r === undefined ? undefined : +(r - 1).toFixed(3);
    })(),
    // The ceiling: every worker's arithmetic at the forward-convolution rate, nothing else.
    conv_gflop_s: ceiling,
    cnn7_train_flop_per_image: trainFlopsPerImage("cnn7"),
    cnn7_train_img_s_at_conv_rate: +(maxWorkers * ceiling * 1e9 / trainFlopsPerImage("cnn7")).toFixed(1),
  },
  // Machine and commit come from writeBenchmark; the load shows how shared the cores were.
  loadavg: { start: loadStart, end: loadavg() },
  workers: workerCounts,
  batch: batchSize,
  steps,
  rounds,
  backend: "wasm",
  native: (await initBackend("wasm")).native ?? null,
  ...(peer ? { peer: { torch: peer.torch, threads: peer.threads } } : {}),
  date: new Date().toISOString(),
  note: "each figure: the median of three timed chunks after warm-up, random inputs, then the median " +
    "over rounds (*_rounds: each round's); *_vs_peer: the median of the rounds' ratios. *_per_cpu_s: " +
    "images per CPU second of the whole process (all threads). Wall-clock img/s on this shared 2-core " +
    "machine depends on other load (loadavg; train_worker_cpu_wait_share: share of the workers' " +
    "runnable time spent waiting for a CPU).",
};
await writeBenchmark(a.out!, report);
console.error(`wrote ${a.out}`);
