/**
 * Image files: PNG and JPEG decoded by pngjs and jpeg-js (pure JavaScript, no native build),
 * recognised by their magic bytes; resizing to the networks' 32x32 input; PNG encoding (for
 * charts of images, which are far smaller as a PNG than as pixel arrays).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import jpeg from "jpeg-js";
import pngjs from "pngjs";

/** An image as 8-bit RGB, interleaved, row by row (HWC). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width x height x 3 bytes. */
  readonly pixels: Uint8Array;
}

/** What pngjs (untyped) gives and takes. */
interface PngData {
  width: number;
  height: number;
  data: Uint8Array;
}
const PNG = (pngjs as unknown as {
  PNG: { sync: { read(data: Buffer): PngData; write(png: PngData): Uint8Array } };
}).PNG;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** Largest image decoded, in pixels: a 100-megapixel photo; beyond it decoding would exhaust memory. */
const MAX_PIXELS = 100e6;

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** The format of an image file by its first bytes, or null if neither PNG nor JPEG. */
export function imageFormat(bytes: Uint8Array): "png" | "jpeg" | null {
  if (startsWith(bytes, PNG_MAGIC)) return "png";
  if (startsWith(bytes, JPEG_MAGIC)) return "jpeg";
  return null;
}

/** RGBA to RGB over a white background (a transparent PNG's empty areas read as white). */
function rgbaToRgb(rgba: Uint8Array, width: number, height: number): RgbImage {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < pixels.length; i += 4, j += 3) {
    const a = rgba[i + 3] / 255;
    for (let c = 0; c < 3; c++) pixels[j + c] = Math.round(rgba[i + c] * a + 255 * (1 - a));
  }
  return { width, height, pixels };
}

/**
 * Decodes a PNG or JPEG file's bytes to RGB (any bit depth, palette, grey or alpha; alpha is
 * composited over white). Throws naming `source` if the bytes are neither, or do not decode.
 */
export function decodeImage(bytes: Uint8Array, source = "image"): RgbImage {
  const format = imageFormat(bytes);
  if (format === null) throw new Error(`${source} is neither a PNG nor a JPEG file (by its first bytes)`);
  try {
    if (format === "png") {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (png.width * png.height > MAX_PIXELS) throw new Error(`${png.width}x${png.height} is too large`);
      return rgbaToRgb(png.data, png.width, png.height);
    }
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 2048,
    });
    return rgbaToRgb(img.data, img.width, img.height);
  } catch (e) {
    throw new Error(`${source} is not a valid ${format.toUpperCase()} file: ${(e as Error).message}`);
  }
}

/**
 * The image's central square scaled to `size` x `size` (CIFAR's framing: square, object
 * centred). Each output pixel is the area-weighted mean of the source pixels it covers, so a
 * large photo is averaged rather than sampled (no aliasing), and a small one is enlarged.
 */
export function resizeSquare(image: RgbImage, size = 32): RgbImage {
  const side = Math.min(image.width, image.height);
  const x0 = (image.width - side) / 2, y0 = (image.height - side) / 2;
  const scale = side / size;
  const out = new Uint8Array(size * size * 3);
  const sums = new Float64Array(3);
  for (let oy = 0; oy < size; oy++) {
    const top = y0 + oy * scale, bottom = top + scale;
    for (let ox = 0; ox < size; ox++) {
      const left = x0 + ox * scale, right = left + scale;
      sums.fill(0);
      let total = 0;
      for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
        const wy = Math.min(bottom, y + 1) - Math.max(top, y);
        for (let x = Math.floor(left); x < Math.ceil(right); x++) {
          const w = wy * (Math.min(right, x + 1) - Math.max(left, x));
          const p = (y * image.width + x) * 3;
          for (let c = 0; c < 3; c++) sums[c] += w * image.pixels[p + c];
          total += w;
        }
      }
      const q = (oy * size + ox) * 3;
      for (let c = 0; c < 3; c++) out[q + c] = Math.round(sums[c] / total);
    }
  }
  return { width: size, height: size, pixels: out };
}

/** Encodes an RGB image as PNG bytes. */
export function encodePng(image: RgbImage): Uint8Array {
  const data = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, j = 0; i < image.pixels.length; i += 3, j += 4) {
    data.set(image.pixels.subarray(i, i + 3), j);
    data[j + 3] = 255;
  }
  return PNG.sync.write({ width: image.width, height: image.height, data });
}
