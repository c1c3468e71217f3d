/**
 * The notebook's entry point: one import gives what a researcher reaches for.
 *
 * ```ts
 * import * as lab from "../lib/lab.ts";
 * const test = await lab.testImages(200);
 * const model = await lab.loadModel("cnn7-plan80");       // a shipped model, or a directory
 * const plan = lab.uniformPlan(model.graph, 0.8, 2);
 * lab.planTable(model.graph, plan);                      // a DataFrame: shown as a table
 * lab.priceTable(await lab.price(model.graph, plan));    // the cost model's price per layer
 * model.accuracy(test);                                  // plaintext accuracy on the images
 * const run = await model.secureInference(test, 0);      // both parties in this process
 * run.breakdown;                                         // time and bytes per layer and phase
 * ```
 *
 * Importing it initialises the TensorFlow.js backend (wasm, with the project's kernels), so a
 * model loads without tfjs's "No backend found in registry"; and it makes danfojs DataFrames
 * display as tables when they are a cell's last value. Show functions (`showTable`,
 * `showChart`, `showMarkdown`) work with or without `await` (lib/report/jupyter.ts).
 * Notebooks read expensive results from results/ at the profile they are rendered at
 * ({@link profile}, {@link readExperiment}).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { type ChannelStats, CIFAR10_STATS, normalize } from "./data/augment.ts";
import { loadCifar } from "./data/cifar.ts";
import { CIFAR10_CLASSES, IMAGE_BYTES } from "./data/dataset.ts";
import { REPO_ROOT } from "./data/locate.ts";
import { parseProfile, type ProfileName } from "./experiments/profiles.ts";
import { initBackend } from "./nn/backend.ts";
import { architecture, MODEL_NAMES, type ModelName } from "./nn/architectures.ts";
import { applyPlan } from "./nn/apply_plan.ts";
import { foldNetwork } from "./nn/fold.ts";
import type { Graph, InputOp } from "./nn/graph.ts";
import { loadModel as loadModelDir } from "./nn/io.ts";
import { activationLayers } from "./nn/model.ts";
import { countPlan, type Plan } from "./nn/plan.ts";
import {
  LINKS,
  measuredCalibration,
  paperCalibration,
  type Price,
  price as priceSchedule,
} from "./cost/mod.ts";
import type { Variant } from "./cost/variants.ts";
import { planSchedule } from "./mpc/inference/schedule.ts";
import { InferenceClient } from "./mpc/inference/client.ts";
import { InferenceServer } from "./mpc/inference/server.ts";
import { quantizeNetwork } from "./mpc/quantize.ts";
import { memoryChannelPair, type TrafficCounts, type TrafficStats } from "./mpc/transport.ts";
import type { PlotlyFigure } from "./report/chart.ts";
import { encodePng } from "./report/image.ts";
import { PROFILE_ENV } from "./report/jupyter.ts";
import type { ResultMeta } from "./report/meta.ts";
import { readResult } from "./report/results.ts";
import { argmax } from "./report/stats.ts";
import { type DataFrame, tableFromRows } from "./report/table.ts";

export { showChart } from "./report/chart.ts";
export type { PlotlyFigure } from "./report/chart.ts";
export { showMarkdown } from "./report/jupyter.ts";
export { showSvg } from "./report/tree.ts";
export { showTable, tableFromRows } from "./report/table.ts";
export type { DataFrame } from "./report/table.ts";
export { allReluPlan, countPlan, layerwisePlan, type Plan, uniformPlan } from "./nn/plan.ts";
export { CIFAR10_CLASSES } from "./data/dataset.ts";
export { LINKS } from "./cost/mod.ts";

await initBackend("wasm");

/** The profile whose results notebooks show: `$SAFENET_PROFILE` (set by `render --profile`), else quick. */
export function profile(): ProfileName {
  return parseProfile(Deno.env.get(PROFILE_ENV) ?? "quick");
}

/**
 * An experiment's result at the notebook's {@link profile} (or `at`), as its `run` returned it,
 * read from results/<name>_<profile>.json (experiments store their result there without its
 * config, which the file's meta block holds). Throws naming the `reproduce` command when the file
 * is missing.
 */
export async function readExperiment<R>(
  name: string,
  at: ProfileName = profile(),
): Promise<{ result: R; meta: ResultMeta; path: string }> {
  const file = await readResult<Record<string, unknown>>(name, at);
  const result = { config: { profile: file.meta.profile, seed: file.meta.seed }, ...file.data } as R;
  return { result, meta: file.meta, path: `results/${name}_${file.meta.profile}.json` };
}

/** Some CIFAR-10 images with their labels. */
export interface Images {
  /** count x 32 x 32 x 3 bytes, HWC interleaved RGB. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** The first `count` CIFAR-10 test images (verified against data/datasets.json on first load). */
export async function testImages(count = 100): Promise<Images> {
  const test = await loadCifar({ dataset: "cifar10", split: "test" });
  if (!(Number.isInteger(count) && count >= 1 && count <= test.count)) {
    throw new RangeError(`testImages: count must be an integer in [1, ${test.count}], got ${count}`);
  }
  return { pixels: test.images.slice(0, count * IMAGE_BYTES), labels: test.labels.slice(0, count), count };
}

/** The pixels of image `index` of `images`. */
function imageAt(images: Images, index: number): Uint8Array {
  if (!(Number.isInteger(index) && index >= 0 && index < images.count)) {
    throw new RangeError(`image index must be an integer in [0, ${images.count - 1}], got ${index}`);
  }
  return images.pixels.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES);
}

/** A class index as "cat (3)". */
export function className(index: number): string {
  return `${CIFAR10_CLASSES[index] ?? "class"} (${index})`;
}

/**
 * The first `count` images side by side, each with its class name below it (one PNG in the
 * figure: a few kilobytes, where pixel arrays would take hundreds).
 */
export function imagesChart(images: Images, count = Math.min(images.count, 10)): PlotlyFigure {
  const gap = 4, size = 32, shown = Math.min(count, images.count);
  const width = shown * (size + gap) - gap;
  const strip = new Uint8Array(width * size * 3).fill(255);
  for (let i = 0; i < shown; i++) {
    const image = imageAt(images, i);
    for (let y = 0; y < size; y++) {
      strip.set(image.subarray(y * size * 3, (y + 1) * size * 3), (y * width + i * (size + gap)) * 3);
    }
  }
  const png = encodePng({ width, height: size, pixels: strip });
  return {
    data: [{
      type: "image",
      source: `data:image/png;base64,${Buffer.from(png).toString("base64")}`,
      hoverinfo: "skip",
    }],
    layout: {
      title: { text: `The first ${shown} CIFAR-10 test images` },
      height: 220,
      margin: { l: 10, r: 10, t: 40, b: 50 },
      xaxis: {
        tickvals: Array.from({ length: shown }, (_, i) => i * (size + gap) + size / 2),
        ticktext: Array.from({ length: shown }, (_, i) => CIFAR10_CLASSES[images.labels[i]]),
      },
      yaxis: { visible: false },
    },
  };
}

/** Plaintext accuracy of a model on some images. */
export interface Accuracy {
  readonly accuracy: number;
  readonly correct: number;
  readonly count: number;
  /** Predicted class per image. */
  readonly predictions: Uint8Array;
}

/** What a secure inference of one image gave and cost. */
export interface SecureRun {
  /** The class the client learned, and the image's true label. */
  readonly predicted: number;
  readonly label: number;
  /** The logits from the protocol, and from the float model on the same image. */
  readonly logits: Float64Array;
  readonly plaintextLogits: Float32Array;
  /** Wall-clock seconds of the whole session (both parties in this process, one thread). */
  readonly seconds: number;
  /** The client's view of time and bytes per section (layer) and phase. */
  readonly stats: TrafficStats;
  /** {@link stats} as a table: one row per section, offline and online columns. */
  readonly breakdown: DataFrame;
  /** One line: predicted and true class, time and bytes. */
  readonly summary: string;
}

/** The directories of data/pretrained/ that hold a saved model, by name. */
export function shippedModels(): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(`${REPO_ROOT}/data/pretrained`)) {
    try {
      if (
        entry.isDirectory && Deno.statSync(`${REPO_ROOT}/data/pretrained/${entry.name}/model.json`).isFile
      ) {
        names.push(entry.name);
      }
    } catch {
      // a directory without a model: not shipped
    }
  }
  return names.sort();
}

/** What tools/train.ts records beside the weights that matters here. */
interface TrainingRecord {
  recipe?: { model?: string; batchNorm?: boolean; numClasses?: number };
  config?: { normalize?: ChannelStats };
}

/** A trained model in this process: its graph, tfjs model and input normalisation. */
export class LabModel {
  /** The name it was loaded by (a shipped name or its directory). */
  readonly name: string;
  readonly graph: Graph;
  readonly model: tfl.LayersModel;
  /** The input normalisation the weights were trained with. */
  readonly normalize: ChannelStats;

  /** Wraps a loaded model; {@link loadModel} is the usual way in. */
  constructor(name: string, graph: Graph, model: tfl.LayersModel, stats: ChannelStats) {
    this.name = name;
    this.graph = graph;
    this.model = model;
    this.normalize = stats;
  }

  /** The plan the model carries now (trained with, or set by {@link applyPlan}). */
  get plan(): Plan {
    const sites = activationLayers(this.model, this.graph).map((l) => ({ alpha: l.alpha, beta: l.degree }));
    return { model: this.graph.name, sites };
  }

  /**
   * Sets a plan: masks chosen by the L1 norms of the current weights, polynomial coefficients
   * fitted by least squares to ReLU on the first `calibrationImages` CIFAR-10 training images
   * (default 64; 0 keeps or resets them without data). Not fine-tuned: expect lower accuracy
   * than a model trained with the plan.
   */
  async applyPlan(plan: Plan, calibrationImages = 64): Promise<void> {
    let calibration: tf.Tensor4D | undefined;
    if (calibrationImages > 0) {
      const train = await loadCifar({ dataset: "cifar10", split: "train" });
      const [h, w, c] = (this.graph.ops[0] as InputOp).shape;
      const x = normalize(train.images.subarray(0, calibrationImages * IMAGE_BYTES), this.normalize);
      calibration = tf.tensor4d(x, [calibrationImages, h, w, c]);
    }
    try {
      applyPlan(this.model, this.graph, plan, calibration);
    } finally {
      calibration?.dispose();
    }
  }

  /** Float logits of the images, in batches of 100. */
  logits(images: Images): Float32Array {
    const [h, w, c] = (this.graph.ops[0] as InputOp).shape;
    const out: Float32Array[] = [];
    for (let start = 0; start < images.count; start += 100) {
      const n = Math.min(100, images.count - start);
      const x = normalize(
        images.pixels.subarray(start * IMAGE_BYTES, (start + n) * IMAGE_BYTES),
        this.normalize,
      );
      out.push(
        tf.tidy(() =>
          (this.model.predict(tf.tensor4d(x, [n, h, w, c])) as tf.Tensor).dataSync() as Float32Array
        ),
      );
    }
    const all = new Float32Array(out.reduce((s, a) => s + a.length, 0));
    out.reduce((offset, a) => (all.set(a, offset), offset + a.length), 0);
    return all;
  }

  /** Plaintext (float) accuracy on `images`. */
  accuracy(images: Images): Accuracy {
    const logits = this.logits(images);
    const classes = logits.length / images.count;
    const predictions = Uint8Array.from(
      { length: images.count },
      (_, i) => argmax(logits.subarray(i * classes, (i + 1) * classes)),
    );
    const correct = predictions.reduce((s, p, i) => s + Number(p === images.labels[i]), 0);
    return { accuracy: correct / images.count, correct, count: images.count, predictions };
  }

  /**
   * Classifies image `index` of `images` by the two-party protocol, both parties in this process
   * over an in-memory channel: the server holds this model (folded and quantised with
   * `fracBits`, default 9), the client the image. Takes seconds (CNN-7: about 10).
   */
  async secureInference(images: Images, index: number, fracBits?: number): Promise<SecureRun> {
    const pixels = imageAt(images, index);
    const plan = this.plan;
    const net = quantizeNetwork(foldNetwork(this.model, this.graph, plan), this.graph, { fracBits });
    const served = { graph: this.graph, net, plan, normalize: this.normalize };
    const [clientChannel, serverChannel] = memoryChannelPair();
    // A party that fails ends the session for both: the other would wait for its messages forever.
    const party = async <T>(run: () => Promise<T>, channel: typeof clientChannel): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        await channel.abort((error as Error).message);
        throw error;
      }
    };
    const started = performance.now();
    const [, result] = await Promise.all([
      party(async () => {
        const server = await InferenceServer.open(serverChannel, served);
        try {
          await server.serve();
        } finally {
          server.close();
        }
      }, serverChannel),
      party(async () => {
        const client = await InferenceClient.open(clientChannel);
        try {
          return await client.infer(normalize(pixels, client.offer.normalize as ChannelStats));
        } finally {
          client.close();
        }
      }, clientChannel),
    ]);
    await Promise.all([clientChannel.close(), serverChannel.close()]);
    const seconds = (performance.now() - started) / 1000;
    const stats = clientChannel.stats();
    const label = images.labels[index];
    const bytes = stats.total.bytesSent + stats.total.bytesReceived;
    return {
      predicted: result.predicted,
      label,
      logits: result.logits,
      plaintextLogits: this.logits({ pixels, labels: images.labels.subarray(index, index + 1), count: 1 }),
      seconds,
      stats,
      breakdown: breakdownTable(stats),
      summary: `Secure inference of test image ${index}: predicted ${className(result.predicted)}, ` +
        `true label ${className(label)}; ${seconds.toFixed(1)} s, ${(bytes / 2 ** 20).toFixed(1)} MiB ` +
        `exchanged (${this.name}, both parties in this process).`,
    };
  }
}

/**
 * Loads a trained model: a shipped one by name ({@link shippedModels}: cnn7, cnn7-plan80) or a
 * directory written by `deno task train --out DIR`. Its training.json gives the architecture
 * and the input normalisation (CIFAR-10's without one).
 */
export async function loadModel(nameOrDir: string = "cnn7"): Promise<LabModel> {
  const dir = shippedModels().includes(nameOrDir) ? `${REPO_ROOT}/data/pretrained/${nameOrDir}` : nameOrDir;
  let record: TrainingRecord = {};
  try {
    record = JSON.parse(await Deno.readTextFile(`${dir}/training.json`));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw new Error(`cannot read ${dir}/training.json: ${e}`);
  }
  const modelName = record.recipe?.model ?? "cnn7";
  if (!(MODEL_NAMES as readonly string[]).includes(modelName)) {
    throw new Error(
      `${dir}/training.json names the model '${modelName}', not one of ${MODEL_NAMES.join(", ")}`,
    );
  }
  const graph = architecture(modelName as ModelName, {
    batchNorm: record.recipe?.batchNorm ?? true,
    numClasses: record.recipe?.numClasses ?? 10,
  });
  let model: tfl.LayersModel;
  try {
    model = await loadModelDir(dir);
  } catch (e) {
    throw new Error(
      `cannot load model '${nameOrDir}' (${(e as Error).message}); shipped models are ${
        shippedModels().join(", ")
      }`,
    );
  }
  return new LabModel(nameOrDir, graph, model, record.config?.normalize ?? CIFAR10_STATS);
}

/** Per activation site of a plan: its size, the share approximated, ReLUs left, polynomial neurons. */
export function planTable(graph: Graph, plan: Plan): DataFrame {
  return tableFromRows(
    countPlan(graph, plan).sites.map((s) => ({
      site: s.id,
      "H x W x C": `${s.height} x ${s.width} x ${s.channels}`,
      alpha: s.alpha,
      degree: s.beta,
      neurons: s.neurons,
      ReLUs: s.relus,
      "polynomial neurons": s.approximatedNeurons,
    })),
  );
}

/** ReLUs and polynomial neurons per activation site, stacked. */
export function planChart(graph: Graph, plan: Plan): PlotlyFigure {
  const count = countPlan(graph, plan);
  const x = count.sites.map((s) => s.id);
  return {
    data: [
      { type: "bar", name: "ReLU", x, y: count.sites.map((s) => s.relus) },
      { type: "bar", name: "polynomial", x, y: count.sites.map((s) => s.approximatedNeurons) },
    ],
    layout: {
      title: {
        text: `${graph.name}: ${count.relus.toLocaleString("en-US")} ReLUs left of ${
          count.neurons.toLocaleString("en-US")
        } (${(100 * count.fractionReplaced).toFixed(1)}% replaced)`,
      },
      barmode: "stack",
      height: 360,
      yaxis: { title: { text: "neurons" } },
    },
  };
}

/** Options of {@link price}. */
export interface PriceOptions {
  /** Protocol variant; default "safenet" (the paper's protocol; "lab" is this project's). */
  readonly variant?: Variant;
  /**
   * "paper" (fitted to the paper's tables; the default) or "measured" (this machine's
   * benchmarks in results/bench_*.json).
   */
  readonly calibration?: "paper" | "measured";
  /** Default loopback. */
  readonly link?: keyof typeof LINKS;
}

/** The cost model's price of running `plan` on `graph` (lib/cost), before running anything. */
export async function price(graph: Graph, plan: Plan, options: PriceOptions = {}): Promise<Price> {
  const calibration = options.calibration === "measured"
    ? await measuredCalibration()
    : await paperCalibration();
  return priceSchedule(planSchedule(graph, plan), {
    variant: options.variant ?? "safenet",
    calibration,
    link: LINKS[options.link ?? "loopback"],
  });
}

const MIB = 2 ** 20;

/** A price per section (layer) and in total: seconds and MiB, offline and online. */
export function priceTable(p: Price): DataFrame {
  const row = (section: string, kind: string, s: Pick<Price, "offline" | "online">) => ({
    section,
    protocol: kind,
    "offline s": s.offline.total_s,
    "online s": s.online.total_s,
    "offline MiB": (s.offline.bytes.toServer + s.offline.bytes.toClient) / MIB,
    "online MiB": (s.online.bytes.toServer + s.online.bytes.toClient) / MIB,
  });
  return tableFromRows([...p.sections.map((s) => row(s.section, s.kind, s)), row("total", "", p)]);
}

/** Prices side by side, one row per name: offline, online and total seconds, and MiB exchanged. */
export function priceSummaryTable(prices: Readonly<Record<string, Price>>): DataFrame {
  return tableFromRows(
    Object.entries(prices).map(([name, p]) => ({
      plan: name,
      "offline s": p.offline.total_s,
      "online s": p.online.total_s,
      "total s": p.total_s,
      MiB: p.bytes / MIB,
    })),
  );
}

/** Measured time and bytes per section (layer) and phase, as one side of a session saw them. */
export function breakdownTable(stats: TrafficStats): DataFrame {
  const sections = [...new Set(stats.sections.map((s) => s.section))];
  const cell = (section: string, phase: "offline" | "online") =>
    stats.sections.find((s) => s.section === section && s.phase === phase);
  const row = (
    section: string,
    off: TrafficCounts | undefined = cell(section, "offline"),
    on: TrafficCounts | undefined = cell(section, "online"),
  ) => ({
    section,
    "offline s": (off?.timeMs ?? 0) / 1000,
    "online s": (on?.timeMs ?? 0) / 1000,
    "offline MiB": ((off?.bytesSent ?? 0) + (off?.bytesReceived ?? 0)) / MIB,
    "online MiB": ((on?.bytesSent ?? 0) + (on?.bytesReceived ?? 0)) / MIB,
    "online rounds": on?.roundTrips ?? 0,
  });
  return tableFromRows([
    ...sections.map((s) => row(s)),
    row("total", stats.phases.offline, stats.phases.online),
  ]);
}
