/**
 * Garbled-circuit ReLU benchmark: per-ReLU garbling and evaluation time, OT-extension time, and
 * the protocol's offline and online bytes, on this machine, single thread.
 *
 * Usage: deno run -A tools/bench_gc.ts [--n 8192] [--chunk 1024] [--repeats 7] [--shift F]
 *   [--out results/bench_gc.json]   (--out - prints only)
 *
 * `--shift` is the truncation by the ReLU circuit; the default F is DEFAULT_FRAC_BITS
 * (lib/mpc/fixed.ts), the one secure inference applies, so the default measures the circuit in use.
 *
 * Times are reported as wall-clock and as process CPU time (user + system), min and median over
 * repeats: the machine is shared, and CPU time is less disturbed by other processes than wall
 * time. Both parties run in this one process, so end-to-end protocol times are the sum of
 * both sides' work. Bytes are payload bytes counted by the in-memory test channel (the framed
 * transport adds a small header per message).
 *
 * @module
 */

import process from "node:process";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { writeBenchmark } from "../lib/report/results.ts";
import { P } from "../lib/mpc/field.ts";
import { DEFAULT_FRAC_BITS } from "../lib/mpc/fixed.ts";
import { HalfGates } from "../lib/mpc/gc/garble.ts";
import { ReluEvaluator, ReluGarbler } from "../lib/mpc/gc/protocol.ts";
import { reluCircuit, reluReference, type ReluSpec } from "../lib/mpc/gc/relu.ts";
import { IknpReceiver, IknpSender } from "../lib/mpc/ot/iknp.ts";
import { testChannelPair } from "../lib/mpc/ot/test_channel.ts";
import { defaultAesBackend, Prg, RekeyedAes } from "../lib/mpc/prg.ts";
import { median } from "../lib/report/stats.ts";

/** What to measure. */
export interface GcBenchOptions {
  /** ReLUs per measured batch. */
  readonly n: number;
  /** Instances garbled at once. */
  readonly chunk: number;
  readonly repeats: number;
  /** Bits the circuit truncates its output by (inference: the fixed-point fractional bits). */
  readonly shift: number;
}

/** Min and median of repeated per-ReLU measurements, in microseconds. */
export interface Timing {
  readonly wallMin: number;
  readonly wallMedian: number;
  readonly cpuMin: number;
  readonly cpuMedian: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function summarize(wall: number[], cpu: number[]): Timing {
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    wallMin: round(Math.min(...wall)),
    wallMedian: round(median(wall)),
    cpuMin: round(Math.min(...cpu)),
    cpuMedian: round(median(cpu)),
  };
}

/** Times `run` (after one warm-up run) `repeats` times; per-ReLU microseconds. */
async function time(repeats: number, perRelu: number, run: () => unknown): Promise<Timing> {
  const wall: number[] = [], cpu: number[] = [];
  await run(); // warm-up: JIT, buffers
  for (let r = 0; r < repeats; r++) {
    const w0 = performance.now(), c0 = cpuMs();
    await run();
    cpu.push((cpuMs() - c0) * 1000 / perRelu);
    wall.push((performance.now() - w0) * 1000 / perRelu);
  }
  return summarize(wall, cpu);
}

/** Runs every measurement and returns one JSON-ready object. */
export async function benchGc(opts: GcBenchOptions) {
  const { n, chunk, repeats, shift } = opts;
  const spec: ReluSpec = { shift };
  const circuit = reluCircuit(spec);
  const prg = new Prg();
  const load0 = loadavg();

  // 1. Garbling engine alone: n ReLUs in chunks, random labels.
  const start = prg.bytes(16);
  const garbler = new HalfGates(circuit, chunk, new RekeyedAes(start));
  const evaluator = new HalfGates(circuit, chunk, new RekeyedAes(start));
  const delta = prg.int32s(4);
  delta[0] |= 1;
  const gz = prg.int32s(4 * circuit.garblerInputs * chunk),
    ez = prg.int32s(4 * circuit.evaluatorInputs * chunk);
  const tables = new Int32Array(garbler.tableWords);
  const chunks = Math.ceil(n / chunk);
  const garble = await time(repeats, chunks * chunk, () => {
    for (let k = 0; k < chunks; k++) garbler.garble(delta, gz, ez, 2 * circuit.ands * k, tables);
  });
  const evaluate = await time(repeats, chunks * chunk, () => {
    for (let k = 0; k < chunks; k++) evaluator.evaluate(tables, gz, ez, 2 * circuit.ands * k);
  });

  // 2. Correlated OT extension for the client's input bits (82 per ReLU).
  const otPair = testChannelPair(false);
  const [otS, otR] = await Promise.all([
    IknpSender.setup(otPair.a, new Prg()),
    IknpReceiver.setup(otPair.b, new Prg()),
  ]);
  const m = circuit.evaluatorInputs * chunk;
  const choices = prg.bits(m);
  // The receiver's messages queue up in the channel, so each side is timed on its own.
  const otReceiver = await time(repeats, chunks * chunk, async () => {
    for (let k = 0; k < chunks; k++) await otR.correlated(choices);
  });
  const otSender = await time(repeats, chunks * chunk, async () => {
    for (let k = 0; k < chunks; k++) await otS.correlated(m);
  });

  // 3. The protocol end to end over the in-memory channel.
  const { a, b } = testChannelPair(false);
  const s0 = performance.now();
  const [g, e] = await Promise.all([ReluGarbler.setup(a), ReluEvaluator.setup(b)]);
  const setupMs = performance.now() - s0;
  const setupBytes = a.sent.offline + b.sent.offline;
  const [s, c, r] = [0, 1, 2].map(() => prg.fieldElements(n, P));
  const bytes = { offlineServer: 0, offlineClient: 0, onlineServer: 0, onlineClient: 0 };
  const ref = reluReference(s, c, r, spec);
  let correct = true;
  const off = { wall: [] as number[], cpu: [] as number[] },
    on = { wall: [] as number[], cpu: [] as number[] };
  for (let rep = 0; rep <= repeats; rep++) { // rep 0 is the warm-up
    const sent0 = [a.sent.offline, b.sent.offline, a.sent.online, b.sent.online];
    const w0 = performance.now(), c0 = cpuMs();
    const [gb, eb] = await Promise.all([
      g.offline(n, { ...spec, chunk }),
      e.offline(c, r, { ...spec, chunk }),
    ]);
    const w1 = performance.now(), c1 = cpuMs();
    const [z] = await Promise.all([g.online(gb, s), e.online(eb)]);
    const w2 = performance.now(), c2 = cpuMs();
    correct &&= z.every((v, i) => v === ref[i]);
    if (rep > 0) {
      off.wall.push((w1 - w0) * 1000 / n), off.cpu.push((c1 - c0) * 1000 / n);
      on.wall.push((w2 - w1) * 1000 / n), on.cpu.push((c2 - c1) * 1000 / n);
    }
    bytes.offlineServer = (a.sent.offline - sent0[0]) / n;
    bytes.offlineClient = (b.sent.offline - sent0[1]) / n;
    bytes.onlineServer = (a.sent.online - sent0[2]) / n;
    bytes.onlineClient = (b.sent.online - sent0[3]) / n;
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;

  return {
    benchmark: "garbled-circuit ReLU (half-gates, free-XOR, IKNP correlated OT)",
    // Machine, commit and date come from writeBenchmark; the load shows how shared the cores were.
    loadavg: { start: load0, end: loadavg() },
    aesBackend: defaultAesBackend(),
    params: { n, chunk, repeats, shift, modulus: P },
    circuit: {
      ands: circuit.ands,
      xors: circuit.xors,
      slots: circuit.slots,
      serverInputBits: circuit.garblerInputs,
      clientInputBits: circuit.evaluatorInputs,
    },
    perReluMicroseconds: {
      garble,
      evaluate,
      otExtensionReceiver: otReceiver,
      otExtensionSender: otSender,
      protocolOfflineBothParties: summarize(off.wall, off.cpu),
      protocolOnlineBothParties: summarize(on.wall, on.cpu),
    },
    bytesPerRelu: {
      offline: round(bytes.offlineServer + bytes.offlineClient),
      online: round(bytes.onlineServer + bytes.onlineClient),
      offlineServer: round(bytes.offlineServer),
      offlineClient: round(bytes.offlineClient),
      onlineServer: round(bytes.onlineServer),
      onlineClient: round(bytes.onlineClient),
      expected: {
        tables: 32 * circuit.ands,
        otColumns: 16 * circuit.evaluatorInputs,
        serverLabels: 16 * circuit.garblerInputs,
        colourBits: round(circuit.outputs.length / 8),
      },
    },
    setup: { wallMs: Math.round(setupMs), bytes: setupBytes },
    correct,
  };
}

const USAGE = `usage: deno task bench:gc [--n 8192] [--chunk 1024] [--repeats 7] [--shift F]
                         [--out results/bench_gc.json]   (--out - prints only)

Garbled-circuit ReLU benchmark on this machine, single thread: per-ReLU garbling and evaluation
time, OT-extension time, and the protocol's offline and online bytes. --shift is the ReLU
circuit's truncation (default: the fixed-point bits secure inference uses, ${DEFAULT_FRAC_BITS}).`;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      help: { type: "boolean", short: "h" },
      n: { type: "string", default: "8192" },
      chunk: { type: "string", default: "1024" },
      repeats: { type: "string", default: "7" },
      shift: { type: "string", default: String(DEFAULT_FRAC_BITS) },
      out: { type: "string", default: "results/bench_gc.json" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const result = await benchGc({
    n: Number(values.n),
    chunk: Number(values.chunk),
    repeats: Math.max(1, Number(values.repeats)),
    shift: Number(values.shift),
  });
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  if (values.out !== "-") await writeBenchmark(values.out!, result);
  if (!result.correct) {
    console.error("bench_gc: protocol outputs did not match the reference");
    Deno.exit(1);
  }
}
