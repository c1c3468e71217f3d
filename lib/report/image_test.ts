import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { decodeImage, encodePng, imageFormat, resizeSquare, type RgbImage } from "./image.ts";

function image(width: number, height: number, at: (x: number, y: number, c: number) => number): RgbImage {
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) pixels[(y * width + x) * 3 + c] = at(x, y, c);
  }
  return { width, height, pixels };
}

Deno.test("imageFormat reads the magic bytes, whatever the size", () => {
  const png = encodePng(image(2, 2, () => 7));
  assert.equal(imageFormat(png), "png");
  assert.equal(imageFormat(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)), "jpeg");
  assert.equal(imageFormat(new Uint8Array(3072)), null);
  assert.throws(() => decodeImage(new Uint8Array(3072), "x.bin"), /x\.bin is neither a PNG nor a JPEG/);
});

Deno.test("decodeImage: PNG round trip, alpha over white, JPEG within its error", () => {
  const img = image(5, 3, (x, y, c) => 40 * x + 10 * y + c);
  assert.deepEqual(decodeImage(encodePng(img)), img);
  // A half-transparent black pixel and a transparent one, from pngjs directly.
  const rgba = Uint8Array.of(0, 0, 0, 128, 10, 20, 30, 0);
  const png = (pngjs as unknown as { PNG: { sync: { write(p: unknown): Uint8Array } } }).PNG.sync.write({
    width: 2,
    height: 1,
    data: Buffer.from(rgba),
  });
  assert.deepEqual([...decodeImage(png).pixels], [127, 127, 127, 255, 255, 255]);
  const photo = image(16, 16, (x, y) => 8 * x + 4 * y);
  const data = new Uint8Array(16 * 16 * 4).map((_, i) =>
    i % 4 === 3 ? 255 : photo.pixels[(i >> 2) * 3 + i % 4]
  );
  const decoded = decodeImage(new Uint8Array(jpeg.encode({ width: 16, height: 16, data }, 95).data));
  assert.equal(decoded.width, 16);
  assert.ok(decoded.pixels.every((v, i) => Math.abs(v - photo.pixels[i]) <= 6));
  assert.throws(() => decodeImage(png.subarray(0, 30), "cut.png"), /cut\.png is not a valid PNG file/);
});

Deno.test("resizeSquare averages the central square's areas; it keeps a 32x32 image as is", () => {
  // 96x64: the central 64x64 square of 2x2 blocks, each block one value.
  const wide = image(96, 64, (x, y, c) => (x < 16 || x >= 80) ? 255 : ((x - 16) >> 1) * 3 + (y >> 1) + c);
  const small = resizeSquare(wide, 32);
  assert.deepEqual(small, image(32, 32, (x, y, c) => 3 * x + y + c));
  const same = image(32, 32, (x, y, c) => (x * 7 + y * 3 + c) % 256);
  assert.deepEqual(resizeSquare(same), same);
  // Enlarging a 2x2 image: each source pixel covers a 16x16 block.
  const up = resizeSquare(image(2, 2, (x, y) => 100 * x + 50 * y));
  assert.equal(up.pixels[(5 * 32 + 20) * 3], 100);
  assert.equal(up.pixels[(20 * 32 + 20) * 3], 150);
});
