import assert from "node:assert/strict";
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
