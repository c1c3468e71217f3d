import { batches } from "../lib/data/batches.ts";
import { loadCifar } from "../lib/data/cifar.ts";
import { CIFAR10_STATS } from "../lib/data/augment.ts";
import { loadCheckpoint } from "../lib/train/checkpoint.ts";
import { recipeFactory } from "../lib/train/models.ts";
import { WorkerEngine } from "../lib/train/parallel.ts";
const engine = await WorkerEngine.create({ workers: 2, backend: "wasm", factory: recipeFactory({ model: "cnn7", numClasses: 10, seed: 1 }), replica: { momentum: 0.9, weightDecay: 5e-4 } });
const train = await loadCifar({ dataset: "cifar10", split: "train" });
const it = batches(train, { batchSize: 64, seed: 1, epoch: 3, augment: true, normalize: CIFAR10_STATS, dropLast: true });
const real = Array.from({ length: 8 }, () => it.next().value!);
let s = 7; const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
const random = { x: Float32Array.from({ length: 64 * 3072 }, () => 2 * rnd() - 1), y: Int32Array.from({ length: 64 }, () => Math.floor(rnd() * 10)), count: 64 };
const clone = (b: typeof random) => ({ x: b.x.slice(), y: Int32Array.from(b.y), count: b.count });
async function time(name: string, get: (i: number) => typeof random) {
  for (let i = 0; i < 2; i++) await engine.step(get(i), 0.01);
  const t0 = performance.now();
  for (let i = 0; i < 8; i++) await engine.step(get(i), 0.01);
  console.log(name, (8 * 64 / ((performance.now() - t0) / 1000)).toFixed(1), "img/s");
}
await time("fresh weights, random batch", () => clone(random));
await time("fresh weights, real batches", (i) => clone(real[i % 8] as typeof random));
const ckpt = (await loadCheckpoint(`${Deno.env.get("HOME")}/.cache/safenet/runs/cnn7-relu-v1/checkpoint.bin`))!;
await engine.setWeights(ckpt.weights); await engine.setOptimizerState(ckpt.optimizer);
await time("trained weights, random batch", () => clone(random));
await time("trained weights, real batches", (i) => clone(real[i % 8] as typeof random));
await engine.close();
