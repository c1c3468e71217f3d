import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { loadCheckpoint } from "./checkpoint.ts";
import { LocalEngine } from "./engine.ts";
import {
  canonicalJson,
  DEFAULT_CONFIG,
  type EpochRecord,
  replicaOptions,
  RUN_FILES,
  train,
  type TrainConfig,
} from "./loop.ts";
import { tinyImages, tinyModel } from "./testdata/tiny.ts";

await tf.setBackend("cpu");

const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  epochs: 3,
  batchSize: 16,
  seed: 1,
  schedule: { kind: "cosine", peak: 0.1, warmupEpochs: 1 },
  testEvery: 2,
  meta: { what: "loop test" },
};
const data = { train: tinyImages(100, 1), validation: tinyImages(30, 2), test: tinyImages(30, 3) };
const quiet = { progress: { write: () => {} }, say: () => {} };

Deno.test("train: epochs, evaluation cadence, log and checkpoint files; a complete run is not retrained", async () => {
  const runDir = await Deno.makeTempDir();
  try {
    let steps = 0;
    const engine = new LocalEngine(tinyModel(1, true, 32), replicaOptions(config));
    const result = await train(config, { ...data, ...quiet, runDir, engine, onStep: () => steps++ });
    assert.equal(steps, 3 * 6); // 100 images, batch 16, last partial batch dropped
    assert.equal(result.history.length, 3);
    const [e1, e2, e3] = result.history;
    assert.equal(e1.testAccuracy, undefined);
    assert.ok(
      e2.testAccuracy !== undefined && e3.testAccuracy !== undefined,
      "test every 2 epochs and after the last",
    );
    assert.ok(result.history.every((r) => r.valAccuracy !== undefined));
    assert.ok(e3.valAccuracy! > 0.8, `the tiny task is learnable: val ${e3.valAccuracy}`);
    assert.ok(e3.trainLoss < e1.trainLoss);
    assert.ok(e3.lr < 1e-3, "cosine ends near zero");
    const log = (await Deno.readTextFile(join(runDir, RUN_FILES.log))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(log, result.history);
    assert.equal(
      canonicalJson(JSON.parse(await Deno.readTextFile(join(runDir, RUN_FILES.config)))),
      canonicalJson(config),
    );
    const ckpt = await loadCheckpoint(join(runDir, RUN_FILES.checkpoint));
    assert.deepEqual(ckpt!.weights, await engine.weights());

    // Running again finds the run complete: no step, same history.
    let again = 0;
    const fresh = new LocalEngine(tinyModel(9, true, 32), replicaOptions(config));
    const second = await train(config, { ...data, ...quiet, runDir, engine: fresh, onStep: () => again++ });
    assert.equal(again, 0);
    assert.deepEqual(second.history, result.history);
    assert.deepEqual(await fresh.weights(), await engine.weights());

    // Another configuration in the same directory is refused, naming what differs.
    const other = { ...config, weightDecay: 1e-3, meta: { what: "else" } };
    await assert.rejects(
      train(other, { ...data, ...quiet, runDir, engine: fresh }),
      /another configuration \(weightDecay: 0\.0005 -> 0\.001; meta\.what: "loop test" -> "else"\)/,
    );
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});

Deno.test("canonicalJson ignores key order", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 2 } }),
    canonicalJson({ a: { c: 2, d: [1, { x: 1, y: 2 }] }, b: 1 }),
  );
});

/** Runs the fixture; returns stdout. With `hangAt`, kills it (SIGKILL) once it reports that step. */
async function fixture(runDir: string, workers: number, hangAt?: number): Promise<string> {
  const script = new URL("./testdata/run_tiny.ts", import.meta.url).pathname;
  const args = ["run", "-A", "--quiet", script, runDir, String(workers), ...(hangAt ? [String(hangAt)] : [])];
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    out += decoder.decode(chunk);
    if (hangAt && out.includes(`step ${hangAt}\n`)) {
      child.kill("SIGKILL");
      break;
    }
  }
  const status = await child.status;
  const err = decoder.decode(await new Response(child.stderr).arrayBuffer());
  if (hangAt) assert.equal(status.signal, "SIGKILL", `fixture was not killed: ${err}`);
  else assert.equal(status.code, 0, `fixture failed: ${err}`);
  return out;
}

function withoutTimes(history: EpochRecord[]) {
  return history.map(({ time: _t, trainSeconds: _s, evalSeconds: _e, imagesPerSecond: _i, ...rest }) => rest);
}

for (const workers of [0, 2]) {
  const how = workers === 0 ? "in-process engine" : "2 workers";
  Deno.test(`SIGKILL mid-epoch, then the same command resumes to exactly the uninterrupted result (${how})`, async () => {
    const whole = await Deno.makeTempDir(), killed = await Deno.makeTempDir();
    try {
      await fixture(whole, workers);
      // 6 steps per epoch, checkpoints every 4 steps: the kill after step 5 loses step 5 only.
      const first = await fixture(killed, workers, 5);
      assert.ok(first.includes("step 5") && !first.includes("step 6"));
      const ckpt = await loadCheckpoint(join(killed, RUN_FILES.checkpoint));
      assert.deepEqual((ckpt!.header.progress as { globalStep: number }).globalStep, 4);
      const resumed = await fixture(killed, workers);
      assert.match(resumed, /resuming .* at epoch 1, step 4\/6 \(global step 4\)/);
      assert.ok(resumed.includes("step 5\n") && !resumed.includes("step 4\n"), "resumed at the checkpoint");
      assert.deepEqual(
        await Deno.readFile(join(killed, "final.bin")),
        await Deno.readFile(join(whole, "final.bin")),
      );
      const log = async (dir: string) =>
        (await Deno.readTextFile(join(dir, RUN_FILES.log))).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(withoutTimes(await log(killed)), withoutTimes(await log(whole)));
    } finally {
      await Deno.remove(whole, { recursive: true });
      await Deno.remove(killed, { recursive: true });
    }
  });
}
