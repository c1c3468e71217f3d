/**
 * Training checkpoints: one file holding a JSON header (config, position, history, weight
 * names and shapes) and the raw float32 weights and momentum buffers, written atomically (temp
 * file, fsync, rename), so a run killed at any instant leaves either the old or the new
 * checkpoint, never a torn one.
 *
 * Layout: magic "SAFENET-CKPT-1\n", u32 LE header length, header JSON (UTF-8), zero padding to a
 * multiple of 4, weights, optimizer state. The header records both arrays' lengths and a
 * sha256 of the payload.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../data/atomic.ts";
import type { WeightInfo } from "./replica.ts";

const MAGIC = new TextEncoder().encode("SAFENET-CKPT-1\n");

/** Everything a checkpoint stores besides the two arrays. */
export interface CheckpointHeader {
  /** The run's configuration, as recorded at its start. */
  config: unknown;
  /** Free-form training position and history (the loop's business). */
  progress: unknown;
  weightInfo: WeightInfo[];
  savedAt: string;
}

/** A checkpoint in memory. */
export interface Checkpoint {
  header: CheckpointHeader;
  weights: Float32Array;
  optimizer: Float32Array;
}

interface StoredHeader extends CheckpointHeader {
  weightsLength: number;
  optimizerLength: number;
  sha256: string;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function digest(...parts: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** Serialises a checkpoint to bytes. */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const w = bytesOf(ckpt.weights), o = bytesOf(ckpt.optimizer);
  const stored: StoredHeader = {
    ...ckpt.header,
    weightsLength: ckpt.weights.length,
    optimizerLength: ckpt.optimizer.length,
    sha256: digest(w, o),
  };
  const json = new TextEncoder().encode(JSON.stringify(stored));
  const headerEnd = MAGIC.length + 4 + json.length;
  const start = Math.ceil(headerEnd / 4) * 4;
  const out = new Uint8Array(start + w.length + o.length);
  out.set(MAGIC);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  out.set(w, start);
  out.set(o, start + w.length);
  return out;
}

/** Parses bytes written by {@link encodeCheckpoint}; `source` names them in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): Checkpoint {
  const bad = (why: string): never => {
    throw new Error(`${source}: not a valid checkpoint (${why}); delete it to start the run afresh`);
  };
  if (bytes.length < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) bad("wrong magic");
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const headerEnd = MAGIC.length + 4 + length;
  if (headerEnd > bytes.length) bad("truncated header");
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, headerEnd)),
  ) as StoredHeader;
  const start = Math.ceil(headerEnd / 4) * 4;
  const wEnd = start + 4 * header.weightsLength;
  if (wEnd + 4 * header.optimizerLength !== bytes.length) bad("payload length does not match its header");
  // Copy into fresh, aligned buffers.
  const w = bytes.slice(start, wEnd), o = bytes.slice(wEnd);
  if (digest(w, o) !== header.sha256) bad("payload checksum mismatch");
  const { weightsLength: _w, optimizerLength: _o, sha256: _s, ...rest } = header;
  return { header: rest, weights: new Float32Array(w.buffer), optimizer: new Float32Array(o.buffer) };
}

/** Saves a checkpoint atomically. */
export async function saveCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(ckpt));
}

/** Loads a checkpoint, or returns undefined when `path` does not exist. */
export async function loadCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return decodeCheckpoint(bytes, path);
}

/** Throws unless `info` (a model's weights) matches the checkpoint's names and shapes. */
export function checkWeightInfo(ckpt: Checkpoint, info: readonly WeightInfo[], source: string): void {
  const saved = ckpt.header.weightInfo;
  const describe = (w: WeightInfo | undefined) => (w ? `${w.name} [${w.shape}]` : "nothing");
  for (let i = 0; i < Math.max(saved.length, info.length); i++) {
    const a = saved[i], b = info[i];
    if (!a || !b || a.name !== b.name || a.shape.join() !== b.shape.join()) {
      throw new Error(
        `${source}: weight ${i} is ${describe(a)} in the checkpoint but ${describe(b)} in the model; ` +
          `it belongs to another model or plan (use another run name, or delete the run directory)`,
      );
    }
  }
}
