/**
 * Microsoft SEAL (node-seal 6.0.3) glue for the BFV scheme: parameters, coefficient-encoded and
 * batched plaintexts, ciphertext (de)serialisation and message framing.
 *
 * Parameters: N = 8192, plaintext modulus t (Delphi's p by default; any prime t < 2^50 with
 * t = 1 mod 2N for batching), coefficient modulus three 60-bit data primes and SEAL's "special"
 * prime of 38 bits (218 bits in all, the most 128-bit security allows at N = 8192). Queries are
 * encrypted at the three-prime data level (~180 bits, Delta = q / t ~ 2^139) so that the server
 * can flood its answers' noise with ~2^128 of statistical noise (answer.ts) and still decrypt;
 * answers are then switched down to the first prime before sending (same bytes as one prime).
 * The client encrypts its queries with its secret key (seeded symmetric ciphertexts, half the
 * bytes) and sends its public key once per session; the server needs no evaluation keys (it only
 * multiplies by and adds plaintexts), and uses the public key to re-randomise its answers.

 * Coefficient plaintexts: node-seal has no setter for plaintext coefficients, so a plaintext is
 * built by loading SEAL's own uncompressed serialisation (header, parms_id, coeff_count, scale,
 * then the coefficient array as little-endian uint64 at a fixed offset), the layout written by
 * SEAL 3.6+/4.x `Plaintext::save`; `plaintextFromCoeffs` checks the template it patches.
 *
 * SEAL objects live in the wasm heap and must be freed with `.delete()`; helpers here free
 * everything they create except what they return (`disposeKeys` frees a key set).
 *
 * @module
 */

import sealModule from "node-seal";
import type { SEALLibrary } from "node-seal/implementation/seal";
import { P } from "../field.ts";

/** The node-seal library object. */
export type SealLibrary = SEALLibrary;
// Deno types the CommonJS default export as the module namespace; at runtime it is the loader.
const SEAL = sealModule as unknown as () => Promise<SEALLibrary>;
/** A SEAL ciphertext. */
export type CipherText = ReturnType<SealLibrary["CipherText"]>;
/** A SEAL plaintext. */
export type PlainText = ReturnType<SealLibrary["PlainText"]>;
type Context = ReturnType<SealLibrary["Context"]>;
type Evaluator = ReturnType<SealLibrary["Evaluator"]>;
/** A SEAL encryptor. */
export type Encryptor = ReturnType<SealLibrary["Encryptor"]>;
type Decryptor = ReturnType<SealLibrary["Decryptor"]>;
type BatchEncoder = ReturnType<SealLibrary["BatchEncoder"]>;

/** Ring dimension N (polynomial degree). */
const POLY_DEGREE = 8192;
/** Bit sizes of the coefficient-modulus primes: the data level, then the special prime (last). */
const COEFF_MODULUS_BITS: readonly number[] = [60, 60, 60, 38];

/** Byte offset of the coefficient array in an uncompressed serialised plaintext. */
const PT_DATA_OFFSET = 88;

let sealPromise: Promise<SealLibrary> | undefined;

/** The SEAL library, loaded once per process. */
function loadSeal(): Promise<SealLibrary> {
  sealPromise ??= SEAL();
  return sealPromise;
}

/** A BFV context for one plaintext modulus: what both parties need to handle ciphertexts. */
export interface HeContext {
  readonly seal: SealLibrary;
  readonly context: Context;
  readonly evaluator: Evaluator;
  /** The plaintext modulus t. */
  readonly plainModulus: number;
  /** N. */
  readonly degree: number;
  /** A serialised all-zero plaintext of N coefficients, patched by `plaintextFromCoeffs`. */
  readonly plainTemplate: Uint8Array;
  /** Slot encoder (t = 1 mod 2N). */
  readonly batchEncoder: BatchEncoder;
}

const contexts = new Map<number, Promise<HeContext>>();

/** The BFV context for plaintext modulus `plainModulus` (cached per modulus). */
export function heContext(plainModulus: number = P): Promise<HeContext> {
  let ctx = contexts.get(plainModulus);
  if (!ctx) {
    ctx = makeContext(plainModulus);
    contexts.set(plainModulus, ctx);
  }
  return ctx;
}

async function makeContext(plainModulus: number): Promise<HeContext> {
  const N = POLY_DEGREE;
  if (!Number.isSafeInteger(plainModulus) || plainModulus >= 2 ** 50 || (plainModulus - 1) % (2 * N) !== 0) {
    throw new RangeError(
      `HE: plaintext modulus must be a prime below 2^50 with t = 1 mod ${
        2 * N
      } (for batching), got ${plainModulus}`,
    );
  }
  const seal = await loadSeal();
  const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
  parms.setPolyModulusDegree(N);
  parms.setCoeffModulus(seal.CoeffModulus.Create(N, Int32Array.from(COEFF_MODULUS_BITS)));
  parms.setPlainModulus(seal.Modulus(BigInt(plainModulus)));
  const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  parms.delete();
  if (!context.parametersSet()) {
    throw new Error(`HE: SEAL rejected BFV parameters N=${N}, q=${COEFF_MODULUS_BITS}, t=${plainModulus}`);
  }
  const zero = seal.PlainText({ coeffCount: N });
  const plainTemplate = zero.saveArray(seal.ComprModeType.none);
  zero.delete();
  const view = new DataView(plainTemplate.buffer, plainTemplate.byteOffset);
  if (plainTemplate.length !== PT_DATA_OFFSET + 8 * N || view.getUint32(80, true) !== N) {
    throw new Error(
      "HE: unexpected SEAL plaintext serialisation layout (node-seal other than 6.0.3?); " +
        "plaintextFromCoeffs needs updating",
    );
  }
  const batchEncoder = seal.BatchEncoder(context);
  return {
    seal,
    context,
    evaluator: seal.Evaluator(context),
    plainModulus,
    degree: N,
    plainTemplate,
    batchEncoder,
  };
}

/** The plaintext polynomial with the given coefficients (elements of [0, t); shorter arrays are zero-padded). */
export function plaintextFromCoeffs(he: HeContext, coeffs: Float64Array): PlainText {
  if (coeffs.length > he.degree) {
    throw new RangeError(`plaintext: ${coeffs.length} coefficients > N = ${he.degree}`);
  }
  const bytes = he.plainTemplate.slice();
  const words = new Uint32Array(bytes.buffer, PT_DATA_OFFSET, 2 * he.degree);
  for (let i = 0; i < coeffs.length; i++) {
    const v = coeffs[i];
    const lo = v % 4294967296;
    words[2 * i] = lo;
    words[2 * i + 1] = (v - lo) / 4294967296;
  }
  const pt = he.seal.PlainText();
  pt.loadArray(he.context, bytes);
  return pt;
}

/** The N coefficients of a (non-NTT) plaintext, e.g. a decryption. */
export function coeffsOfPlaintext(he: HeContext, pt: PlainText): Float64Array {
  const bytes = pt.saveArray(he.seal.ComprModeType.none);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const count = view.getUint32(80, true);
  const out = new Float64Array(he.degree);
  for (let i = 0; i < Math.min(count, he.degree); i++) {
    out[i] = view.getUint32(PT_DATA_OFFSET + 8 * i, true) +
      view.getUint32(PT_DATA_OFFSET + 8 * i + 4, true) * 4294967296;
  }
  return out;
}

/** A batched plaintext: slot i holds values[i] (elements of [0, t); at most N values). */
export function plaintextFromSlots(he: HeContext, values: Float64Array): PlainText {
  if (values.length > he.degree) throw new RangeError(`plaintext: ${values.length} slots > N = ${he.degree}`);
  const slots = new BigUint64Array(he.degree);
  for (let i = 0; i < values.length; i++) slots[i] = BigInt(values[i]);
  return he.batchEncoder.encode(slots) as PlainText;
}

/** The N slot values of a batched plaintext. */
export function slotsOfPlaintext(he: HeContext, pt: PlainText): Float64Array {
  const slots = he.batchEncoder.decodeBigInt(pt, false);
  const out = new Float64Array(slots.length);
  for (let i = 0; i < slots.length; i++) out[i] = Number(slots[i]);
  return out;
}

/** Loads a ciphertext sent by the peer, failing clearly on a parameter mismatch. */
export function loadCiphertext(he: HeContext, bytes: Uint8Array, what: string): CipherText {
  const ct = he.seal.CipherText();
  try {
    ct.loadArray(he.context, bytes);
  } catch (e) {
    ct.delete();
    throw new Error(
      `HE: cannot load ${what} (${bytes.length} bytes): ${e instanceof Error ? e.message : e}; ` +
        `both parties must use the same BFV parameters (N=${he.degree}, t=${he.plainModulus})`,
    );
  }
  return ct;
}

/**
 * A ciphertext's residues, as SEAL's uncompressed serialisation holds them (node-seal has no
 * coefficient access): `size` components x `coeffModulusSize` primes x N little-endian uint64,
 * at the end of `bytes` from `offset`. Edit `data`, then `ciphertextFromWords`.
 */
export interface CiphertextWords {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly data: BigUint64Array;
}

/** The residues of `ct` (see `CiphertextWords`). */
export function ciphertextWords(he: HeContext, ct: CipherText): CiphertextWords {
  const bytes = ct.saveArray(he.seal.ComprModeType.none);
  const words = ct.size * ct.coeffModulusSize * he.degree;
  const offset = bytes.length - 8 * words;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The data array is serialised as its length, then its elements.
  if (offset < 8 || view.getBigUint64(offset - 8, true) !== BigInt(words)) {
    throw new Error("HE: unexpected SEAL ciphertext serialisation layout (node-seal other than 6.0.3?)");
  }
  const data = new BigUint64Array(words);
  new Uint8Array(data.buffer).set(bytes.subarray(offset));
  return { bytes, offset, data };
}

/** A new ciphertext from (edited) residues. */
export function ciphertextFromWords(he: HeContext, w: CiphertextWords): CipherText {
  const bytes = w.bytes.slice();
  bytes.set(new Uint8Array(w.data.buffer), w.offset);
  const ct = he.seal.CipherText();
  ct.loadArray(he.context, bytes);
  return ct;
}

/** The client's half of HE: the secret key, encryption and decryption. */
export interface HeKeys {
  readonly he: HeContext;
  readonly encryptor: Encryptor;
  readonly decryptor: Decryptor;
  /** The public key, serialised (seeded), for the server to re-randomise its answers. */
  readonly publicKey: Uint8Array;
}

/** Fresh secret key for `he` (the client's; never sent). Free it with `disposeKeys`. */
export function heKeys(he: HeContext): HeKeys {
  const keygen = he.seal.KeyGenerator(he.context);
  const sk = keygen.secretKey();
  const serializable = keygen.createPublicKeySerializable();
  const publicKey = serializable.saveArray(he.seal.ComprModeType.none);
  serializable.delete();
  // node-seal's Encryptor requires a public key object even though the client encrypts symmetrically.
  const pk = keygen.createPublicKey();
  const encryptor = he.seal.Encryptor(he.context, pk, sk);
  const decryptor = he.seal.Decryptor(he.context, sk);
  // The encryptor and decryptor keep their own copies of the keys.
  sk.delete();
  pk.delete();
  keygen.delete();
  return { he, encryptor, decryptor, publicKey };
}

/** Frees the wasm memory of keys from `heKeys`; they cannot be used afterwards. */
export function disposeKeys(keys: HeKeys): void {
  keys.encryptor.delete();
  keys.decryptor.delete();
}

/** Seeded symmetric encryption of a plaintext, serialised (about N x 2 primes x 8 bytes). */
export function encryptToBytes(keys: HeKeys, pt: PlainText): Uint8Array {
  const ser = keys.encryptor.encryptSymmetricSerializable(pt);
  const bytes = ser.saveArray(keys.he.seal.ComprModeType.none);
  ser.delete();
  return bytes;
}

/**
 * Decrypts a ciphertext; throws if its noise budget is exhausted (the result would be garbage),
 * which points at a parameter problem rather than failing silently.
 */
export function decryptChecked(keys: HeKeys, ct: CipherText, what: string): PlainText {
  if (keys.decryptor.invariantNoiseBudget(ct) <= 0) {
    throw new Error(
      `HE: ${what} has no noise budget left; the coefficient modulus is too small for this layer`,
    );
  }
  return keys.decryptor.decrypt(ct) as PlainText;
}

/** Bytes of SEAL's serialisation header and a ciphertext's metadata (parms_id, flags, sizes). */
const CIPHERTEXT_OVERHEAD_BYTES = 113;
/** Extra bytes of a seeded ciphertext (the seed of its second component). */
const SEED_OVERHEAD_BYTES = 81;

/** Serialised bytes of the client's query ciphertext (seeded, at the data level). */
export function queryCiphertextBytes(he: HeContext): number {
  const primes = he.context.firstContextData.parms.coeffModulus.length;
  return CIPHERTEXT_OVERHEAD_BYTES + SEED_OVERHEAD_BYTES + 8 * he.degree * primes;
}

/** Serialised bytes of an answer ciphertext (two components at the last level, one prime). */
export function answerCiphertextBytes(he: HeContext): number {
  return CIPHERTEXT_OVERHEAD_BYTES + 2 * 8 * he.degree;
}

/** Bytes of a `packBlobs` message of `count` blobs of `size` bytes each. */
export function packedBlobsBytes(count: number, size: number): number {
  return 4 + count * (4 + size);
}

/** Frames several byte strings into one message: count, then (length, bytes) each, lengths u32 LE. */
export function packBlobs(blobs: readonly Uint8Array[]): Uint8Array {
  const total = 4 + blobs.reduce((n, b) => n + 4 + b.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, blobs.length, true);
  let o = 4;
  for (const b of blobs) {
    view.setUint32(o, b.length, true);
    out.set(b, o + 4);
    o += 4 + b.length;
  }
  return out;
}

/** Inverse of `packBlobs`; checks the count against `expected` and the framing. */
export function unpackBlobs(bytes: Uint8Array, expected: number, what: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new Error(`HE: malformed ${what} message: ${why}`);
  };
  if (bytes.length < 4) fail("shorter than its header");
  const count = view.getUint32(0, true);
  if (count !== expected) {
    fail(`${count} ciphertexts, expected ${expected} (do both parties describe the same layer?)`);
  }
  const out: Uint8Array[] = [];
  let o = 4;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) fail("truncated");
    const len = view.getUint32(o, true);
    if (o + 4 + len > bytes.length) fail("truncated");
    out.push(bytes.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  if (o !== bytes.length) fail("trailing bytes");
  return out;
}
