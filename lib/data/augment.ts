/**
 * Preprocessing on typed arrays: per-channel normalisation to Float32 NHWC and the standard
 * CIFAR augmentation (4-pixel zero pad, random 32 x 32 crop, random horizontal flip).
 *
 * Augmentation works on the raw bytes before normalisation, so the pad is black (byte 0), as in
 * the usual torchvision pipeline (`RandomCrop(32, padding=4)` on the image, then `Normalize`).
 *
 * @module
 */

import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from "./dataset.ts";
import type { Rng } from "./random.ts";

/** Per-channel mean and standard deviation of pixel values scaled to [0, 1] (R, G, B). */
export interface ChannelStats {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** Scaling to [0, 1] only (mean 0, std 1). */
export const UNIT_SCALE: ChannelStats = { mean: [0, 0, 0], std: [1, 1, 1] };

/**
 * CIFAR-10 training-set statistics (the widely used values from the official files). The test
 * suite checks them against the local copy, which differs by JPEG error only.
 */
export const CIFAR10_STATS: ChannelStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

/**
 * Exact per-channel mean and (population) standard deviation of NHWC RGB bytes, scaled to
 * [0, 1]. Counts a histogram per channel, so it is exact and fast on 150 MB.
 */
export function channelStats(images: Uint8Array): ChannelStats {
  const hist = new Float64Array(IMAGE_CHANNELS * 256);
  for (let i = 0; i < images.length; i += 3) {
    hist[images[i]]++;
    hist[256 + images[i + 1]]++;
    hist[512 + images[i + 2]]++;
  }
  const mean = [0, 0, 0] as [number, number, number];
  const std = [0, 0, 0] as [number, number, number];
  const n = images.length / IMAGE_CHANNELS;
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    let s = 0;
    for (let v = 0; v < 256; v++) s += hist[c * 256 + v] * v;
    const m = s / n;
    let q = 0;
    for (let v = 0; v < 256; v++) q += hist[c * 256 + v] * (v - m) ** 2;
    mean[c] = m / 255;
    std[c] = Math.sqrt(q / n) / 255;
  }
  return { mean, std };
}

/**
 * Normalises NHWC RGB bytes: `(byte / 255 - mean[c]) / std[c]`, into `out` (allocated when
 * omitted; it must hold `images.length` floats).
 */
export function normalize(
  images: Uint8Array,
  stats: ChannelStats,
  out: Float32Array = new Float32Array(images.length),
): Float32Array {
  if (out.length < images.length) {
    throw new RangeError(`normalize: out holds ${out.length} < ${images.length}`);
  }
  // One 256-entry table per channel turns the arithmetic into a lookup.
  const lut = new Float32Array(IMAGE_CHANNELS * 256);
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    if (!(stats.std[c] > 0)) throw new RangeError(`normalize: std of channel ${c} is ${stats.std[c]}`);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - stats.mean[c]) / stats.std[c];
  }
  for (let i = 0; i < images.length; i += 3) {
    out[i] = lut[images[i]];
    out[i + 1] = lut[256 + images[i + 1]];
    out[i + 2] = lut[512 + images[i + 2]];
  }
  return out;
}

/** Zero padding on each side before the random crop. */
export const AUGMENT_PAD = 4;

/**
 * One augmentation: the crop's top-left corner in the padded 40 x 40 image (0..8 each;
 * `dx = dy = AUGMENT_PAD` is the original position) and whether to mirror left-right after.
 */
export interface CropFlip {
  readonly dx: number;
  readonly dy: number;
  readonly flip: boolean;
}

/** Draws a crop corner uniformly in 0..2*pad for each axis and a flip with probability 1/2. */
export function randomCropFlip(rng: Rng): CropFlip {
  return {
    dx: rng.int(2 * AUGMENT_PAD + 1),
    dy: rng.int(2 * AUGMENT_PAD + 1),
    flip: rng.uint32() >= 0x80000000,
  };
}

/**
 * Writes image `srcImage` of `src`, padded with zeros, cropped at (dx, dy) and optionally
 * mirrored, as image `dstImage` of `dst` (both NHWC RGB bytes; `src` and `dst` must differ).
 */
export function cropFlip(
  src: Uint8Array,
  srcImage: number,
  dst: Uint8Array,
  dstImage: number,
  t: CropFlip,
): void {
  const row = IMAGE_WIDTH * IMAGE_CHANNELS;
  const ox = t.dx - AUGMENT_PAD;
  const oy = t.dy - AUGMENT_PAD;
  // Output column x reads source column x + ox (before the flip); valid for x in [x0, x1).
  const x0 = Math.max(0, -ox);
  const x1 = Math.min(IMAGE_WIDTH, IMAGE_WIDTH - ox);
  const sBase = srcImage * IMAGE_BYTES;
  const dBase = dstImage * IMAGE_BYTES;
  for (let y = 0; y < IMAGE_HEIGHT; y++) {
    const out = dBase + y * row;
    const sy = y + oy;
    if (sy < 0 || sy >= IMAGE_HEIGHT || x0 >= x1) {
      dst.fill(0, out, out + row);
      continue;
    }
    const inp = sBase + sy * row + ox * IMAGE_CHANNELS;
    if (!t.flip) {
      dst.fill(0, out, out + x0 * 3);
      dst.set(src.subarray(inp + x0 * 3, inp + x1 * 3), out + x0 * 3);
      dst.fill(0, out + x1 * 3, out + row);
    } else {
      // Mirrored: column x of the crop lands at IMAGE_WIDTH-1-x.
      dst.fill(0, out, out + (IMAGE_WIDTH - x1) * 3);
      for (let x = x0, o = out + (IMAGE_WIDTH - 1 - x0) * 3; x < x1; x++, o -= 3) {
        const i = inp + x * 3;
        dst[o] = src[i];
        dst[o + 1] = src[i + 1];
        dst[o + 2] = src[i + 2];
      }
      dst.fill(0, out + (IMAGE_WIDTH - x0) * 3, out + row);
    }
  }
}

/**
 * Gathers images `indices` of `src` with a fresh random crop and flip each from `rng`, into
 * images 0..indices.length-1 of `out` (allocated when omitted).
 */
export function augmentImages(
  src: Uint8Array,
  indices: ArrayLike<number>,
  rng: Rng,
  out: Uint8Array = new Uint8Array(indices.length * IMAGE_BYTES),
): Uint8Array {
  for (let i = 0; i < indices.length; i++) cropFlip(src, indices[i], out, i, randomCropFlip(rng));
  return out;
}
