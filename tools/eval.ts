/**
 * Test accuracy of a saved model: `deno task eval [DIR] [--dataset cifar10] [--workers 2]`.
 *
 * DIR (default `data/pretrained/cnn7/`) holds `model.json` + `weights.bin` as written by
 * `deno task train --out DIR`; its `training.json`, when present, supplies the data set and
 * the input normalisation used in training.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { type ChannelStats, CIFAR10_STATS } from "../lib/data/augment.ts";
import { loadCifar } from "../lib/data/cifar.ts";
import { type DatasetName, isDatasetName } from "../lib/data/dataset.ts";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { MODEL_FILE, WEIGHTS_FILE } from "../lib/nn/io.ts";
import { savedModelFactory } from "../lib/train/export.ts";
import { evaluate } from "../lib/train/loop.ts";
import { WorkerEngine } from "../lib/train/parallel.ts";

const USAGE =
  `usage: deno task eval [DIR] [--dataset cifar10|cifar100] [--workers 2] [--backend wasm|cpu] [--json]

Test accuracy of the model saved in DIR (model.json + weights.bin, as \`deno task train --out DIR\`
writes them; default data/pretrained/cnn7). Its training.json, when present, gives the data set
and the input normalisation used in training. --json prints one JSON line.`;

function fail(message: string): never {
  console.error(`eval: ${message}`);
  Deno.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      help: { type: "boolean", short: "h" },
      dataset: { type: "string" },
      workers: { type: "string", default: "2" },
      backend: { type: "string", default: "wasm" },
      json: { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
} catch (e) {
  console.error(`eval: ${(e as Error).message}\n\n${USAGE}`);
  Deno.exit(2);
}
const { values: a, positionals } = parsed;
if (a.help) {
  console.log(USAGE);
  Deno.exit(0);
}

const dir = resolve(positionals[0] ?? join(REPO_ROOT, "data", "pretrained", "cnn7"));
for (const file of [MODEL_FILE, WEIGHTS_FILE]) {
  try {
    await Deno.stat(join(dir, file));
  } catch {
    fail(
      `no trained model in ${dir}: ${file} is missing. Train one with ` +
        `\`deno task train --model cnn7 --epochs 40 --out ${positionals[0] ?? "data/pretrained/cnn7"}\`, ` +
        `or pass the directory that holds model.json and weights.bin.`,
    );
  }
}

interface TrainingInfo {
  dataset?: string;
  config?: { normalize?: ChannelStats };
}
let info: TrainingInfo = {};
try {
  info = JSON.parse(await Deno.readTextFile(join(dir, "training.json")));
} catch {
  console.error(
    `eval: ${dir} has no training.json; assuming CIFAR-10 with the standard CIFAR-10 normalisation`,
  );
}
const dataset = a.dataset ?? info.dataset ?? "cifar10";
if (!isDatasetName(dataset)) fail(`unknown data set '${dataset}' (use cifar10 or cifar100)`);
const normalize = info.config?.normalize ?? CIFAR10_STATS;

const started = performance.now();
let engine: WorkerEngine;
try {
  engine = await WorkerEngine.create({
    workers: Number(a.workers),
    backend: a.backend === "cpu" ? "cpu" : "wasm",
    factory: savedModelFactory(dir),
  });
} catch (e) {
  fail(`cannot load the model in ${dir}: ${(e as Error).message}`);
}
try {
  const input = engine.weightInfo.find((w) => w.name.endsWith("/kernel"))?.shape;
  const lastKernel = [...engine.weightInfo].reverse().find((w) => w.name.endsWith("/kernel"))?.shape;
  const test = await loadCifar({ dataset: dataset as DatasetName, split: "test" });
  if (input && input.length === 4 && input[2] !== 3) {
    fail(`the model in ${dir} takes ${input[2]}-channel inputs; CIFAR images have 3 channels`);
  }
  if (lastKernel && lastKernel.at(-1) !== test.numClasses) {
    fail(
      `the model in ${dir} has ${
        lastKernel.at(-1)
      } outputs, but ${dataset} has ${test.numClasses} classes (pass --dataset)`,
    );
  }
  const r = await evaluate(engine, test, { normalize });
  const seconds = (performance.now() - started) / 1000;
  if (a.json) {
    console.log(
      JSON.stringify({ dir, dataset, accuracy: r.accuracy, loss: r.loss, count: r.count, seconds }),
    );
  } else {
    console.log(
      `${dataset} test accuracy ${(100 * r.accuracy).toFixed(2)}% (loss ${
        r.loss.toFixed(4)
      }, ${r.count} images, ` +
        `${seconds.toFixed(1)} s) — ${dir}`,
    );
  }
} catch (e) {
  fail(`evaluating ${dir} failed: ${(e as Error).message}`);
} finally {
  await engine.close();
}
