/**
 * AES-128 building blocks for the garbled-circuit and oblivious-transfer code: a seeded
 * pseudo-random generator (AES-128-CTR), a fixed-key tweakable circular-correlation-robust hash
 * (for OT extension) and the re-keyed permutations of the multi-instance hash used by garbling.
 *
 * Speed matters here: one ReLU costs about a thousand AES blocks. Deno's `node:crypto` runs
 * AES-128-ECB at ~15 ns per block even on large batches, the system OpenSSL (`libcrypto`) at
 * ~1.5-3 ns. So the backend is OpenSSL through Deno's FFI when the library loads and FFI is
 * permitted, otherwise `node:crypto`; both compute the same function (tested). Set the
 * environment variable `SAFENET_AES_BACKEND=node-crypto` to force the portable backend.
 *
 * Everything here works on little-endian 32-bit word views of 16-byte blocks (Int32Array),
 * the layout the rest of lib/mpc/gc and lib/mpc/ot uses.
 *
 * @module
 */

import { createCipheriv } from "node:crypto";

/** Which AES implementation runs: OpenSSL via FFI, or Deno's `node:crypto`. */
export type AesBackend = "openssl-ffi" | "node-crypto";

/** AES-128 in ECB (chosen blocks) or CTR (keystream) mode, encrypting buffers in place. */
export interface AesCipher {
  /** Encrypts `data` in place; its byte length must be a multiple of 16 for ECB. */
  encryptInPlace(data: ArrayBufferView): void;
  /** Replaces the key (ECB only; cheap with OpenSSL: one key schedule). */
  rekey(key: Uint8Array): void;
}

const OPENSSL_NAMES = ["libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib", "libcrypto.dylib"];

const OPENSSL_SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_aes_128_ecb: { parameters: [], result: "pointer" },
  EVP_aes_128_ctr: { parameters: [], result: "pointer" },
  EVP_EncryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_CIPHER_CTX_set_padding: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_EncryptUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
} as const;

type OpenSsl = Deno.DynamicLibrary<typeof OPENSSL_SYMBOLS>["symbols"];

function loadOpenSsl(): OpenSsl | null {
  // Query permissions first so that nothing prompts the user.
  try {
    const env = Deno.permissions.querySync({ name: "env", variable: "SAFENET_AES_BACKEND" });
    if (env.state === "granted" && Deno.env.get("SAFENET_AES_BACKEND") === "node-crypto") return null;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  } catch {
    return null;
  }
  for (const name of OPENSSL_NAMES) {
    try {
      return Deno.dlopen(name, OPENSSL_SYMBOLS).symbols;
    } catch {
      // Try the next name; no OpenSSL at all means the node:crypto backend.
    }
  }
  return null;
}

const openssl = loadOpenSsl();
// Contexts are few (one per PRG stream); free them when their cipher object is collected.
const freeContexts = new FinalizationRegistry<Deno.PointerValue>((ctx) => openssl?.EVP_CIPHER_CTX_free(ctx));

/** The backend that `aesEcb` / `aesCtr` use when none is named. */
export function defaultAesBackend(): AesBackend {
  return openssl ? "openssl-ffi" : "node-crypto";
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function checkKey(key: Uint8Array, what: string): void {
  if (key.length !== 16) {
    throw new RangeError(`${what}: AES-128 needs a 16-byte key, got ${key.length} bytes`);
  }
}

class OpenSslCipher implements AesCipher {
  #ctx: Deno.PointerValue;
  #outLen = new Int32Array(1);
  #ecb: boolean;
  constructor(mode: "ecb" | "ctr", key: Uint8Array, iv: Uint8Array | null) {
    const ssl = openssl!;
    this.#ecb = mode === "ecb";
    this.#ctx = ssl.EVP_CIPHER_CTX_new();
    if (this.#ctx === null) throw new Error("OpenSSL EVP_CIPHER_CTX_new failed (out of memory?)");
    freeContexts.register(this, this.#ctx);
    const cipher = mode === "ecb" ? ssl.EVP_aes_128_ecb() : ssl.EVP_aes_128_ctr();
    if (ssl.EVP_EncryptInit_ex(this.#ctx, cipher, null, key, iv) !== 1) {
      throw new Error("OpenSSL EVP_EncryptInit_ex failed for AES-128");
    }
    ssl.EVP_CIPHER_CTX_set_padding(this.#ctx, 0);
  }
  rekey(key: Uint8Array): void {
    if (!this.#ecb) throw new Error("rekey: only ECB ciphers can be re-keyed");
    if (openssl!.EVP_EncryptInit_ex(this.#ctx, null, null, key, null) !== 1) {
      throw new Error("OpenSSL EVP_EncryptInit_ex failed to re-key AES-128");
    }
  }
  encryptInPlace(data: ArrayBufferView): void {
    const bytes = bytesOf(data);
    // OpenSSL would buffer a partial ECB block and return less output than input.
    if (this.#ecb && bytes.length % 16 !== 0) {
      throw new RangeError("AES-ECB: length must be a multiple of 16 bytes");
    }
    // EVP_EncryptUpdate takes an int length: split huge buffers.
    for (let off = 0; off < bytes.length; off += 1 << 30) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + (1 << 30)));
      if (openssl!.EVP_EncryptUpdate(this.#ctx, part, this.#outLen, part, part.length) !== 1) {
        throw new Error("OpenSSL EVP_EncryptUpdate failed");
      }
    }
  }
}

class NodeCipher implements AesCipher {
  #cipher: ReturnType<typeof createCipheriv>;
  #mode: "ecb" | "ctr";
  constructor(mode: "ecb" | "ctr", key: Uint8Array, iv: Uint8Array | null) {
    this.#mode = mode;
    this.#cipher = createCipheriv(mode === "ecb" ? "aes-128-ecb" : "aes-128-ctr", key, iv);
    this.#cipher.setAutoPadding(false);
  }
  rekey(key: Uint8Array): void {
    if (this.#mode !== "ecb") throw new Error("rekey: only ECB ciphers can be re-keyed");
    this.#cipher = createCipheriv("aes-128-ecb", key, null);
    this.#cipher.setAutoPadding(false);
  }
  encryptInPlace(data: ArrayBufferView): void {
    const bytes = bytesOf(data);
    if (this.#mode === "ecb" && bytes.length % 16 !== 0) {
      throw new RangeError("AES-ECB: length must be a multiple of 16 bytes");
    }
    bytes.set(this.#cipher.update(bytes));
  }
}

function makeCipher(mode: "ecb" | "ctr", key: Uint8Array, iv: Uint8Array | null, backend: AesBackend) {
  if (backend === "openssl-ffi") {
    if (!openssl) {
      throw new Error(
        "AES backend 'openssl-ffi' is unavailable: run with --allow-ffi and a system libcrypto " +
          "(libssl3), or use 'node-crypto'",
      );
    }
    return new OpenSslCipher(mode, key, iv);
  }
  return new NodeCipher(mode, key, iv);
}

/** AES-128-ECB under `key`: a keyed permutation of 16-byte blocks. */
export function aesEcb(key: Uint8Array, backend: AesBackend = defaultAesBackend()): AesCipher {
  checkKey(key, "aesEcb");
  return makeCipher("ecb", key, null, backend);
}

/** AES-128-CTR keystream under `key` from counter block `iv` (16 bytes, default zero). */
export function aesCtr(
  key: Uint8Array,
  iv: Uint8Array = new Uint8Array(16),
  backend: AesBackend = defaultAesBackend(),
): AesCipher {
  checkKey(key, "aesCtr");
  return makeCipher("ctr", key, iv, backend);
}

/** A fresh 16-byte seed from the operating system's generator. */
export function randomSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

/**
 * Seeded pseudo-random generator: the AES-128-CTR keystream under the seed. Deterministic for a
 * given seed (tests, reproducible runs); pass `randomSeed()` for secrets.
 */
export class Prg {
  #ctr: AesCipher;

  /** A generator keyed by a 16-byte `seed`. */
  constructor(seed: Uint8Array = randomSeed(), backend: AesBackend = defaultAesBackend()) {
    checkKey(seed, "Prg");
    this.#ctr = aesCtr(seed, new Uint8Array(16), backend);
  }

  /** Overwrites `view` with the next pseudo-random bytes. */
  fill<T extends ArrayBufferView>(view: T): T {
    const bytes = bytesOf(view);
    bytes.fill(0);
    this.#ctr.encryptInPlace(bytes);
    return view;
  }

  /** The next `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** The next `n` pseudo-random 32-bit words. */
  int32s(n: number): Int32Array {
    return this.fill(new Int32Array(n));
  }

  /** `n` uniform bits, one per byte (0 or 1). */
  bits(n: number): Uint8Array {
    const raw = this.bytes(Math.ceil(n / 8));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (raw[i >> 3] >> (i & 7)) & 1;
    return out;
  }

  /**
   * `n` uniform integers in [0, modulus) as exact doubles, by rejection sampling on
   * bitLength(modulus) random bits (no modular bias). `modulus` must be an integer in [2, 2^53].
   */
  fieldElements(n: number, modulus: number): Float64Array {
    if (!Number.isSafeInteger(modulus - 1) || modulus < 2) {
      throw new RangeError(`fieldElements: modulus must be an integer in [2, 2^53], got ${modulus}`);
    }
    const bits = Math.ceil(Math.log2(modulus));
    const hiBits = Math.max(0, bits - 32);
    const loMask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
    const hiMask = 2 ** hiBits - 1;
    const out = new Float64Array(n);
    let filled = 0;
    while (filled < n) {
      // Acceptance is >= 1/2 per candidate; ask for a little more than expected.
      const want = Math.ceil((n - filled) * 2 ** bits / modulus * 1.05) + 16;
      const words = this.int32s(2 * want);
      for (let k = 0; k < want && filled < n; k++) {
        const v = (words[2 * k + 1] & hiMask) * 4294967296 + ((words[2 * k] & loMask) >>> 0);
        if (v < modulus) out[filled++] = v;
      }
    }
    return out;
  }
}

/**
 * The tweakable circular-correlation-robust hash of Guo, Katz, Wang and Yu (IEEE S&P 2020,
 * "Efficient and secure multiparty computation from fixed-key block ciphers"):
 * H(x, i) = π(π(x) ⊕ i) ⊕ π(x), with π = AES-128 under a fixed public key and i a 64-bit
 * counter. Two permutation calls per hash, batched. The OT extension uses it; garbling uses the
 * cheaper re-keyed hash (`RekeyedAes`).
 */
export class TccrHash {
  #perm: AesCipher;
  #scratch = new Int32Array(0);

  /** The hash over the fixed-key permutation `AES_key` (the key is public). */
  constructor(key: Uint8Array = FIXED_KEY, backend: AesBackend = defaultAesBackend()) {
    this.#perm = aesEcb(key, backend);
  }

  /**
   * The hash in two halves, for callers that fuse the final XOR into their own loop: on return
   * `blocks` holds π(x) and `out` holds π(π(x) ⊕ tweak), so H = blocks ⊕ out blockwise.
   * `blocks` holds `copies` runs of `run` blocks each (4 words per block); block b of every run
   * gets tweak counter `tweakBase + b` (< 2^53); runs share tweaks (both messages of one OT are
   * hashed under one tweak).
   */
  hashSplit(blocks: Int32Array, out: Int32Array, run: number, copies: number, tweakBase: number): void {
    const words = 4 * run * copies;
    if (blocks.length < words || out.length < words) {
      throw new RangeError(`TccrHash: buffers shorter than ${run} x ${copies} blocks`);
    }
    if (!Number.isSafeInteger(tweakBase + run)) throw new RangeError("TccrHash: tweak counter past 2^53");
    const x = blocks.subarray(0, words), z = out.subarray(0, words);
    this.#perm.encryptInPlace(x);
    const baseLo = tweakBase % 4294967296, baseHi = (tweakBase - baseLo) / 4294967296;
    for (let c = 0; c < copies; c++) {
      let lo = baseLo, hi = baseHi;
      for (let b = 0, w = 4 * c * run; b < run; b++, w += 4) {
        z[w] = x[w] ^ lo;
        z[w + 1] = x[w + 1] ^ hi;
        z[w + 2] = x[w + 2];
        z[w + 3] = x[w + 3];
        if (++lo === 4294967296) lo = 0, hi++;
      }
    }
    this.#perm.encryptInPlace(z);
  }

  /** Hashes blocks in place (layout and tweaks as in `hashSplit`). */
  hashInPlace(blocks: Int32Array, run: number, copies: number, tweakBase: number): void {
    const words = 4 * run * copies;
    if (this.#scratch.length < words) this.#scratch = new Int32Array(words);
    this.hashSplit(blocks, this.#scratch, run, copies, tweakBase);
    for (let j = 0; j < words; j++) blocks[j] ^= this.#scratch[j];
  }
}

/**
 * The permutations of the multi-instance tweakable circular-correlation-robust hash of Guo,
 * Katz, Wang, Weng and Yu (CRYPTO 2020, "Better concrete security for half-gates garbling (in
 * the multi-instance setting)"), as in emp-toolkit's MITCCRH:
 *
 *   H_id(x) = π_{S ⊕ id}(σ(x)) ⊕ σ(x),   σ(w0, w1, w2, w3) = (w2, w3, w0 ^ w2, w1 ^ w3)
 *
 * (σ maps x_L || x_R to (x_L ⊕ x_R) || x_L, a linear orthomorphism; words are little-endian, so
 * x_L is words 2-3). S is a random 128-bit start point per session and id a 64-bit counter that
 * never repeats within the session, so every tweak has its own AES key: one AES call per hash,
 * and security that does not degrade with the number of hashes under one key schedule. The
 * garbling code applies σ itself (fused into its loops); this class supplies π_{S ⊕ id}.
 */
export class RekeyedAes {
  #start: Int32Array;
  #key = new Int32Array(4);
  #keyBytes = new Uint8Array(this.#key.buffer);
  #cipher: AesCipher;

  /** Keys S ⊕ id for the 16-byte start point `start`. */
  constructor(start: Uint8Array, backend: AesBackend = defaultAesBackend()) {
    checkKey(start, "RekeyedAes");
    this.#start = new Int32Array(start.slice().buffer);
    this.#cipher = aesEcb(start, backend);
  }

  /** Encrypts `blocks` in place under key S ⊕ id (id a non-negative integer < 2^53). */
  encryptUnder(id: number, blocks: Int32Array): void {
    const lo = id % 4294967296;
    this.#key[0] = this.#start[0] ^ lo;
    this.#key[1] = this.#start[1] ^ ((id - lo) / 4294967296);
    this.#key[2] = this.#start[2];
    this.#key[3] = this.#start[3];
    this.#cipher.rekey(this.#keyBytes);
    this.#cipher.encryptInPlace(blocks);
  }
}

/** The public fixed AES key of `TccrHash` (any constant works; this one is "SAFENet-Lab-OT!!"). */
export const FIXED_KEY: Uint8Array = new TextEncoder().encode("SAFENet-Lab-OT!!");
