import assert from "node:assert/strict";
import {
  AUGMENT_PAD,
  augmentImages,
  channelStats,
  type CropFlip,
  cropFlip,
  normalize,
  randomCropFlip,
  UNIT_SCALE,
} from "./augment.ts";
import { IMAGE_BYTES } from "./dataset.ts";
import { Rng } from "./random.ts";

/** Random test images (never zero, so padding is recognisable). */
function images(count: number, seed = 1): Uint8Array {
  const r = new Rng(seed);
  return new Uint8Array(count * IMAGE_BYTES).map(() => 1 + r.int(255));
}

/** Straightforward reference: pixel (y, x, c) of the padded, cropped, flipped image. */
function reference(src: Uint8Array, i: number, t: CropFlip): Uint8Array {
  const out = new Uint8Array(IMAGE_BYTES);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const cx = t.flip ? 31 - x : x;
      const sy = y + t.dy - AUGMENT_PAD;
      const sx = cx + t.dx - AUGMENT_PAD;
      for (let c = 0; c < 3; c++) {
        const inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        out[(y * 32 + x) * 3 + c] = inside ? src[i * IMAGE_BYTES + (sy * 32 + sx) * 3 + c] : 0;
      }
    }
  }
  return out;
}

const one = (buf: Uint8Array, i = 0) => buf.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);

Deno.test("cropFlip: offset 4 without flip is the identity; flipping twice is the identity", () => {
  const src = images(3);
  const out = new Uint8Array(IMAGE_BYTES).fill(7);
  cropFlip(src, 2, out, 0, { dx: 4, dy: 4, flip: false });
  assert.deepEqual(out, one(src, 2));
  const once = new Uint8Array(IMAGE_BYTES);
  const twice = new Uint8Array(IMAGE_BYTES);
  cropFlip(src, 1, once, 0, { dx: 4, dy: 4, flip: true });
  assert.notDeepEqual(once, one(src, 1));
  cropFlip(once, 0, twice, 0, { dx: 4, dy: 4, flip: true });
  assert.deepEqual(twice, one(src, 1));
});

Deno.test("cropFlip: the pad area is zero and the rest is the shifted image", () => {
  const src = images(1);
  const out = new Uint8Array(IMAGE_BYTES).fill(7);
  cropFlip(src, 0, out, 0, { dx: 0, dy: 1, flip: false }); // 4 columns of pad left, 3 rows on top
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const px = out.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
      if (y < 3 || x < 4) assert.deepEqual([...px], [0, 0, 0], `pad at ${y},${x}`);
      else assert.deepEqual(px, src.subarray(((y - 3) * 32 + x - 4) * 3, ((y - 3) * 32 + x - 4) * 3 + 3));
    }
  }
});

Deno.test("cropFlip equals the reference for all 162 crops and flips", () => {
  const src = images(2, 5);
  const out = new Uint8Array(2 * IMAGE_BYTES).fill(7);
  for (let dy = 0; dy <= 8; dy++) {
    for (let dx = 0; dx <= 8; dx++) {
      for (const flip of [false, true]) {
        cropFlip(src, 1, out, 1, { dx, dy, flip });
        assert.deepEqual(one(out, 1), reference(src, 1, { dx, dy, flip }), `dx ${dx} dy ${dy} flip ${flip}`);
      }
    }
  }
  assert.ok(one(out, 0).every((v) => v === 7), "other images untouched");
});

Deno.test("randomCropFlip covers 0..8 on both axes and flips about half the time; augmentImages is seeded", () => {
  const r = new Rng(4);
  const xs = new Set<number>();
  const ys = new Set<number>();
  let flips = 0;
  for (let i = 0; i < 4000; i++) {
    const t = randomCropFlip(r);
    xs.add(t.dx);
    ys.add(t.dy);
    flips += t.flip ? 1 : 0;
  }
  assert.deepEqual([...xs].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...ys].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(flips > 1800 && flips < 2200, `flips ${flips}`);

  const src = images(10);
  const a = augmentImages(src, [3, 7, 3], new Rng(11));
  assert.deepEqual(augmentImages(src, [3, 7, 3], new Rng(11)), a);
  const check = new Rng(11);
  for (const [k, j] of [3, 7, 3].entries()) {
    assert.deepEqual(one(a, k), reference(src, j, randomCropFlip(check)));
  }
});

Deno.test("channelStats is exact; normalize maps bytes to (v/255 - mean)/std per channel", () => {
  const src = images(4, 2);
  const stats = channelStats(src);
  for (let c = 0; c < 3; c++) {
    const v: number[] = [];
    for (let i = c; i < src.length; i += 3) v.push(src[i] / 255);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    assert.ok(Math.abs(stats.mean[c] - mean) < 1e-12);
    assert.ok(Math.abs(stats.std[c] - std) < 1e-12);
  }
  const x = normalize(src, stats);
  assert.ok(x instanceof Float32Array && x.length === src.length);
  for (let i = 0; i < src.length; i += 997) {
    const c = i % 3;
    assert.ok(Math.abs(x[i] - (src[i] / 255 - stats.mean[c]) / stats.std[c]) < 1e-5);
  }
  // Normalised data has mean 0 per channel.
  let s = 0;
  for (let i = 0; i < x.length; i += 3) s += x[i];
  assert.ok(Math.abs(s / (x.length / 3)) < 1e-4, `mean ${s / (x.length / 3)}`);
  assert.deepEqual(normalize(new Uint8Array([0, 255, 51]), UNIT_SCALE), new Float32Array([0, 1, 0.2]));
  assert.throws(() => normalize(src, { mean: [0, 0, 0], std: [1, 0, 1] }), /std of channel 1/);
});
