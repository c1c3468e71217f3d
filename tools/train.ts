/**
 * Trains a model on CIFAR with data-parallel workers, resuming automatically.
 *
 * ```
 * deno task train --model cnn7 --dataset cifar10 --epochs 60 --batch 64 --lr 0.05 --seed 0 \
 *   --run cnn7-relu-v1 [--schedule cosine:0.05:2] [--wd 5e-4] [--plan plan.json] [--init dir] \
 *   [--workers 2] [--out data/pretrained/cnn7]
 * ```
 *
 * The run lives in `~/.cache/safenet/runs/<run>/` (or `--runs-dir`): config, checkpoint, log.
 * Running the same command again continues from the last checkpoint; a finished run only
 * re-exports. With `--out`, the final model (`model.json` + `weights.bin`), the JSONL log and
 * `training.json` (config, recipe, final test accuracy) are written there.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { isDatasetName } from "../lib/data/dataset.ts";
import { createHash } from "node:crypto";
import { architecture, MODEL_NAMES, type ModelName } from "../lib/nn/architectures.ts";
import { type Plan, validatePlan } from "../lib/nn/plan.ts";
import type { WeightStorage } from "../lib/nn/io.ts";
import {
  CALIBRATION_IMAGES,
  calibrationBatch,
  loadTrainingData,
  SPLIT_SEED,
  VALIDATION_SIZE,
} from "../lib/train/data.ts";
import { exportModel, savedModelFactory, trainingRecord, writeTrainingRecord } from "../lib/train/export.ts";
import {
  DEFAULT_CONFIG,
  evaluate,
  replicaOptions,
  RUN_FILES,
  train,
  type TrainConfig,
} from "../lib/train/loop.ts";
import { type ModelRecipe, recipeFactory } from "../lib/train/models.ts";
import { WorkerEngine } from "../lib/train/parallel.ts";
import { parseSchedule, type Schedule } from "../lib/train/schedule.ts";

const USAGE =
  `usage: deno task train --model cnn7|vgg16|resnet32 --dataset cifar10|cifar100 --epochs N [options]
  --batch 64            mini-batch size (split across workers)
  --lr 0.05             peak learning rate of the default schedule (cosine with 2 warm-up epochs)
  --schedule S          cosine:PEAK[:WARMUP[:FINAL]] | onecycle:PEAK[:PCT] | constant:LR | step:LR:GAMMA:E1,E2
  --wd 5e-4             L2 weight decay on conv and dense kernels
  --momentum 0.9        SGD momentum (--nesterov for Nesterov)
  --label-smoothing 0   label smoothing epsilon
  --seed 0              seed of initialisation, data order and augmentation
  --run NAME            run name (default MODEL-DATASET-sSEED); directory under --runs-dir
  --runs-dir DIR        default ~/.cache/safenet/runs
  --plan FILE           replacement plan (JSON) applied before training
  --init DIR            start from a saved model (model.json + weights.bin)
  --workers 2           data-parallel workers (one wasm instance each)
  --threads N           oneDNN threads per worker (default: the cores divided among the workers); e.g.
                        --workers 1 --threads 1 leaves a core to another job (a run may resume with other
                        --workers/--threads; log.jsonl records each epoch's workers)
  --backend wasm        tfjs backend of the workers (wasm | cpu)
  --validation 5000     images held out of the training set (seeded, stratified)
  --test-every 5        evaluate on the test set every N epochs (and after the last)
  --no-augment          no random crop and flip
  --no-batchnorm        architecture without batch normalisation
  --bn batch|frozen     batch-norm statistics in training: the batch's (updating the moving ones), or the
                        moving ones, fixed (default: frozen when fine-tuning --init under a --plan that
                        replaces ReLUs, where batch statistics make polynomial activations diverge)
  --clip-norm N|none    clip each step's gradient to global L2 norm N (default: 1 in that same case, else none)
  --checkpoint-seconds 120
  --subset N            train on the first N images of the training split only (smoke tests)
  --out DIR             write the final model, log and training.json here
  --store float32|float16  how --out stores the weights (float16: half the size, e.g. VGG-16 30 MB instead
                        of 60; the recorded test accuracy is then measured again on the stored model)`;

/** Exits 2 with `message`; usage errors (a missing or unknown option) print the usage too. */
function fail(message: string, usage = true): never {
  console.error(usage ? `train: ${message}\n\n${USAGE}` : `train: ${message}`);
  Deno.exit(2);
}

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    dataset: { type: "string", default: "cifar10" },
    epochs: { type: "string" },
    batch: { type: "string", default: "64" },
    lr: { type: "string", default: "0.05" },
    schedule: { type: "string" },
    wd: { type: "string", default: "5e-4" },
    momentum: { type: "string", default: "0.9" },
    nesterov: { type: "boolean", default: false },
    "label-smoothing": { type: "string", default: "0" },
    seed: { type: "string", default: "0" },
    run: { type: "string" },
    "runs-dir": { type: "string", default: join(homedir(), ".cache", "safenet", "runs") },
    plan: { type: "string" },
    init: { type: "string" },
    workers: { type: "string", default: "2" },
    threads: { type: "string" },
    backend: { type: "string", default: "wasm" },
    validation: { type: "string", default: String(VALIDATION_SIZE) },
    "test-every": { type: "string", default: "5" },
    "no-augment": { type: "boolean", default: false },
    "no-batchnorm": { type: "boolean", default: false },
    bn: { type: "string" },
    "clip-norm": { type: "string" },
    "checkpoint-seconds": { type: "string", default: "120" },
    out: { type: "string" },
    store: { type: "string", default: "float32" },
    subset: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (a.help) {
  console.log(USAGE);
  Deno.exit(0);
}

function num(name: keyof typeof a, integer = false): number {
  const v = Number(a[name]);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    fail(`--${name} must be ${integer ? "an integer" : "a number"}, got '${a[name]}'`, false);
  }
  return v;
}

if (!a.model || !(MODEL_NAMES as readonly string[]).includes(a.model)) {
  fail(`--model must be one of ${MODEL_NAMES.join(", ")}`);
}
if (!isDatasetName(a.dataset!)) fail(`--dataset must be cifar10 or cifar100, got '${a.dataset}'`);
if (!a.epochs) fail("--epochs is required");
if (a.backend !== "wasm" && a.backend !== "cpu") fail(`--backend must be wasm or cpu`);
const model = a.model as ModelName;
const dataset = a.dataset!;
const epochs = num("epochs", true);
const seed = num("seed", true);
const workers = num("workers", true);
const threads = a.threads === undefined ? undefined : num("threads", true);
if (workers < 1) fail(`--workers must be at least 1, got ${workers}`, false);
if (threads !== undefined && threads < 1) fail(`--threads must be at least 1, got ${threads}`, false);
// Every option that changes what is trained is in the default name, so different runs never
// share a directory while the same command line resumes its own.
const {
  run: _run,
  "runs-dir": _dir,
  out: _out,
  store: _store,
  help: _help,
  threads: _threads,
  ...trainingOptions
} = a;
const optionsDigest = createHash("sha256").update(JSON.stringify(trainingOptions)).digest("hex").slice(0, 8);
const runName = a.run ?? `${model}-${dataset}-s${seed}-${optionsDigest}`;
const runDir = resolve(a["runs-dir"]!, runName);
let schedule: Schedule;
try {
  schedule = a.schedule
    ? parseSchedule(a.schedule)
    : { kind: "cosine", peak: num("lr"), warmupEpochs: 2, final: 0 };
} catch (e) {
  fail((e as Error).message, false);
}
const numClasses = dataset === "cifar100" ? 100 : 10;
let plan: Plan | undefined;
try {
  plan = a.plan ? JSON.parse(await Deno.readTextFile(a.plan)) as Plan : undefined;
  if (plan) validatePlan(architecture(model, { batchNorm: !a["no-batchnorm"], numClasses }), plan);
} catch (e) {
  fail(`the plan ${a.plan}: ${(e as Error).message}`, false);
}
if (a.init) {
  try {
    await Deno.stat(join(a.init, "model.json"));
  } catch {
    fail(`--init ${a.init} holds no saved model (model.json)`, false);
  }
}
// Fine-tuning a pretrained network under polynomial activations needs the stable recipe.
const polynomialFineTune = a.init !== undefined && plan !== undefined && plan.sites.some((s) => s.alpha > 0);
if (a.store !== "float32" && a.store !== "float16") {
  fail(`--store must be float32 or float16, got '${a.store}'`);
}
const storage = a.store as WeightStorage;
if (a.bn !== undefined && a.bn !== "batch" && a.bn !== "frozen") {
  fail(`--bn must be batch or frozen, got '${a.bn}'`);
}
const freezeBatchNorm = a.bn === undefined ? polynomialFineTune : a.bn === "frozen";
let clipGradientNorm: number | undefined = polynomialFineTune ? 1 : undefined;
if (a["clip-norm"] !== undefined) {
  clipGradientNorm = a["clip-norm"] === "none" ? undefined : num("clip-norm");
  if (clipGradientNorm !== undefined && !(clipGradientNorm > 0)) {
    fail(`--clip-norm must be a positive number or none, got '${a["clip-norm"]}'`, false);
  }
}
// Every number is checked before any data is loaded.
const batchSize = num("batch", true), momentum = num("momentum"), weightDecay = num("wd");
const labelSmoothing = num("label-smoothing"), testEvery = num("test-every", true);
const checkpointSeconds = num("checkpoint-seconds");

console.error(`loading ${dataset} ...`);
const validationSize = num("validation", true);
const subsetSize = a.subset ? num("subset", true) : undefined;
const { train: trainSet, validation, test, normalize } = await loadTrainingData({
  dataset,
  validationSize,
  ...(subsetSize ? { subset: subsetSize } : {}),
});

const recipe: ModelRecipe = {
  model,
  numClasses,
  batchNorm: !a["no-batchnorm"],
  seed,
  ...(a.init ? { init: resolve(a.init) } : {}),
  ...(plan ? { plan } : {}),
};
const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  epochs,
  batchSize,
  seed,
  schedule,
  momentum,
  weightDecay,
  nesterov: a.nesterov!,
  labelSmoothing,
  augment: !a["no-augment"],
  normalize,
  testEvery,
  // Only when on: runs from before these options keep their configuration (and resume).
  ...(freezeBatchNorm ? { freezeBatchNorm } : {}),
  ...(clipGradientNorm !== undefined ? { clipGradientNorm } : {}),
  meta: {
    dataset,
    recipe,
    validation: { size: validationSize, splitSeed: SPLIT_SEED, stratified: true },
    calibrationImages: plan ? CALIBRATION_IMAGES : 0,
    ...(subsetSize ? { subset: subsetSize } : {}),
  },
};

// Polynomial coefficients of a plan are fitted on the first training images (unaugmented).
if (plan) recipe.calibration = calibrationBatch(trainSet, normalize);

console.error(
  `run ${runDir}: ${model} on ${dataset} (${trainSet.count} train / ${validation.count} val / ${test.count} test), ` +
    `${workers} ${a.backend} worker(s)`,
);
const engine = await WorkerEngine.create({
  workers,
  backend: a.backend as "wasm" | "cpu",
  factory: recipeFactory(recipe),
  replica: replicaOptions(config),
  nativeThreads: threads,
});
console.error(
  engine.native
    ? `kernels: ${engine.native.library}, ${engine.native.threads} thread(s) per worker`
    : "kernels: tfjs' own (no native library)",
);
let result;
try {
  result = await train(config, {
    runDir,
    engine,
    train: trainSet,
    validation,
    test,
    checkpointSeconds,
  });
} finally {
  if (!a.out) await engine.close();
}
const testAccuracy = result.last.testAccuracy;
console.error(`final test accuracy ${(100 * testAccuracy!).toFixed(2)}% (run ${runDir})`);

if (a.out) {
  const out = resolve(a.out);
  const { calibration: _c, ...plain } = recipe;
  try {
    await exportModel(plain, await engine.weights(), engine.weightInfo, out, storage);
  } finally {
    await engine.close();
  }
  await Deno.copyFile(join(runDir, RUN_FILES.log), join(out, RUN_FILES.log));
  const { recipe: _r, ...meta } = config.meta;
  const record = await trainingRecord({
    model,
    dataset,
    command: `deno task train ${Deno.args.join(" ")}`,
    recipe: { ...plain, init: a.init ?? null },
    config: { ...config, meta },
    run: runName,
    workers,
  }, result.history);
  if (storage !== "float32") {
    // What is shipped is the stored model: its accuracy is measured, not assumed.
    const stored = await WorkerEngine.create({
      workers,
      backend: a.backend as "wasm" | "cpu",
      factory: savedModelFactory(out),
      nativeThreads: threads,
    });
    try {
      const r = await evaluate(stored, test, { normalize });
      Object.assign(record, {
        testAccuracy: r.accuracy,
        testLoss: r.loss,
        storage,
        trainedTestAccuracy: testAccuracy,
      });
      console.error(`stored as ${storage}: test accuracy ${(100 * r.accuracy).toFixed(2)}%`);
    } finally {
      await stored.close();
    }
  }
  await writeTrainingRecord(out, record);
  console.error(`wrote ${out}/{model.json,weights.bin,${RUN_FILES.log},training.json}`);
}
