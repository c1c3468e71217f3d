import assert from "node:assert/strict";
import { DATASETS } from "../lib/data/dataset.ts";
import { syntheticRecords, writeDataset } from "../lib/data/testdata.ts";
import { runTool as run } from "./testdata/process.ts";

Deno.test("train: missing or bad arguments fail before any work, with the usage", async () => {
  const none = await run("train.ts", ["--epochs", "1"]);
  assert.equal(none.code, 2);
  assert.match(none.text, /--model must be one of cnn7, vgg16, resnet32/);
  assert.match(none.text, /usage: deno task train/);
  const epochs = await run("train.ts", ["--model", "cnn7", "--epochs", "x"]);
  assert.match(epochs.text, /--epochs must be an integer, got 'x'/);
  const dataset = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--dataset", "mnist"]);
  assert.match(dataset.text, /--dataset must be cifar10 or cifar100/);
  const schedule = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--schedule", "cosine"]);
  assert.match(schedule.text, /train: schedule 'cosine': expected cosine:PEAK/);
});

Deno.test("train: a bad plan or value is one line before any data is loaded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/plan.json`, JSON.stringify({ model: "cnn7", sites: [] }));
    const plan = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--plan", `${dir}/plan.json`]);
    assert.equal(plan.code, 2);
    assert.match(plan.text, /train: the plan .*: invalid plan for cnn7: it has 0 sites, the network has 7/);
    assert.doesNotMatch(plan.text, /loading|usage:/);
    const batch = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--checkpoint-seconds", "soon"]);
    assert.match(batch.text, /--checkpoint-seconds must be a number, got 'soon'/);
    assert.doesNotMatch(batch.text, /loading|usage:/);
    const bn = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--bn", "running"]);
    assert.match(bn.text, /--bn must be batch or frozen, got 'running'/);
    const clip = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--clip-norm", "0"]);
    assert.match(clip.text, /--clip-norm must be a positive number or none, got '0'/);
    const threads = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--threads", "0"]);
    assert.match(threads.text, /--threads must be at least 1, got 0/);
    assert.doesNotMatch(threads.text, /loading|usage:/);
    const init = await run("train.ts", ["--model", "cnn7", "--epochs", "1", "--init", dir]);
    assert.match(init.text, /--init .* holds no saved model/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: the ResNet-32 recipe runs unchanged on a CIFAR-100-layout dataset (synthetic files)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spec = DATASETS.cifar100;
    // Fine and coarse labels spread over all classes, the official sizes (the loader checks them).
    const labels = (i: number) => [i % 20, i % 100];
    await writeDataset(`${dir}/data`, spec, {
      "train.bin": syntheticRecords(spec, 50_000, labels),
      "test.bin": syntheticRecords(spec, 10_000, labels),
    });
    const r = await run("train.ts", [
      ...["--model", "resnet32", "--dataset", "cifar100", "--epochs", "1", "--batch", "32"],
      ...["--lr", "0.1", "--wd", "5e-4", "--seed", "1", "--workers", "1", "--threads", "1", "--subset", "64"],
      ...["--validation", "100", "--runs-dir", `${dir}/runs`, "--run", "c100", "--out", `${dir}/model`],
    ], { SAFENET_DATA_DIR: `${dir}/data` });
    assert.equal(r.code, 0, r.text);
    // A lone worker would take both cores' oneDNN threads; --threads 1 leaves it one.
    assert.match(r.text, /kernels: (oneDNN .*, 1 thread\(s\) per worker|tfjs' own)/);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/model/training.json`));
    assert.equal(record.dataset, "cifar100");
    assert.equal(record.recipe.numClasses, 100);
    assert.ok(record.testAccuracy >= 0 && record.testAccuracy <= 1);
    const model = JSON.parse(await Deno.readTextFile(`${dir}/model/model.json`));
    assert.match(JSON.stringify(model), /"units":100/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
