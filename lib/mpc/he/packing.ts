/**
 * Coefficient packing of a stride-1 valid convolution into BFV plaintext polynomials, so that
 * one plaintext-ciphertext product computes many convolution outputs with no rotations (the
 * encoding of Cheetah, Huang et al., USENIX Security 2022, specialised to row tiles).
 *
 * In Z_t[X]/(X^N + 1), a block of Cb input channels x Hb rows x Wb columns (Cb Hb Wb <= N) is
 * the polynomial with coefficient z[c][i][j] at c Hb Wb + i Wb + j. For Mb output channels the
 * kernel polynomial has w[m][c][l][l'] at m S + O - c Hb Wb - l Wb - l', with S = Cb Hb Wb and
 * O = (Cb - 1) Hb Wb + (k - 1) Wb + (k - 1). Their product has at m S + O + i Wb + j exactly
 * sum_c sum_{l,l'} z[c][i + l][j + l'] w[m][c][l][l'], the partial convolution over the block's
 * channels at output (i, j), for i <= Hb - k and j <= Wb - k:
 * - terms with c' != c land outside [m S + O, m S + O + Hb Wb) (their offset is a non-zero
 *   multiple of Hb Wb minus less than k Wb), and terms of other output channels m' stay in
 *   [m' S, m' S + O + S), which is disjoint from m's outputs when S = Cb Hb Wb;
 * - with Mb S <= N every exponent is below N + O, so the negacyclic wrap-around only reaches
 *   exponents below O, where no output lives.
 * Products of the input blocks of all channel groups are summed, which completes the sum over
 * channels. Every other coefficient is "garbage" that depends on the weights: the server masks
 * all N coefficients before answering.
 *
 * Tiles split the output rows (each tile's block repeats the k - 1 halo rows). The choice of
 * (tile rows, Cb, Mb) minimises a cost model of ciphertexts sent each way and products, with
 * Mb = floor(N / (Cb Hb Wb)).
 *
 * @module
 */

import type { ConvGeometry } from "./layer.ts";

/** How one convolution is packed. */
export interface Packing {
  readonly geometry: ConvGeometry;
  /** N, coefficients per polynomial. */
  readonly degree: number;
  /** Output rows per tile. */
  readonly tileRows: number;
  /** Input rows per block: tileRows + k - 1. */
  readonly blockRows: number;
  /** Input columns per block (the whole width). */
  readonly blockWidth: number;
  /** Cb: input channels per block. */
  readonly channelsPerBlock: number;
  /** Mb: output channels per answer polynomial. */
  readonly outputsPerPoly: number;
  readonly tiles: number;
  readonly channelGroups: number;
  readonly outputGroups: number;
  /** Ciphertexts client to server: tiles x channel groups. */
  readonly inputPolys: number;
  /** Ciphertexts server to client: tiles x output groups. */
  readonly outputPolys: number;
  /** Plaintext-ciphertext products: tiles x channel groups x output groups. */
  readonly products: number;
}

/** Relative costs (about milliseconds on this machine kind, bytes at ~1 Gbit/s included). */
export interface PackingCost {
  /** Per input ciphertext: client encryption, server load and NTT, 128 KiB. */
  readonly input: number;
  /** Per kernel plaintext: encoding and NTT (shared by all tiles). */
  readonly kernel: number;
  /** Per product in NTT form. */
  readonly product: number;
  /** Per output ciphertext: inverse NTT, mask, switch, 128 KiB, decryption. */
  readonly output: number;
}

/** Default cost weights, from node-seal 6.0.3 timings at N = 8192 (see tools/bench_he.ts). */
export const DEFAULT_PACKING_COST: PackingCost = { input: 9, kernel: 1.2, product: 0.8, output: 7 };

/** The packing of `g` with `tileRows` output rows per tile and `cb` channels per block. */
export function packingWith(g: ConvGeometry, degree: number, tileRows: number, cb: number): Packing {
  if ((tileRows + g.kernel - 1) * g.width * cb > degree || tileRows < 1 || cb < 1) {
    throw new RangeError(
      `packingWith: ${cb} channels x ${tileRows + g.kernel - 1} x ${g.width} do not fit N = ${degree}`,
    );
  }
  const blockRows = tileRows + g.kernel - 1, blockWidth = g.width;
  const blockSize = cb * blockRows * blockWidth;
  const outputsPerPoly = Math.min(g.outChannels, Math.floor(degree / blockSize));
  const tiles = Math.ceil(g.outHeight / tileRows);
  const channelGroups = Math.ceil(g.channels / cb);
  const outputGroups = Math.ceil(g.outChannels / outputsPerPoly);
  return {
    geometry: g,
    degree,
    tileRows,
    blockRows,
    blockWidth,
    channelsPerBlock: cb,
    outputsPerPoly,
    tiles,
    channelGroups,
    outputGroups,
    inputPolys: tiles * channelGroups,
    outputPolys: tiles * outputGroups,
    products: tiles * channelGroups * outputGroups,
  };
}

/** The cost model's estimate for one packing. */
export function packingCost(pk: Packing, cost: PackingCost = DEFAULT_PACKING_COST): number {
  return cost.input * pk.inputPolys + cost.kernel * pk.channelGroups * pk.outputGroups +
    cost.product * pk.products + cost.output * pk.outputPolys;
}

/** The cheapest packing of `g` into polynomials of `degree` coefficients under `cost`. */
export function choosePacking(
  g: ConvGeometry,
  degree = 8192,
  cost: PackingCost = DEFAULT_PACKING_COST,
): Packing {
  if (g.kernel * g.width > degree) {
    throw new RangeError(
      `HE packing: one block of ${g.kernel} rows x ${g.width} columns exceeds N = ${degree}; ` +
        "column tiling is not implemented",
    );
  }
  let best: Packing | undefined, bestCost = Infinity;
  for (let tileRows = 1; tileRows <= g.outHeight; tileRows++) {
    const rowsSize = (tileRows + g.kernel - 1) * g.width;
    if (rowsSize > degree) break;
    const maxCb = Math.min(g.channels, Math.floor(degree / rowsSize));
    for (let cb = 1; cb <= maxCb; cb++) {
      const pk = packingWith(g, degree, tileRows, cb);
      const c = packingCost(pk, cost);
      if (c < bestCost) best = pk, bestCost = c;
    }
  }
  return best!;
}

/** Index of the polynomial of tile `t` and group `q` in a tile-major list. */
export function polyIndex(t: number, q: number, groups: number): number {
  return t * groups + q;
}

/** The input polynomials: for each tile and channel group (tile-major), N coefficients. */
export function packInput(pk: Packing, z: Float64Array): Float64Array[] {
  const g = pk.geometry;
  if (z.length !== g.channels * g.height * g.width) {
    throw new RangeError(
      `packInput: input has ${z.length} elements, geometry needs ${g.channels * g.height * g.width}`,
    );
  }
  const { blockRows: hb, blockWidth: wb, channelsPerBlock: cb } = pk;
  const polys: Float64Array[] = [];
  for (let t = 0; t < pk.tiles; t++) {
    const row0 = t * pk.tileRows;
    for (let q = 0; q < pk.channelGroups; q++) {
      const poly = new Float64Array(pk.degree);
      for (let cl = 0; cl < cb; cl++) {
        const c = q * cb + cl;
        if (c >= g.channels) break;
        for (let i = 0; i < hb && row0 + i < g.height; i++) {
          const src = (c * g.height + row0 + i) * g.width, dst = (cl * hb + i) * wb;
          poly.set(z.subarray(src, src + g.width), dst);
        }
      }
      polys.push(poly);
    }
  }
  return polys;
}

/** Offset O of output (0, 0) of the first output channel in a product. */
function outputOffset(pk: Packing): number {
  const k = pk.geometry.kernel;
  return (pk.channelsPerBlock - 1) * pk.blockRows * pk.blockWidth + (k - 1) * pk.blockWidth + (k - 1);
}

/**
 * The kernel polynomial of channel group `cg` and output group `og` (kernel `kz` in the
 * geometry's [out][in][k][k] layout), or null when all its weights are zero.
 */
export function packKernel(pk: Packing, kz: Float64Array, cg: number, og: number): Float64Array | null {
  const g = pk.geometry, k = g.kernel;
  const { blockRows: hb, blockWidth: wb, channelsPerBlock: cb, outputsPerPoly: mb } = pk;
  const stride = cb * hb * wb, offset = outputOffset(pk);
  const poly = new Float64Array(pk.degree);
  let any = false;
  for (let ml = 0; ml < mb; ml++) {
    const m = og * mb + ml;
    if (m >= g.outChannels) break;
    for (let cl = 0; cl < cb; cl++) {
      const c = cg * cb + cl;
      if (c >= g.channels) break;
      for (let l = 0; l < k; l++) {
        for (let l2 = 0; l2 < k; l2++) {
          const v = kz[((m * g.channels + c) * k + l) * k + l2];
          if (v === 0) continue;
          poly[ml * stride + offset - cl * hb * wb - l * wb - l2] = v;
          any = true;
        }
      }
    }
  }
  return any ? poly : null;
}

/**
 * Calls `visit(poly, coefficient, m, y, x)` for every convolution output held by the answer
 * polynomials: output channel m at row y, column x of the geometry's output.
 */
export function forEachOutput(
  pk: Packing,
  visit: (poly: number, coefficient: number, m: number, y: number, x: number) => void,
): void {
  const g = pk.geometry;
  const stride = pk.channelsPerBlock * pk.blockRows * pk.blockWidth, offset = outputOffset(pk);
  for (let t = 0; t < pk.tiles; t++) {
    for (let og = 0; og < pk.outputGroups; og++) {
      const poly = polyIndex(t, og, pk.outputGroups);
      for (let ml = 0; ml < pk.outputsPerPoly; ml++) {
        const m = og * pk.outputsPerPoly + ml;
        if (m >= g.outChannels) break;
        for (let i = 0; i < pk.tileRows; i++) {
          const y = t * pk.tileRows + i;
          if (y >= g.outHeight) break;
          for (let x = 0; x < g.outWidth; x++) {
            visit(poly, ml * stride + offset + i * pk.blockWidth + x, m, y, x);
          }
        }
      }
    }
  }
}

/** Gathers the outputs from the answer polynomials into HWC order [outHeight][outWidth][outChannels]. */
export function unpackOutput(pk: Packing, polys: readonly Float64Array[]): Float64Array {
  const g = pk.geometry;
  if (polys.length !== pk.outputPolys) {
    throw new RangeError(`unpackOutput: ${polys.length} polynomials, expected ${pk.outputPolys}`);
  }
  const out = new Float64Array(g.outHeight * g.outWidth * g.outChannels);
  forEachOutput(pk, (poly, coeff, m, y, x) => {
    out[(y * g.outWidth + x) * g.outChannels + m] = polys[poly][coeff];
  });
  return out;
}
