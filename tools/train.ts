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
import type * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../lib/data/atomic.ts";
import { channelStats, CIFAR10_STATS } from "../lib/data/augment.ts";
import { batches } from "../lib/data/batches.ts";
import { loadCifar } from "../lib/data/cifar.ts";
import { isDatasetName } from "../lib/data/dataset.ts";
import { subset, trainValidationSplit } from "../lib/data/split.ts";
import { MODEL_NAMES, type ModelName } from "../lib/nn/architectures.ts";
import { initBackend } from "../lib/nn/backend.ts";
import { saveModel } from "../lib/nn/io.ts";
import type { Plan } from "../lib/nn/plan.ts";
import { DEFAULT_CONFIG, replicaOptions, RUN_FILES, train, type TrainConfig } from "../lib/train/loop.ts";
import { type ModelRecipe, recipeFactory, recipeModel } from "../lib/train/models.ts";
import { WorkerEngine } from "../lib/train/parallel.ts";
import { parseSchedule, type Schedule } from "../lib/train/schedule.ts";
import { assign } from "../lib/train/sgd.ts";
import { median } from "../lib/report/stats.ts";

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
  --backend wasm        tfjs backend of the workers (wasm | cpu)
  --validation 5000     images held out of the training set (seeded, stratified)
  --test-every 5        evaluate on the test set every N epochs (and after the last)
  --no-augment          no random crop and flip
  --no-batchnorm        architecture without batch normalisation
  --checkpoint-seconds 120
  --subset N            train on the first N images of the training split only (smoke tests)
  --out DIR             write the final model, log and training.json here`;

function fail(message: string): never {
  console.error(`train: ${message}\n\n${USAGE}`);
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
    backend: { type: "string", default: "wasm" },
    validation: { type: "string", default: "5000" },
    "test-every": { type: "string", default: "5" },
    "no-augment": { type: "boolean", default: false },
    "no-batchnorm": { type: "boolean", default: false },
    "checkpoint-seconds": { type: "string", default: "120" },
    out: { type: "string" },
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
    fail(`--${name} must be ${integer ? "an integer" : "a number"}, got '${a[name]}'`);
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
const runName = a.run ?? `${model}-${dataset}-s${seed}`;
const runDir = resolve(a["runs-dir"]!, runName);
let schedule: Schedule;
try {
  schedule = a.schedule
    ? parseSchedule(a.schedule)
    : { kind: "cosine", peak: num("lr"), warmupEpochs: 2, final: 0 };
} catch (e) {
  fail((e as Error).message);
}
let plan: Plan | undefined;
try {
  plan = a.plan ? JSON.parse(await Deno.readTextFile(a.plan)) as Plan : undefined;
} catch (e) {
  fail(`cannot read the plan ${a.plan}: ${(e as Error).message}`);
}

console.error(`loading ${dataset} ...`);
const full = await loadCifar({ dataset, split: "train" });
const validationSize = num("validation", true);
const split = trainValidationSplit(full, { validationSize, seed: 0 });
const validation = split.validation;
const subsetSize = a.subset ? num("subset", true) : undefined;
const trainSet = subsetSize
  ? subset(split.train, Array.from({ length: subsetSize }, (_, i) => i))
  : split.train;
const test = await loadCifar({ dataset, split: "test" });
const normalize = dataset === "cifar10" ? CIFAR10_STATS : channelStats(trainSet.images);

const recipe: ModelRecipe = {
  model,
  numClasses: full.numClasses,
  batchNorm: !a["no-batchnorm"],
  seed,
  ...(a.init ? { init: resolve(a.init) } : {}),
  ...(plan ? { plan } : {}),
};
const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  epochs,
  batchSize: num("batch", true),
  seed,
  schedule,
  momentum: num("momentum"),
  weightDecay: num("wd"),
  nesterov: a.nesterov!,
  labelSmoothing: num("label-smoothing"),
  augment: !a["no-augment"],
  normalize,
  testEvery: num("test-every", true),
  meta: {
    dataset,
    recipe,
    validation: { size: validationSize, splitSeed: 0, stratified: true },
    calibrationImages: plan ? 256 : 0,
    ...(subsetSize ? { subset: subsetSize } : {}),
  },
};

// Polynomial coefficients of a plan are fitted on the first 256 training images (unaugmented).
if (plan) {
  const first = batches(trainSet, { batchSize: 256, shuffle: false, normalize }).next().value!;
  recipe.calibration = { x: first.x, count: first.count };
}

console.error(
  `run ${runDir}: ${model} on ${dataset} (${trainSet.count} train / ${validation.count} val / ${test.count} test), ` +
    `${workers} ${a.backend} worker(s)`,
);
const engine = await WorkerEngine.create({
  workers,
  backend: a.backend as "wasm" | "cpu",
  factory: recipeFactory(recipe),
  replica: replicaOptions(config),
});
let result;
try {
  result = await train(config, {
    runDir,
    engine,
    train: trainSet,
    validation,
    test,
    checkpointSeconds: num("checkpoint-seconds"),
  });
} finally {
  if (!a.out) await engine.close();
}
const testAccuracy = result.last.testAccuracy;
console.error(`final test accuracy ${(100 * testAccuracy!).toFixed(2)}% (run ${runDir})`);

if (a.out) {
  const out = resolve(a.out);
  // The main thread rebuilds the same model (cpu is enough: no training here) to save it.
  await initBackend("cpu");
  const { calibration: _c, ...plain } = recipe;
  const final = await recipeModel(plain);
  const names = final.weights.map((w) => w.originalName).join();
  if (names !== engine.weightInfo.map((w) => w.name).join()) {
    throw new Error("train: exported model's weights differ from the trained one's");
  }
  assign(final.weights.map((w) => w.read() as tf.Variable), await engine.weights(), "final weights");
  await engine.close();
  await saveModel(final, out);
  await Deno.copyFile(join(runDir, RUN_FILES.log), join(out, RUN_FILES.log));
  const commit = await new Deno.Command("git", {
    args: ["rev-parse", "--short", "HEAD"],
    stdout: "piped",
    stderr: "null",
  })
    .output().then((o) => new TextDecoder().decode(o.stdout).trim()).catch(() => "");
  const { recipe: _r, ...meta } = config.meta;
  await writeFileAtomic(
    join(out, "training.json"),
    JSON.stringify(
      {
        model,
        dataset,
        command: `deno task train ${Deno.args.join(" ")}`,
        recipe: { ...plain, init: a.init ?? null },
        config: { ...config, meta },
        testAccuracy,
        testLoss: result.last.testLoss,
        validationAccuracy: result.last.valAccuracy,
        epochs: result.history.length,
        // Wall-clock throughput of the whole loop (data, steps, checkpoints), median over epochs.
        medianImagesPerSecond: median(result.history.map((h) => h.imagesPerSecond)),
        run: runName,
        workers,
        commit,
        finished: result.last.time,
      },
      null,
      2,
    ) + "\n",
  );
  console.error(`wrote ${out}/{model.json,weights.bin,${RUN_FILES.log},training.json}`);
}
