/**
 * Calibrations: the seconds and bytes of each unit operation (variants.ts), as data with its
 * source, so a user can add one for their own machine.
 *
 * - `measured`: read from this machine's benchmark files (results/bench_he.json,
 *   bench_gc.json), never typed in: the HE unit costs are fitted by non-negative least squares
 *   to the per-layer timings of bench_he, the polynomial offline costs per chunk and per element
 *   to its two batch sizes; the garbled ReLU and online polynomial costs are the benchmarks'
 *   per-element figures. Single-threaded, compute only: the link model adds the
 *   network.
 * - `paper`: unit costs fitted once to the paper's Gazelle and Delphi rows of Tables 2-4 (their
 *   machines and LAN, so `includesNetwork`), stored in lib/cost/calibrations/paper.json with the
 *   fit's residuals by `fitPaperCalibration` (`deno task calibrate`); the SAFENet rows priced
 *   with it are predictions, not fits.
 *
 * @module
 */

import { join } from "node:path";
import { RESULTS_DIR } from "../report/paths.ts";
import { nnls } from "./fit.ts";
import { type Operation, OPERATIONS } from "./variants.ts";

/** One operation's cost. */
export interface UnitCost {
  readonly seconds: number;
  /** Bytes client to server and server to client per operation. */
  readonly toServer: number;
  readonly toClient: number;
}

/** A calibration: unit costs with their source. */
export interface Calibration {
  readonly name: string;
  /** Where the numbers come from (files, commit, machine, or the paper's tables and assumptions). */
  readonly source: string;
  readonly units: Partial<Record<Operation, UnitCost>>;
  /** True when the unit seconds were measured end to end over a network (the link adds nothing). */
  readonly includesNetwork: boolean;
  /** For fitted calibrations: each fitted observation, its value and the model's. */
  readonly residuals?: readonly Residual[];
}

/** One observation of a fit. */
export interface Residual {
  readonly observation: string;
  readonly value: number;
  readonly fitted: number;
  /** (fitted - value) / value. */
  readonly relative: number;
}

/** Throws unless `c` is a well-formed calibration (e.g. one a user wrote). */
export function checkCalibration(c: Calibration): void {
  const fail = (why: string): never => {
    throw new Error(`calibration '${c?.name}': ${why}`);
  };
  if (typeof c?.name !== "string" || typeof c.source !== "string" || typeof c.units !== "object") {
    fail("expected { name, source, units, includesNetwork }");
  }
  for (const [op, u] of Object.entries(c.units)) {
    if (!(OPERATIONS as readonly string[]).includes(op)) fail(`unknown operation '${op}'`);
    for (const k of ["seconds", "toServer", "toClient"] as const) {
      if (!(typeof u?.[k] === "number" && u[k] >= 0 && Number.isFinite(u[k]))) {
        fail(`'${op}'.${k} must be a finite number >= 0, got ${JSON.stringify(u?.[k])}`);
      }
    }
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function readBench(dir: string, name: string): Promise<Json> {
  const path = join(dir, `${name}.json`);
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `measured calibration needs ${path}: run \`tools/deno task ${name.replace("_", ":")}\``,
      );
    }
    throw e;
  }
}

function need(value: unknown, what: string, file: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`measured calibration: ${file} has no ${what}; re-run its benchmark with this version`);
  }
  return value;
}

/** The `measured` calibration from the benchmark files in `dir` (default results/). */
export async function measuredCalibration(dir: string = RESULTS_DIR): Promise<Calibration> {
  const he = await readBench(dir, "bench_he");
  const gc = await readBench(dir, "bench_gc");
  const units: Partial<Record<Operation, UnitCost>> = {};
  const layers: Json[] = (he.linear?.layers ?? []).filter((l: Json) => l.packing);
  if (layers.length < 4) throw new Error("measured calibration: bench_he.json has too few HE layers to fit");
  const features = layers.map((l) => [
    need(l.packing.inputCiphertexts, "packing.inputCiphertexts", "bench_he.json"),
    need(l.packing.kernelPlaintexts, "packing.kernelPlaintexts", "bench_he.json"),
    need(l.packing.products, "packing.products", "bench_he.json"),
    need(l.packing.outputCiphertexts, "packing.outputCiphertexts", "bench_he.json"),
  ]);
  const [query, kernel, product, answer] = nnls(features, layers.map((l) => l.offlineMs / 1000));
  const perCt = (bytes: (l: Json) => number, count: (l: Json) => number) =>
    layers.reduce((s, l) => s + bytes(l), 0) / layers.reduce((s, l) => s + count(l), 0);
  units["lab.query"] = {
    seconds: query,
    toServer: perCt((l) => l.clientSentBytes, (l) => l.packing.inputCiphertexts),
    toClient: 0,
  };
  // Session setup: the HE contexts and keys (bench_he) and two base-OT sessions (the garbled
  // ReLUs' and the polynomial lift's, bench_gc's setup each).
  const setupMs = need(gc.setup?.wallMs, "setup.wallMs", "bench_gc.json");
  const heMs = need(he.session?.contextsMs, "session.contextsMs", "bench_he.json") +
    need(he.session?.keysMs, "session.keysMs", "bench_he.json");
  units["lab.session"] = {
    seconds: heMs / 1000 + 2 * setupMs / 1000,
    toServer: need(he.session?.publicKeyBytes, "session.publicKeyBytes", "bench_he.json") +
      need(gc.setup?.bytes, "setup.bytes", "bench_gc.json"),
    toClient: need(gc.setup?.bytes, "setup.bytes", "bench_gc.json"),
  };
  units["lab.kernel"] = { seconds: kernel, toServer: 0, toClient: 0 };
  units["lab.product"] = { seconds: product, toServer: 0, toClient: 0 };
  units["lab.answer"] = {
    seconds: answer,
    toServer: 0,
    toClient: perCt((l) => l.clientReceivedBytes, (l) => l.packing.outputCiphertexts),
  };
  const [mac] = nnls(
    layers.map((l) => [l.macs ?? need(undefined, "per-layer macs", "bench_he.json")]),
    layers.map((l) => l.onlineMs / 1000),
  );
  units["plain.mac"] = { seconds: mac, toServer: 0, toClient: 0 };
  units["share.element"] = {
    seconds: 0,
    toServer: need(he.field?.bytesPerElement, "field.bytesPerElement", "bench_he.json"),
    toClient: 0,
  };
  const us = gc.perReluMicroseconds, bytes = gc.bytesPerRelu;
  units["gc.relu.offline"] = {
    seconds: need(us?.protocolOfflineBothParties?.wallMedian, "protocolOfflineBothParties", "bench_gc.json") *
      1e-6,
    toServer: need(bytes?.offlineClient, "bytesPerRelu.offlineClient", "bench_gc.json"),
    toClient: need(bytes?.offlineServer, "bytesPerRelu.offlineServer", "bench_gc.json"),
  };
  units["gc.relu.online"] = {
    seconds: need(us?.protocolOnlineBothParties?.wallMedian, "protocolOnlineBothParties", "bench_gc.json") *
      1e-6,
    toServer: need(bytes?.onlineClient, "bytesPerRelu.onlineClient", "bench_gc.json"),
    toClient: need(bytes?.onlineServer, "bytesPerRelu.onlineServer", "bench_gc.json"),
  };
  for (const p of he.poly ?? []) {
    const d = p.degree as 1 | 2 | 3;
    units[`poly${d}.online`] = {
      seconds: need(p.onlineUsPerElement, "poly onlineUsPerElement", "bench_he.json") * 1e-6,
      toServer: need(p.onlineBytesToServerPerElement, "poly onlineBytesToServerPerElement", "bench_he.json"),
      toClient: need(p.onlineBytesToClientPerElement, "poly onlineBytesToClientPerElement", "bench_he.json"),
    };
    // Offline, the HE correlations are paid per whole ciphertext chunk and the rest per element:
    // fitted to the batch sizes bench:he ran (one within a chunk, one of many chunks).
    const sizes: Json[] = p.offlineSizes ?? [];
    if (sizes.length < 2) {
      throw new Error(
        "measured calibration: bench_he.json has no poly offlineSizes; re-run bench:he with this version",
      );
    }
    const features = sizes.map((z) => [
      need(z.chunks, "poly offlineSizes chunks", "bench_he.json"),
      need(z.elements, "poly offlineSizes elements", "bench_he.json"),
    ]);
    const fit = (value: (z: Json) => number) => nnls(features, sizes.map(value));
    const [chunkS, elementS] = fit((z) =>
      need(z.offlineMs, "poly offlineSizes offlineMs", "bench_he.json") / 1000
    );
    const [chunkToServer, elementToServer] = fit((z) => z.toServer);
    const [chunkToClient, elementToClient] = fit((z) => z.toClient);
    units[`poly${d}.offline`] = { seconds: elementS, toServer: elementToServer, toClient: elementToClient };
    units[`poly${d}.offline.chunk`] = { seconds: chunkS, toServer: chunkToServer, toClient: chunkToClient };
  }
  return {
    name: "measured",
    source: `results/bench_he.json (commit ${he.commit ?? "?"}), results/bench_gc.json (commit ${
      gc.commit ?? "?"
    }) on ${gc.machine?.cpu ?? "this machine"}; HE unit costs fitted by NNLS over ${layers.length} layers`,
    units,
    includesNetwork: false,
  };
}
