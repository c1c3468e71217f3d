/**
 * The Delphi ReLU protocol over a `Channel`: the server garbles, the client evaluates, the
 * server learns z = ReLU(y >> shift) - r' mod p (see relu.ts), the client learns nothing.
 *
 * Sessions: `ReluGarbler.setup` / `ReluEvaluator.setup` run once per connection (128 base OTs
 * for IKNP, and the garbler's random hash start point). Then each batch of ReLUs (typically one
 * activation layer) is
 *
 *   offline: garbler.offline(n, spec)          evaluator.offline(c, rNext, spec)
 *   online:  garbler.online(batch, s) -> z     evaluator.online(batch)
 *
 * with the two sides' calls in the same order. Offline, the client's circuit inputs (derived from
 * c and r', both known offline) get their labels by correlated OT: the IKNP offset Δ is the
 * garbling offset, so each label costs 16 bytes (the OT-extension column bits) and no hashing.
 * Online, the server sends the labels of its share s (16 bytes per bit); the client evaluates and
 * returns the colour bits of the output labels, which only the server can decode.
 *
 * Work is done in chunks of `chunk` instances (one garbling batch, one IKNP extension and one
 * message of each kind per chunk), which bounds memory and lets the two sides overlap.
 *
 * Bytes per ReLU (Delphi's p, shift 0, 214 ANDs): offline 82 x 16 = 1312 (OT) + 214 x 32 = 6848
 * (tables) = 8160; online 41 x 16 = 656 (labels) + 41 / 8 = 5.1 (colours). Session setup: 4128
 * (base OTs) + 16 (start point).
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import { Prg, RekeyedAes } from "../prg.ts";
import { packBits, unpackBits } from "../ot/bits.ts";
import { IknpReceiver, IknpSender } from "../ot/iknp.ts";
import type { Circuit } from "./circuit.ts";
import { HalfGates, hashIdsUsed } from "./garble.ts";
import {
  clientInputBits,
  fromBitMatrix,
  reluCircuit,
  type ReluSpec,
  type ResolvedReluSpec,
  resolveReluSpec,
  serverInputBits,
} from "./relu.ts";

/** Message kinds of the ReLU protocol (besides the OT's). */
export const RELU_KINDS = {
  setup: "gc.setup",
  header: "gc.header",
  tables: "gc.tables",
  labels: "gc.labels",
  colours: "gc.colours",
} as const;

/** Bytes per ReLU instance each way, by phase (per-chunk headers and session setup aside). */
export interface ReluTraffic {
  readonly offline: { readonly toServer: number; readonly toClient: number };
  readonly online: { readonly toServer: number; readonly toClient: number };
}

/**
 * The ReLU protocol's bytes per instance, from its circuit: offline the garbled tables (two
 * 16-byte rows per AND, half-gates) to the client and the OT-extension columns (16 bytes per
 * client input bit) to the server; online the labels of the server's share (16 bytes per bit) to
 * the client and the output colour bits back.
 */
export function reluTraffic(spec: ReluSpec = {}): ReluTraffic {
  const circuit = reluCircuit(spec);
  return {
    offline: { toServer: 16 * circuit.evaluatorInputs, toClient: 32 * circuit.ands },
    online: { toServer: circuit.outputs.length / 8, toClient: 16 * circuit.garblerInputs },
  };
}

/**
 * Instances garbled at once. Measured per-ReLU speed is flat from 256 to 4096; 1024 keeps each
 * party's working buffers near 2 MB.
 */
export const DEFAULT_CHUNK = 1024;

/** A batch's spec plus its chunk size (instances garbled at once; default `DEFAULT_CHUNK`). */
export interface ReluOptions extends ReluSpec {
  readonly chunk?: number;
}

/** Options of a session. */
export interface SessionOptions {
  /** Seed of the party's randomness (16 bytes); default: fresh from the OS. Tests only. */
  readonly seed?: Uint8Array;
}

interface Header {
  n: number;
  chunk: number;
  modulus: number;
  shift: number;
  relu: boolean;
  idBase: number;
}

function bytesOf(words: Int32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

function int32sOf(bytes: Uint8Array): Int32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
}

function chunkSizes(n: number, chunk: number): number[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`ReLU batch: size must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new RangeError(`ReLU batch: chunk must be a positive integer, got ${chunk}`);
  }
  const sizes: number[] = [];
  for (let at = 0; at < n; at += chunk) sizes.push(Math.min(chunk, n - at));
  return sizes;
}

/** Labels for bits: zero ^ bit * Δ, input-major as the garbling code expects. */
function selectLabels(zero: Int32Array, bits: Uint8Array, delta: Int32Array): Int32Array {
  const out = zero.slice();
  for (let j = 0; j < bits.length; j++) {
    const m = -bits[j];
    out[4 * j] ^= delta[0] & m;
    out[4 * j + 1] ^= delta[1] & m;
    out[4 * j + 2] ^= delta[2] & m;
    out[4 * j + 3] ^= delta[3] & m;
  }
  return out;
}

/** Engines cached per (circuit, chunk size), so batches reuse their buffers; a few at most. */
class EngineCache {
  #engines = new Map<string, HalfGates>();
  constructor(private aes: RekeyedAes) {}
  get(key: string, circuit: Circuit, n: number): HalfGates {
    const k = `${key}/${n}`;
    let e = this.#engines.get(k);
    if (!e) {
      if (this.#engines.size >= 4) this.#engines.clear();
      e = new HalfGates(circuit, n, this.aes);
      this.#engines.set(k, e);
    }
    return e;
  }
}

const circuits = new Map<string, Circuit>();
function circuitFor(spec: ResolvedReluSpec): { key: string; circuit: Circuit } {
  const key = `${spec.modulus}/${spec.shift}/${spec.relu}`;
  let circuit = circuits.get(key);
  if (!circuit) circuits.set(key, circuit = reluCircuit(spec));
  return { key, circuit };
}

interface GarblerChunk {
  readonly size: number;
  /** Zero-labels of the server's input bits. */
  readonly zero: Int32Array;
  readonly decode: Uint8Array;
}

/** What the garbler keeps from `offline` until `online` (one use only). */
export class GarblerReluBatch {
  #used = false;
  /** @internal */
  constructor(
    readonly n: number,
    readonly spec: ResolvedReluSpec,
    readonly chunks: readonly GarblerChunk[],
  ) {}
  /** @internal Marks the batch used; a garbled circuit must never be evaluated twice. */
  consume(): void {
    if (this.#used) throw new Error("ReLU batch already used online: garble a new batch (reuse would leak)");
    this.#used = true;
  }
}

interface EvaluatorChunk {
  readonly size: number;
  readonly idBase: number;
  readonly labels: Int32Array;
  tables?: Int32Array;
}

/** What the evaluator keeps from `offline` until `online` (one use only). */
export class EvaluatorReluBatch {
  #used = false;
  /** @internal */
  constructor(
    readonly n: number,
    readonly spec: ResolvedReluSpec,
    readonly chunks: readonly EvaluatorChunk[],
  ) {}
  /** @internal */
  consume(): void {
    if (this.#used) throw new Error("ReLU batch already used online: run offline again for new inputs");
    this.#used = true;
  }
}

/** The server's side: garbles, learns the re-shared outputs. */
export class ReluGarbler {
  #ch: Channel;
  #prg: Prg;
  #ot: IknpSender;
  #engines: EngineCache;
  #nextId = 0;

  private constructor(ch: Channel, prg: Prg, ot: IknpSender, aes: RekeyedAes) {
    this.#ch = ch;
    this.#prg = prg;
    this.#ot = ot;
    this.#engines = new EngineCache(aes);
  }

  /** Session setup (offline): base OTs and the hash start point. */
  static async setup(ch: Channel, options: SessionOptions = {}): Promise<ReluGarbler> {
    ch.setPhase("offline");
    const prg = new Prg(options.seed);
    const ot = await IknpSender.setup(ch, prg);
    const start = prg.bytes(16);
    await ch.send(RELU_KINDS.setup, start);
    return new ReluGarbler(ch, prg, ot, new RekeyedAes(start));
  }

  /** Offline: garbles `n` ReLUs for `options` and sends the tables; keep the batch for `online`. */
  async offline(n: number, options: ReluOptions = {}): Promise<GarblerReluBatch> {
    const spec = resolveReluSpec(options);
    const chunk = options.chunk ?? DEFAULT_CHUNK;
    const sizes = chunkSizes(n, chunk);
    const { key, circuit } = circuitFor(spec);
    const header: Header = {
      n,
      chunk,
      modulus: spec.modulus,
      shift: spec.shift,
      relu: spec.relu,
      idBase: this.#nextId,
    };
    this.#ch.setPhase("offline");
    await this.#ch.send(RELU_KINDS.header, new TextEncoder().encode(JSON.stringify(header)));
    const chunks: GarblerChunk[] = [];
    for (const size of sizes) {
      const engine = this.#engines.get(key, circuit, size);
      const evaluatorZero = await this.#ot.correlated(circuit.evaluatorInputs * size);
      const zero = this.#prg.int32s(4 * circuit.garblerInputs * size);
      const tables = new Int32Array(engine.tableWords);
      const decode = engine.garble(this.#ot.delta, zero, evaluatorZero, this.#nextId, tables);
      this.#nextId += hashIdsUsed(circuit);
      await this.#ch.send(RELU_KINDS.tables, bytesOf(tables));
      chunks.push({ size, zero, decode });
    }
    return new GarblerReluBatch(n, spec, chunks);
  }

  /** Online: sends the labels of shares `s` (in [0, p)) and returns z for each instance. */
  async online(batch: GarblerReluBatch, s: Float64Array): Promise<Float64Array> {
    if (s.length !== batch.n) {
      throw new RangeError(`ReLU online: batch has ${batch.n} ReLUs, got ${s.length} shares`);
    }
    batch.consume();
    this.#ch.setPhase("online");
    const delta = this.#ot.delta;
    let at = 0;
    for (const c of batch.chunks) {
      const bits = serverInputBits(s.subarray(at, at + c.size), batch.spec);
      await this.#ch.send(RELU_KINDS.labels, bytesOf(selectLabels(c.zero, bits, delta)));
      at += c.size;
    }
    const z = new Float64Array(batch.n);
    at = 0;
    for (const c of batch.chunks) {
      const width = batch.spec.width;
      const colours = unpackBits(
        await this.#ch.recv(RELU_KINDS.colours),
        width * c.size,
        "ReLU protocol colour bits",
      );
      for (let j = 0; j < colours.length; j++) colours[j] ^= c.decode[j];
      z.set(fromBitMatrix(colours, width, c.size), at);
      at += c.size;
    }
    return z;
  }
}

/** The client's side: evaluates; learns nothing. */
export class ReluEvaluator {
  #ch: Channel;
  #ot: IknpReceiver;
  #engines: EngineCache;

  private constructor(ch: Channel, ot: IknpReceiver, aes: RekeyedAes) {
    this.#ch = ch;
    this.#ot = ot;
    this.#engines = new EngineCache(aes);
  }

  /** Session setup (offline), the counterpart of `ReluGarbler.setup`. */
  static async setup(ch: Channel, options: SessionOptions = {}): Promise<ReluEvaluator> {
    ch.setPhase("offline");
    const ot = await IknpReceiver.setup(ch, new Prg(options.seed));
    const start = await ch.recv(RELU_KINDS.setup);
    return new ReluEvaluator(ch, ot, new RekeyedAes(start));
  }

  /**
   * Offline: for shares `c` (the client's linear-layer output shares) and next-layer masks
   * `rNext`, both in [0, p), obtains its input labels by OT and receives the tables.
   * `options` must match the garbler's (checked against its header).
   */
  async offline(
    c: Float64Array,
    rNext: Float64Array,
    options: ReluOptions = {},
  ): Promise<EvaluatorReluBatch> {
    const spec = resolveReluSpec(options);
    const chunk = options.chunk ?? DEFAULT_CHUNK;
    const n = c.length;
    const bits = clientInputBits(c, rNext, spec);
    this.#ch.setPhase("offline");
    const header = JSON.parse(new TextDecoder().decode(await this.#ch.recv(RELU_KINDS.header))) as Header;
    const mine = { n, chunk, modulus: spec.modulus, shift: spec.shift, relu: spec.relu };
    for (const [k, v] of Object.entries(mine)) {
      if (header[k as keyof Header] !== v) {
        throw new Error(
          `ReLU offline: the garbler's ${k} is ${header[k as keyof Header]}, the evaluator's is ${v}; ` +
            "call both sides with the same batch size and options",
        );
      }
    }
    const { key, circuit } = circuitFor(spec);
    const width = spec.width;
    const chunks: EvaluatorChunk[] = [];
    let at = 0, idBase = header.idBase;
    // Chunk by chunk, in the garbler's order: OT, then that chunk's tables. Sending every chunk's
    // OT message first would deadlock over TCP once the unread tables fill the socket buffers.
    for (const size of chunkSizes(n, chunk)) {
      // Choice bits of this chunk, input-major (c'' bits then q'' bits).
      const choice = new Uint8Array(2 * width * size);
      for (let k = 0; k < 2 * width; k++) choice.set(bits.subarray(k * n + at, k * n + at + size), k * size);
      const labels = await this.#ot.correlated(choice);
      const tables = int32sOf(await this.#ch.recv(RELU_KINDS.tables));
      if (tables.length !== circuit.ands * size * 8) {
        throw new Error(
          `ReLU offline: expected ${circuit.ands * size * 32} bytes of tables, got ${tables.length * 4}`,
        );
      }
      chunks.push({ size, idBase, labels, tables });
      this.#engines.get(key, circuit, size); // allocate buffers now rather than online
      idBase += hashIdsUsed(circuit);
      at += size;
    }
    return new EvaluatorReluBatch(n, spec, chunks);
  }

  /** Online: receives the server's labels, evaluates, returns the output colour bits. */
  async online(batch: EvaluatorReluBatch): Promise<void> {
    batch.consume();
    this.#ch.setPhase("online");
    const { key, circuit } = circuitFor(batch.spec);
    for (const c of batch.chunks) {
      const labels = int32sOf(await this.#ch.recv(RELU_KINDS.labels));
      const engine = this.#engines.get(key, circuit, c.size);
      const colours = engine.evaluate(c.tables!, labels, c.labels, c.idBase);
      c.tables = undefined; // free as we go
      await this.#ch.send(RELU_KINDS.colours, packBits(colours));
    }
  }
}
