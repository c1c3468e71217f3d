/**
 * Test stand-ins: a tiny conv + batch-norm + dense model and a small synthetic, learnable
 * image data set, so training code can be tested in seconds on the cpu backend.
 *
 * @module
 */
import * as tfl from "@tensorflow/tfjs-layers";
import type { LabeledImages } from "../../data/cifar.ts";
import { Rng } from "../../data/random.ts";

/**
 * A 6x6x3 -> conv 4 -> BN -> ReLU -> dense 3 model with seeded initialisers; with `size` 32 it
 * takes CIFAR-shaped 32x32x3 inputs and average-pools them to 8x8 first.
 */
export function tinyModel(seed: number, batchNorm = true, size: 6 | 32 = 6): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, 3] });
  let h = size === 32
    ? tfl.layers.averagePooling2d({ poolSize: 4, name: "pool" }).apply(input) as tfl.SymbolicTensor
    : input;
  h = tfl.layers.conv2d({
    filters: 4,
    kernelSize: 3,
    padding: "same",
    useBias: !batchNorm,
    name: "conv1",
    kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  }).apply(h) as tfl.SymbolicTensor;
  if (batchNorm) {
    h = tfl.layers.batchNormalization({ name: "conv1_bn", momentum: 0.9 }).apply(h) as tfl.SymbolicTensor;
  }
  h = tfl.layers.reLU({ name: "act1" }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.flatten({ name: "flatten" }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({
    units: 3,
    name: "dense1",
    kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
  }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** A labelled set of 6x6x3 float images (NHWC) where the class sets which channel is bright. */
export interface TinyData {
  x: Float32Array;
  y: Uint8Array;
  count: number;
}

/** `count` synthetic examples from a seeded generator (mulberry32). */
export function tinyData(count: number, seed: number): TinyData {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float32Array(count * 108);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = Math.floor(rand() * 3);
    for (let p = 0; p < 36; p++) {
      for (let c = 0; c < 3; c++) x[i * 108 + p * 3 + c] = rand() - 0.5 + (c === y[i] ? 0.6 : 0);
    }
  }
  return { x, y, count };
}

/** `count` CIFAR-shaped (32x32x3 bytes) images of 3 classes; the class brightens one channel. */
export function tinyImages(count: number, seed: number): LabeledImages {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = rng.int(3);
    for (let i = 0; i < 3072; i++) images[n * 3072 + i] = rng.int(160) + (i % 3 === labels[n] ? 90 : 0);
  }
  return { images, labels, count, numClasses: 3 };
}

/** The weight called `name` out of a flat array laid out as `info` lists the weights (names and shapes). */
export function namedWeight(
  info: readonly { readonly name: string; readonly shape: readonly number[] }[],
  flat: Float32Array,
  name: string,
): Float32Array {
  let at = 0;
  for (const w of info) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.name === name) return flat.slice(at, at + size);
    at += size;
  }
  throw new Error(`no weight ${name}`);
}
