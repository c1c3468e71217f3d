/**
 * A small reader for tar archives (POSIX ustar, GNU and pax headers), enough to unpack the
 * official CIFAR archives without a system `tar`.
 *
 * @module
 */

import { DataError } from "./dataset.ts";

const BLOCK = 512;

/** One entry of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, "/"-separated, as stored (directories may end in "/"). */
  readonly name: string;
  readonly type: "file" | "directory" | "other";
  /** The entry's bytes (a view into the archive; empty for non-files). */
  readonly data: Uint8Array;
}

const decoder = new TextDecoder();

function text(bytes: Uint8Array, from: number, length: number): string {
  const field = bytes.subarray(from, from + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** A numeric header field: octal text, or big-endian base-256 when the top bit is set (GNU). */
function number(bytes: Uint8Array, from: number, length: number, what: string): number {
  if (bytes[from] & 0x80) {
    let n = bytes[from] & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + bytes[from + i];
    return n;
  }
  const digits = text(bytes, from, length).trim();
  if (!/^[0-7]*$/.test(digits)) throw new DataError("archive", `tar: bad ${what} field '${digits}'`);
  return digits === "" ? 0 : parseInt(digits, 8);
}

function checksumOk(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === number(header, 148, 8, "checksum");
}

/** pax records "LEN key=value\n"; only `path` matters here. */
function paxPath(data: Uint8Array): string | undefined {
  let path: string | undefined;
  for (const line of decoder.decode(data).split("\n")) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) path = m[1];
  }
  return path;
}

/**
 * Iterates over the entries of an uncompressed tar archive held in memory. Throws an "archive"
 * `DataError` on a damaged header or a truncated archive.
 */
export function* readTar(archive: Uint8Array): Generator<TarEntry> {
  let at = 0;
  let longName: string | undefined;
  while (at + BLOCK <= archive.length) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return; // end-of-archive marker
    if (!checksumOk(header)) throw new DataError("archive", `tar: damaged header at byte ${at}`);
    const size = number(header, 124, 12, "size");
    const flag = String.fromCharCode(header[156]);
    const start = at + BLOCK;
    if (start + size > archive.length) {
      throw new DataError("archive", `tar: archive truncated inside entry at byte ${at}`);
    }
    const data = archive.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;

    if (flag === "L") {
      longName = text(data, 0, data.length);
      continue;
    }
    if (flag === "x") {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (flag === "g") continue;

    const posix = text(header, 257, 6) === "ustar" && header[262] === 0;
    const prefix = posix ? text(header, 345, 155) : "";
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    const type = flag === "0" || flag === "\0" || flag === "7"
      ? "file"
      : flag === "5"
      ? "directory"
      : "other";
    yield { name, type, data: type === "file" ? data : data.subarray(0, 0) };
  }
  if (at < archive.length || at === 0) {
    throw new DataError("archive", "tar: archive truncated (no end marker)");
  }
}
