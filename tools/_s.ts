import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/nn/backend.ts";
import { recipeModel } from "../lib/train/models.ts";
const threads = Number(Deno.args[0]), batch = Number(Deno.args[1]);
await initBackend("wasm", { nativeThreads: threads });
const model = await recipeModel({ model: "vgg16", numClasses: 10, seed: 1 });
const x = tf.randomNormal([batch, 32, 32, 3]), y = tf.oneHot(tf.randomUniform([batch], 0, 10, "int32") as tf.Tensor1D, 10);
const step = () => { const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); };
for (let i = 0; i < 2; i++) step();
const ts: number[] = [];
for (let i = 0; i < 5; i++) { const t = performance.now(); step(); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log(`threads ${threads} batch ${batch}: median step ${ts[2].toFixed(0)} ms = ${(batch / ts[2] * 1000).toFixed(1)} img/s (forward+backward, no update)`);
