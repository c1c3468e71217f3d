import assert from "node:assert/strict";
import { isTransportError } from "./testdata/assertions.ts";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodeFrameHeader,
  encodeKind,
  FrameReader,
  FrameType,
  MAX_KIND_BYTES,
  writeAll,
} from "./frame.ts";
import { memoryStreamPair } from "./memory.ts";

/** Deterministic pseudo-random bytes (xorshift32). */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A header written by hand, independent of encodeFrameHeader. */
function rawHeader(
  fields: { magic?: string; version?: number; type?: number; kind?: string; length: bigint },
): Uint8Array {
  const kind = new TextEncoder().encode(fields.kind ?? "k");
  const bytes = new Uint8Array(7 + kind.length + 8);
  bytes.set(new TextEncoder().encode(fields.magic ?? "SFN1"));
  bytes[4] = fields.version ?? 1;
  bytes[5] = fields.type ?? 0;
  bytes[6] = kind.length;
  bytes.set(kind, 7);
  new DataView(bytes.buffer).setBigUint64(7 + kind.length, fields.length);
  return bytes;
}

/** Feeds `bytes` to a reader through a memory stream, then ends the stream. */
async function readerOver(bytes: Uint8Array): Promise<FrameReader> {
  const [writer, reader] = memoryStreamPair();
  await writeAll(writer, bytes);
  writer.close();
  return new FrameReader(reader);
}

Deno.test("encodeFrameHeader lays out magic, version, type, kind and big-endian length", () => {
  const header = encodeFrameHeader(FrameType.Message, encodeKind("ot"), 0x0102030405);
  assert.deepEqual(
    [...header],
    [0x53, 0x46, 0x4e, 0x31, 1, 0, 2, 0x6f, 0x74, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05],
  );
  assert.deepEqual(header, rawHeader({ kind: "ot", length: 0x0102030405n }));
});

Deno.test("encodeKind accepts 64 UTF-8 bytes and rejects 65", () => {
  assert.equal(encodeKind("é".repeat(MAX_KIND_BYTES / 2)).length, MAX_KIND_BYTES);
  assert.throws(() => encodeKind("x".repeat(MAX_KIND_BYTES + 1)), isTransportError("bad-frame", "65"));
});

Deno.test("FrameReader decodes frames of many sizes however the bytes are split", async () => {
  const sizes = [0, 1, 7, 15, 16, 1000, 65535, 65536, 65537, 200_000, 1 << 20];
  const frames = sizes.map((n, i) => ({ kind: `m${i}é`, payload: pseudoRandomBytes(n, i + 1) }));
  const wire: Uint8Array[] = [];
  for (const { kind, payload } of frames) {
    wire.push(encodeFrameHeader(FrameType.Message, encodeKind(kind), payload.length), payload);
  }
  const all = new Uint8Array(wire.reduce((sum, part) => sum + part.length, 0));
  wire.reduce((offset, part) => (all.set(part, offset), offset + part.length), 0);
  const [writer, readerEnd] = memoryStreamPair();
  // Irregular pieces, from 1 byte up, so headers and payloads straddle reads.
  const pieces = pseudoRandomBytes(all.length, 99);
  for (let offset = 0, i = 0; offset < all.length; i++) {
    const n = Math.min(all.length - offset, 1 + pieces[i] * (i % 7 === 0 ? 977 : 1));
    await writeAll(writer, all.subarray(offset, offset + n));
    offset += n;
  }
  writer.close();
  const reader = new FrameReader(readerEnd);
  for (const { kind, payload } of frames) {
    const frame = await reader.readFrame(DEFAULT_MAX_PAYLOAD_BYTES);
    assert.ok(frame);
    assert.equal(frame.type, FrameType.Message);
    assert.equal(frame.kind, kind);
    assert.deepEqual(frame.payload, payload);
    assert.equal(frame.wireBytes, 15 + new TextEncoder().encode(kind).length + payload.length);
  }
  assert.equal(await reader.readFrame(DEFAULT_MAX_PAYLOAD_BYTES), null, "clean end of stream between frames");
});

Deno.test("FrameReader rejects a frame cut off in the fixed header, the kind, or the payload", async () => {
  const full = new Uint8Array([...rawHeader({ kind: "tables", length: 10n }), ...new Uint8Array(10)]);
  for (
    const [cut, fragment] of [
      [3, "3 of 7 fixed header bytes"],
      [9, "9 of 21 header bytes"],
      [21 + 4, `payload of frame "tables" (4 of 10 bytes)`],
    ] as const
  ) {
    const reader = await readerOver(full.subarray(0, cut));
    await assert.rejects(reader.readFrame(100), isTransportError("truncated", fragment));
  }
});

Deno.test("FrameReader rejects bad magic, unknown version, unknown type, bad kind", async () => {
  const cases: [Uint8Array, string, string][] = [
    [rawHeader({ magic: "HTTP", length: 0n }), "bad-magic", "48 54 54 50"],
    [rawHeader({ version: 2, length: 0n }), "bad-version", "version 2"],
    [rawHeader({ type: 9, length: 0n }), "bad-frame", "frame type 9"],
    [new Uint8Array([...rawHeader({ length: 0n }).subarray(0, 6), 65]), "bad-frame", "65 bytes"],
    [rawHeader({ kind: "\u0000", length: 0n }).map((b, i) => i === 7 ? 0xff : b), "bad-frame", "UTF-8"],
  ];
  for (const [bytes, code, fragment] of cases) {
    await assert.rejects((await readerOver(bytes)).readFrame(100), isTransportError(code, fragment));
  }
});

Deno.test("FrameReader rejects an oversized length before allocating it", async () => {
  // 2^40 and 2^64-1 bytes: allocating either would throw a RangeError, not this error.
  for (const length of [1n << 40n, (1n << 64n) - 1n]) {
    const reader = await readerOver(rawHeader({ kind: "gc", length }));
    await assert.rejects(
      reader.readFrame(DEFAULT_MAX_PAYLOAD_BYTES),
      isTransportError("oversized", `${length} payload bytes`, `limit of ${DEFAULT_MAX_PAYLOAD_BYTES}`),
    );
  }
  // One byte over an explicit limit fails; exactly at the limit passes.
  const over = await readerOver(new Uint8Array([...rawHeader({ length: 1001n }), ...new Uint8Array(1001)]));
  await assert.rejects(over.readFrame(1000), isTransportError("oversized", "1001"));
  const at = await readerOver(new Uint8Array([...rawHeader({ length: 1000n }), ...new Uint8Array(1000)]));
  assert.equal((await at.readFrame(1000))?.payload.length, 1000);
});

Deno.test("FrameReader grows a payload buffer as bytes arrive, never to the announced size up front", async () => {
  // 1 GiB announced (within the limit), 100 KB sent, then the stream ends.
  const reader = await readerOver(
    new Uint8Array([...rawHeader({ kind: "tables", length: 1n << 30n }), ...new Uint8Array(100_000)]),
  );
  await assert.rejects(reader.readFrame(1 << 30), isTransportError("truncated", "100000 of 1073741824"));
  assert.ok(reader.largestAllocation <= 256 << 10, `allocated ${reader.largestAllocation} bytes`);
  // A complete frame still arrives whole, in one buffer of exactly its size.
  const payload = pseudoRandomBytes(1_000_003, 5);
  const whole = await readerOver(
    new Uint8Array([...rawHeader({ length: BigInt(payload.length) }), ...payload]),
  );
  assert.deepEqual((await whole.readFrame(DEFAULT_MAX_PAYLOAD_BYTES))?.payload, payload);
  assert.equal(whole.largestAllocation, payload.length);
});
