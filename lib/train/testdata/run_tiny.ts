/**
 * A complete tiny training run in its own process, for the kill-and-resume test:
 * `deno run -A run_tiny.ts RUN_DIR WORKERS [HANG_AT_STEP]`. Prints `step N` after every step
 * (and hangs after step HANG_AT_STEP, waiting to be killed), then writes the final weights to
 * RUN_DIR/final.bin.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { LocalEngine } from "../engine.ts";
import { DEFAULT_CONFIG, replicaOptions, train, type TrainConfig } from "../loop.ts";
import { WorkerEngine } from "../parallel.ts";
import { tinyImages, tinyModel } from "./tiny.ts";

const [runDir, workersArg, hangArg] = Deno.args;
const workers = Number(workersArg);
const hangAt = hangArg ? Number(hangArg) : -1;

await tf.setBackend("cpu");
const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  epochs: 2,
  batchSize: 16,
  seed: 5,
  schedule: { kind: "cosine", peak: 0.05, warmupEpochs: 0.5 },
  labelSmoothing: 0.1,
  meta: { fixture: "tiny" },
};
const engine = workers === 0
  ? new LocalEngine(tinyModel(3, true, 32), replicaOptions(config))
  : await WorkerEngine.create({
    workers,
    backend: "cpu",
    factory: {
      module: new URL("./tiny.ts", import.meta.url).href,
      exportName: "tinyModel",
      args: [3, true, 32],
    },
    replica: replicaOptions(config),
  });
const encoder = new TextEncoder();
await train(config, {
  runDir,
  engine,
  train: tinyImages(100, 1),
  validation: tinyImages(20, 2),
  test: tinyImages(20, 3),
  checkpointSteps: 4,
  progress: { write: () => {} },
  say: (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
  onStep: (step) => {
    Deno.stdout.writeSync(encoder.encode(`step ${step}\n`));
    // Block this thread for good; the test kills the process here.
    if (step === hangAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  },
});
await Deno.writeFile(`${runDir}/final.bin`, new Uint8Array((await engine.weights()).buffer));
await engine.close();
