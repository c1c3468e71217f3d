import * as tf from "@tensorflow/tfjs-core";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";
import { batchNormTraining } from "./batch_norm.ts";

type BnPath = "batchNormTraining" | "moments";

/**
 * One training step of a small CNN with every op kind the project's networks use: 3x3 and 1x1
 * convs with stride 1 and 2 ("same"), batch-norm, ReLU, average pooling, a residual add, dense,
 * softmax cross-entropy and SGD with momentum. Returns the loss, the gradients and the weights
 * after two momentum steps.
 */
function trainingStep(bnPath: BnPath): tf.Tensor[] {
  const x = randomTensor([4, 8, 8, 3], 30) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([0, 3, 1, 2], "int32"), 4);
  const convShapes = [[3, 3, 3, 8], [3, 3, 8, 8], [1, 1, 8, 8], [3, 3, 8, 8]];
  const vars = convShapes.map((s, i) => tf.variable(tf.mul(randomTensor(s, 40 + i), 0.3), true, `w${i}`));
  const gammas = convShapes.map((s, i) =>
    tf.variable(tf.add(tf.ones([s[3]]), tf.mul(randomTensor([s[3]], 50 + i), 0.1)), true, `g${i}`)
  );
  const betas = convShapes.map((s, i) =>
    tf.variable(tf.mul(randomTensor([s[3]], 60 + i), 0.1), true, `b${i}`)
  );
  const dense = tf.variable(tf.mul(randomTensor([2 * 2 * 8, 4], 70), 0.3), true, "dense");
  const bias = tf.variable(tf.zeros([4]), true, "bias");
  const all = [...vars, ...gammas, ...betas, dense, bias];

  const bnRelu = (h: tf.Tensor4D, i: number): tf.Tensor4D => {
    if (bnPath === "batchNormTraining") {
      const r = batchNormTraining(h, gammas[i] as tf.Tensor1D, betas[i] as tf.Tensor1D, 1e-3, "relu");
      tf.dispose([r.mean, r.variance]);
      return r.y;
    }
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    return tf.relu(tf.batchNorm(h, mean, variance, betas[i], gammas[i], 1e-3)) as tf.Tensor4D;
  };
  const loss = () => {
    const conv = (h: tf.Tensor4D, i: number, s: number) => tf.conv2d(h, vars[i] as tf.Tensor4D, s, "same");
    const h1 = bnRelu(conv(x, 0, 1), 0); // 8x8
    const p = tf.avgPool(h1, 2, 2, "valid"); // 4x4
    const h2 = bnRelu(conv(p, 1, 2), 1); // 2x2, stride-2 3x3
    const shortcut = bnRelu(conv(p, 2, 2), 2); // 2x2, stride-2 1x1
    const h3 = bnRelu(conv(tf.add(h2, shortcut), 3, 1), 3);
    const logits = tf.add(tf.matMul(tf.reshape(h3, [4, -1]) as tf.Tensor2D, dense as tf.Tensor2D), bias);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss, all);
  const opt = tf.train.momentum(0.1, 0.9);
  opt.applyGradients(all.map((v) => ({ name: v.name, tensor: grads[v.name] })));
  opt.minimize(loss);
  const out = [value, ...all.map((v) => grads[v.name]), ...all.map((v) => tf.clone(v))];
  opt.dispose();
  tf.dispose(all);
  return out;
}

for (const bnPath of ["batchNormTraining", "moments"] as BnPath[]) {
  Deno.test(`a CNN training step (${bnPath} batch-norm) gives the same loss, gradients and weights on wasm as on cpu`, async () => {
    await assertMatchesCpu(() => trainingStep(bnPath), 1e-4, bnPath);
  });
}
