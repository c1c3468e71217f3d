import assert from "node:assert/strict";
import { runTool as run } from "./testdata/process.ts";

Deno.test("eval: a directory without a model is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run("eval.ts", [dir]);
    assert.equal(r.code, 1);
    assert.match(r.text, /no trained model in .*: model\.json is missing\. Train one with `deno task train/);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("train --out then eval: the exported model scores what training.json records", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trained = await run("train.ts", [
      ...["--model", "cnn7", "--dataset", "cifar10", "--epochs", "1", "--batch", "32", "--subset", "64"],
      ...["--validation", "100", "--workers", "1", "--seed", "3", "--runs-dir", dir, "--run", "smoke"],
      ...["--out", `${dir}/model`],
    ]);
    assert.equal(trained.code, 0, trained.text);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/model/training.json`));
    assert.equal(record.epochs, 1);
    assert.match(record.command, /^deno task train --model cnn7 .*--subset 64 /);
    assert.ok(record.medianImagesPerSecond > 0);
    const evaluated = await run("eval.ts", [`${dir}/model`, "--json"]);
    assert.equal(evaluated.code, 0, evaluated.text);
    const result = JSON.parse(evaluated.text.match(/^\{.*\}$/m)![0]);
    assert.equal(result.count, 10000);
    // Same weights, same test set, same normalisation: the same accuracy to the image.
    assert.equal(result.accuracy, record.testAccuracy);
    // Fine-tuning it under a plan that replaces ReLUs defaults to the stable recipe.
    const fineTuned = await run("train.ts", [
      ...["--model", "cnn7", "--epochs", "1", "--batch", "32", "--subset", "64", "--validation", "100"],
      ...["--workers", "1", "--runs-dir", dir, "--run", "finetune", "--init", `${dir}/model`],
      ...["--plan", "data/plans/cnn7_uniform80_deg2.json", "--out", `${dir}/tuned`, "--store", "float16"],
    ]);
    assert.equal(fineTuned.code, 0, fineTuned.text);
    const tuned = JSON.parse(await Deno.readTextFile(`${dir}/tuned/training.json`));
    assert.equal(tuned.config.freezeBatchNorm, true);
    assert.equal(tuned.config.clipGradientNorm, 1);
    assert.ok(Number.isFinite(tuned.testLoss), `test loss ${tuned.testLoss}`);
    // Stored as float16: about half the bytes, and the recorded accuracy is the stored model's.
    assert.equal(tuned.storage, "float16");
    assert.ok(tuned.trainedTestAccuracy >= 0 && tuned.trainedTestAccuracy <= 1);
    const [full, half] = [`${dir}/model`, `${dir}/tuned`].map((d) => Deno.statSync(`${d}/weights.bin`).size);
    assert.ok(half < 0.55 * full, `${half} bytes stored as float16 vs ${full}`);
    const storedEval = await run("eval.ts", [`${dir}/tuned`, "--json"]);
    assert.equal(JSON.parse(storedEval.text.match(/^\{.*\}$/m)![0]).accuracy, tuned.testAccuracy);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
