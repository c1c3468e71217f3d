/**
 * Benchmark of the secure-inference protocol: CNN-7, VGG-16 and ResNet-32 end to end between two
 * OS processes over loopback TCP (all-ReLU, and a plan replacing ~80% of the ReLUs), per-layer
 * offline and online times and bytes by direction (lib/mpc/inference/summary.ts), per-ReLU
 * garbling costs, per-element polynomial costs, and the agreement of the secure (fixed-point)
 * result with plaintext inference on test images (lib/mpc/inference/agreement.ts).
 *
 * ```
 * deno task bench:protocol [--models cnn7,vgg16,resnet32] [--repeats 3] [--accuracy 100]
 *   [--secure-images 5] [--frac-bits F] [--out results/bench_protocol.json]
 * deno task bench:protocol --agreement-only [--plan all_relu|plan80|NAME] [--accuracy 100]
 *   [--secure-images 100] [--out results/agreement_cnn7_PLAN.json]
 * deno task bench:protocol --probe-links [--out results/bench_link.json]
 * ```
 *
 * Weights: data/pretrained/<model> (the 80% plan: data/pretrained/<model>-plan80) where they
 * exist, else seeded random weights (timing does not depend on weights; the plan's coefficients
 * are then fitted to 64 training images, and no agreement is measured for such a model). The 80%
 * plan is alpha 0.8 with degree 2 at every site (floor(0.8 x C) channels). Any other plan name is
 * a plan a search published (`search --publish NAME`): `--plans safenet` (or `--plan safenet`)
 * runs SAFENet's, data/plans/<model>_safenet.json, on the weights its search trained (its
 * provenance names them); write it to its own file, e.g. `--models cnn7 --plans safenet --out
 * results/bench_protocol_safenet.json`, which Table 2 reads.
 * `--agreement-only`
 * measures CNN-7's agreement alone (both plans unless `--plan` names one, so the two can run in
 * parallel processes).
 *
 * F, the fixed-point fractional bits, defaults to DEFAULT_FRAC_BITS (lib/mpc/fixed.ts); the
 * garbled-circuit ReLUs are measured truncating by F bits, as inference does. Timings are
 * wall-clock on a shared machine: medians over repeats.
 *
 * `--probe-links` measures what each link (loopback, and the LAN and WAN presets shaped as for
 * `--link`) delivers between two processes through the protocol's transport: round trip and
 * throughput each way (lib/mpc/transport/probe.ts); the cost validation prices links by it.
 *
 * Internal: `--role server|client --port N --model M --plan P` runs one party and prints
 * "STATS <json>"; `--role link-server|link-client --bulk-bytes B` one side of the link probe.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BENCHMARK_RUN, readJsonIfPresent, writeBenchmark } from "../lib/report/results.ts";
import { architecture, MODEL_NAMES, type ModelName } from "../lib/nn/architectures.ts";
import { LINKS } from "../lib/cost/mod.ts";
import { allReluPlan, countPlan, type Plan, uniformPlan } from "../lib/nn/plan.ts";
import {
  connect,
  type FramedChannel,
  listen,
  memoryChannelPair,
  type TrafficStats,
} from "../lib/mpc/transport.ts";
import { InferenceClient } from "../lib/mpc/inference/client.ts";
import { InferenceServer } from "../lib/mpc/inference/server.ts";
import { type PreparedNetwork, prepareNetwork } from "../lib/mpc/inference/model.ts";
import {
  plaintextAgreement,
  plaintextOutput,
  secureAgreement,
  testImages,
} from "../lib/mpc/inference/agreement.ts";
import { planSchedule } from "../lib/mpc/inference/schedule.ts";
import { summarizeRuns } from "../lib/mpc/inference/summary.ts";
import { Fp } from "../lib/mpc/field.ts";
import { DEFAULT_FRAC_BITS, encodeFixed } from "../lib/mpc/fixed.ts";
import { Prg } from "../lib/mpc/prg.ts";
import { share } from "../lib/mpc/sharing.ts";
import { receiveAnswerKeys, sendPublicKeys } from "../lib/mpc/he/answer.ts";
import { heContext, heKeys } from "../lib/mpc/he/seal.ts";
import { RING } from "../lib/mpc/poly/ring.ts";
import { IknpReceiver, IknpSender } from "../lib/mpc/ot/iknp.ts";
import type { PolyDegree } from "../lib/mpc/poly/layout.ts";
import {
  polyOfflineClient,
  polyOfflineServer,
  polyOnlineClient,
  polyOnlineServer,
} from "../lib/mpc/poly/protocol.ts";
import { probeLinkClient, probeLinkServer } from "../lib/mpc/transport/probe.ts";
import { benchGc } from "./bench_gc.ts";
import { type NetnsLink, openLink } from "./netns_link.ts";
import { DenoProcess } from "./testdata/process.ts";
import { median, roundTo } from "../lib/report/stats.ts";
import { Progress } from "../lib/train/progress.ts";

/** The plans every model has; any other plan name is a published one (data/plans/MODEL_NAME.json). */
const BUILTIN_PLANS = ["all_relu", "plan80"] as const;
/** Plans run when --plans is not given. */
const DEFAULT_PLANS: readonly PlanName[] = BUILTIN_PLANS;
/** Provenance of the files written here: the agreement figures use CIFAR-10 test images. */
const CIFAR10_BENCHMARK = { ...BENCHMARK_RUN, dataset: "cifar10" };
/** A built-in plan, or the name a search published its pick under (`search --publish NAME`), e.g. safenet. */
type PlanName = string;

function isBuiltin(name: PlanName): name is typeof BUILTIN_PLANS[number] {
  return (BUILTIN_PLANS as readonly string[]).includes(name);
}

function planFor(setup: Setup, name: PlanName): Plan {
  const graph = architecture(setup.model);
  if (!isBuiltin(name)) return publishedOf(setup, name).plan;
  return name === "all_relu" ? allReluPlan(graph) : uniformPlan(graph, 0.8, 2);
}

function publishedOf(setup: Setup, name: PlanName): PublishedPlan {
  const published = setup.published[name];
  if (!published) {
    throw new Error(
      `no plan '${name}' for ${setup.model}: use ${BUILTIN_PLANS.join(", ")}, or a plan a search published ` +
        `with its weights (data/plans/${setup.model}_${name}.json, written by \`deno task search --searcher btpbt ` +
        `--model ${setup.model} --publish ${name} --out data/pretrained/${setup.model}-${name}\`)`,
    );
  }
  return published;
}

/** A plan a search published, and the weights that search trained for it (masks, coefficients). */
interface PublishedPlan {
  readonly plan: Plan;
  readonly weights: string;
}

/** What one model's measurements run on: the weights (per plan) and the fixed-point bits. */
interface Setup {
  readonly model: ModelName;
  readonly weights: string;
  /** Weights fine-tuned with the 80% plan (they carry its masks and coefficients), or `weights`. */
  readonly plan80Weights: string;
  /** The published plans asked for that exist with their weights, by name. */
  readonly published: Readonly<Record<PlanName, PublishedPlan>>;
  readonly fracBits: number;
}

/** The weights `model` runs on (shipped where they exist, else seeded random ones) and the published `plans`. */
async function setupFor(model: ModelName, fracBits: number, plans: readonly PlanName[]): Promise<Setup> {
  const weights = await modelDirOr(`data/pretrained/${model}`, "random:1");
  const published: Record<PlanName, PublishedPlan> = {};
  for (const name of plans.filter((p) => !isBuiltin(p))) {
    const file = await readJsonIfPresent(`data/plans/${model}_${name}.json`) as
      | (Plan & { provenance?: { weights?: string } })
      | undefined;
    const dir = file?.provenance?.weights ?? `data/pretrained/${model}-${name}`;
    if (file && await modelDirOr(dir, "") !== "") {
      published[name] = { plan: { model: file.model, sites: file.sites }, weights: dir };
    }
  }
  return {
    model,
    weights,
    plan80Weights: await modelDirOr(`data/pretrained/${model}-plan80`, weights),
    published,
    fracBits,
  };
}

function weightsFor(setup: Setup, plan: PlanName): string {
  if (!isBuiltin(plan)) return publishedOf(setup, plan).weights;
  return plan === "plan80" ? setup.plan80Weights : setup.weights;
}

async function prepare(setup: Setup, plan: PlanName): Promise<PreparedNetwork> {
  return await prepareNetwork({
    model: setup.model,
    weights: weightsFor(setup, plan),
    plan: planFor(setup, plan),
    fracBits: setup.fracBits,
    calibrationImages: 64,
  });
}

/** Limit on one party's whole run, and on any one message exchange in it. */
const RUN_TIMEOUT_MS = 30 * 60_000;
/**
 * Limit on a party process's start-up: the server's until it listens, the client's until it
 * connects (a client that died before connecting must not keep the server waiting).
 */
const STARTUP_TIMEOUT_MS = 120_000;

/** The server side's channel: listens on `port` (0: any), prints it, accepts one client. */
/** Where a party runs: the address the server listens on and the emulated one-way delay. */
interface Wire {
  readonly host: string;
  readonly receiveDelayMs: number;
}

const LOOPBACK: Wire = { host: "127.0.0.1", receiveDelayMs: 0 };

async function acceptClient(port: number, wire: Wire = LOOPBACK): Promise<FramedChannel> {
  const listener = listen(port, wire.host, {
    timeoutMs: RUN_TIMEOUT_MS,
    receiveDelayMs: wire.receiveDelayMs,
  });
  console.log(`listening on ${listener.port}`);
  try {
    return await listener.accept({ timeoutMs: STARTUP_TIMEOUT_MS });
  } finally {
    listener.close();
  }
}

/** The client side's channel to the server on `port`. */
function connectServer(port: number, wire: Wire = LOOPBACK): Promise<FramedChannel> {
  return connect(wire.host, port, {
    timeoutMs: RUN_TIMEOUT_MS,
    retries: 40,
    receiveDelayMs: wire.receiveDelayMs,
  });
}

/** One party of an end-to-end run (internal mode); prints its channel statistics. */
async function runRole(role: string, port: number, setup: Setup, plan: PlanName, wire: Wire): Promise<void> {
  if (role === "server") {
    const served = await prepare(setup, plan);
    const channel = await acceptClient(port, wire);
    const server = await InferenceServer.open(channel, served);
    await server.serve();
    server.close();
    await channel.close();
    console.log(`STATS ${JSON.stringify(channel.stats())}`);
  } else {
    const channel = await connectServer(port, wire);
    const client = await InferenceClient.open(channel);
    const [{ x }] = await testImages(1, client.offer.normalize);
    await client.infer(x);
    client.close();
    await channel.close();
    console.log(`STATS ${JSON.stringify(channel.stats())}`);
  }
}

/** One party of the polynomial benchmark (internal mode); the server prints its online times. */
async function runPolyRole(role: string, port: number, degree: PolyDegree, runs: number): Promise<void> {
  if (role === "poly-server") {
    const channel = await acceptClient(port);
    const measured = await polyParty("server", channel, degree, runs);
    await channel.close();
    console.log(`POLY ${JSON.stringify(measured)}`);
  } else {
    const channel = await connectServer(port);
    await polyParty("client", channel, degree, runs);
    await channel.close();
  }
}

/** One side of the link probe (internal mode); the server prints the measurement. */
async function runLinkRole(role: string, port: number, bulkBytes: number, wire: Wire): Promise<void> {
  if (role === "link-server") {
    const channel = await acceptClient(port, wire);
    const measured = await probeLinkServer(channel, { bulkBytes });
    await channel.close();
    console.log(`LINK ${JSON.stringify(measured)}`);
  } else {
    const channel = await connectServer(port, wire);
    await probeLinkClient(channel, { bulkBytes });
    await channel.close();
  }
}

/**
 * Runs this script as a server process (`serverArgs`) and, once it listens, as a client process
 * connected to it (`clientArgs(port)`); returns both after they exit 0, else throws with their
 * output. Both are killed on the way out, so no failure leaves an orphan process behind.
 */
async function runParties(
  what: string,
  serverArgs: string[],
  clientArgs: (port: string) => string[],
  net?: NetnsLink,
): Promise<{ server: DenoProcess; client: DenoProcess }> {
  const server = new DenoProcess("tools/bench_protocol.ts", serverArgs, { prefix: net?.prefix("server") });
  let client: DenoProcess | undefined;
  try {
    const [, port] = await server.waitFor(/listening on (\d+)/, STARTUP_TIMEOUT_MS);
    client = new DenoProcess("tools/bench_protocol.ts", clientArgs(port), { prefix: net?.prefix("client") });
    const codes = await Promise.all([client.exitCode(RUN_TIMEOUT_MS), server.exitCode(RUN_TIMEOUT_MS)]);
    if (codes.some((c) => c !== 0)) throw new Error(`${what} failed:\n${client.output}\n${server.output}`);
    return { server, client };
  } finally {
    server.kill();
    client?.kill();
  }
}

/** A party's arguments for running over `net`: the server's address and the round trip to emulate. */
function wireArgs(net?: NetnsLink): string[] {
  return net ? ["--host", net.serverHost, "--rtt-ms", String(net.link.rtt * 1000)] : [];
}

/** Both parties' statistics of one end-to-end run between two processes. */
async function endToEnd(
  setup: Setup,
  plan: PlanName,
  net?: NetnsLink,
): Promise<{ server: TrafficStats; client: TrafficStats }> {
  const args = (role: string, port: string) => [
    ...["--role", role, "--port", port, "--models", setup.model, "--plan", plan],
    ...["--frac-bits", String(setup.fracBits)],
    ...wireArgs(net),
  ];
  const { server, client } = await runParties(
    "end-to-end run",
    args("server", "0"),
    (port) => args("client", port),
    net,
  );
  const stats = (p: DenoProcess) => JSON.parse(p.output.match(/^STATS (.*)$/m)![1]) as TrafficStats;
  return { server: stats(server), client: stats(client) };
}

const round = (x: number, digits = 3) => roundTo(x, digits);

/** Bytes each way of a link probe: about 4 s at the link's nominal rate, at most 512 MiB. */
function probeBytes(bandwidth: number): number {
  return Math.min(512 << 20, Math.ceil(bandwidth * 4));
}

/** Probes loopback and the shaped LAN and WAN links; per link its preset and what it delivered. */
async function probeLinks(log: (text: string) => void): Promise<Record<string, unknown>> {
  const links: Record<string, unknown> = {};
  for (const link of Object.values(LINKS)) {
    const net = Number.isFinite(link.bandwidth)
      ? await openLink(link).catch((e: Error) => fail(e.message))
      : undefined;
    try {
      const bulk = String(probeBytes(link.bandwidth));
      const wire = wireArgs(net);
      const { server } = await runParties(
        `probe of the ${link.name} link`,
        ["--role", "link-server", "--port", "0", "--bulk-bytes", bulk, ...wire],
        (port) => ["--role", "link-client", "--port", port, "--bulk-bytes", bulk, ...wire],
        net,
      );
      const measured = JSON.parse(server.output.match(/^LINK (.*)$/m)![1]);
      const mbit = (bytesPerSecond: number) => (bytesPerSecond * 8 / 1e6).toFixed(0);
      log(
        `${link.name}: round trip ${(measured.rtt_s * 1000).toFixed(2)} ms, ` +
          `${mbit(measured.to_client_bytes_s)} Mbit/s to the client, ${
            mbit(measured.to_server_bytes_s)
          } to the server`,
      );
      links[link.name] = {
        nominal: {
          bandwidth_bytes_s: Number.isFinite(link.bandwidth) ? link.bandwidth : null,
          rtt_s: link.rtt,
        },
        ...(net ? { shaping: net.description } : {}),
        measured,
      };
    } finally {
      await net?.close();
    }
  }
  return links;
}

/**
 * Online passes before timing, on the first offline batch: V8 reaches its optimised code only
 * after many passes, and one real-HE offline batch per pass would make the warm-up take minutes.
 */
const POLY_JIT_WARMUP_PASSES = 200;
/** Timed polynomial runs, each on a fresh offline batch (at least; more when --repeats asks). */
const POLY_TIMED_RUNS = 30;
/** Elements per polynomial batch (one HE ciphertext slot count). */
const POLY_ELEMENTS = 8192;
/** Frame kind of the barrier between a benchmark run's offline and online phases. */
const READY_KIND = "bench.ready";

/** One party's inputs of the polynomial benchmark, the same in both processes (fixed seeds). */
function polyInputs(degree: PolyDegree) {
  const n = POLY_ELEMENTS;
  const prg = new Prg(new Uint8Array(16).fill(degree));
  const { server, client } = share(
    encodeFixed(Array.from({ length: n }, (_, i) => 3 * Math.sin(i)), 16),
    prg,
  );
  return {
    layout: { degree, inFracBits: 16, outFracBits: 8 },
    server,
    client,
    coefficients: Array.from({ length: degree + 1 }, (_, k) => new Float64Array(n).fill(0.5 / (k + 1))),
    prg,
  };
}

/**
 * Runs `runs` polynomial batches (real HE offline, then online) as one party over `ch`, and
 * returns the online wall time of each in microseconds and the online bytes of all of them.
 * Barriers around each online phase (the client signals the end of its offline work, the server
 * the end of its online work) keep either party's offline computation out of the other's online
 * clock. A collection is forced (when V8 exposes `gc`) before each online phase, so the offline
 * phase's garbage is not charged to it: in use the phases are apart in time. Before the timed
 * runs, the online phase runs POLY_JIT_WARMUP_PASSES times on the first batch's correlations
 * (re-using masks, which inference never does; the inputs are synthetic and these passes are
 * neither timed nor counted).
 */
async function polyParty(role: "server" | "client", ch: FramedChannel, degree: PolyDegree, runs: number) {
  const { layout, server, client, coefficients, prg } = polyInputs(degree);
  const contexts = await Promise.all(RING.map((F) => heContext(F.p)));
  if (role === "server") {
    const [p, q, q2] = await receiveAnswerKeys(ch, contexts);
    const he = { p, q, q2 };
    const ot = await IknpReceiver.setup(ch, prg);
    return await timedPolyRuns(
      ch,
      role,
      () => polyOfflineServer(ch, he, ot, layout, coefficients, prg),
      (state) => polyOnlineServer(ch, state, server),
      runs,
    );
  }
  const [p, q, q2] = contexts.map(heKeys);
  await sendPublicKeys(ch, [p, q, q2]);
  const ot = await IknpSender.setup(ch, prg);
  return await timedPolyRuns(
    ch,
    role,
    () => polyOfflineClient(ch, { p, q, q2 }, ot, layout, client, Fp.random(client.length, prg), prg),
    (state) => polyOnlineClient(ch, state),
    runs,
  );
}

/** `polyParty`'s loop for one role's offline and online functions. */
async function timedPolyRuns<State>(
  ch: FramedChannel,
  role: "server" | "client",
  offline: () => Promise<State>,
  online: (state: State) => Promise<unknown>,
  runs: number,
) {
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  // One online phase between barriers, in microseconds.
  const onlinePass = async (state: State) => {
    gc();
    if (role === "client") await ch.send(READY_KIND, new Uint8Array(0));
    else await ch.recv(READY_KIND);
    ch.setPhase("online");
    const t0 = performance.now();
    await online(state);
    const us = (performance.now() - t0) * 1000;
    ch.setPhase("offline");
    if (role === "client") await ch.recv(READY_KIND);
    else await ch.send(READY_KIND, new Uint8Array(0));
    return us;
  };
  ch.setPhase("offline");
  const first = await offline();
  for (let k = 0; k < POLY_JIT_WARMUP_PASSES; k++) await onlinePass(first);
  const onlineBytesBefore = onlineBytes(ch);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push(await onlinePass(await offline()));
  return { times, onlineBytes: onlineBytes(ch) - onlineBytesBefore };
}

function onlineBytes(ch: FramedChannel): number {
  const { bytesSent, bytesReceived } = ch.stats().phases.online;
  return bytesSent + bytesReceived;
}

/** Median and minimum of the timed runs, per element. */
function perElement(times: number[]) {
  const timed = times.map((t) => t / POLY_ELEMENTS);
  return { online_us: round(median(timed)), min_us: round(Math.min(...timed)), timed_runs: timed.length };
}

/**
 * Online microseconds and bytes per element of the polynomial protocol (real HE offline), two
 * ways: `online_us`, both parties' online computation summed on one thread through the
 * in-memory channel (no overlap, no transport: the per-element compute cost, comparable with
 * the per-ReLU garbling figures); and `tcp_server_wall_us`, the server's online wall time with
 * each party in its own process over loopback TCP (open, the client's answer, finish), which
 * adds a round trip of two 8192-element messages.
 */
async function benchPolyOnline(degree: PolyDegree, repeats: number) {
  const runs = Math.max(repeats, POLY_TIMED_RUNS);
  const args = (role: string, port: string) => [
    ...["--role", role, "--port", port, "--degree", String(degree), "--runs", String(runs)],
  ];
  const { server } = await runParties(
    "polynomial run",
    args("poly-server", "0"),
    (port) => args("poly-client", port),
  );
  const reported = JSON.parse(server.output.match(/^POLY (.*)$/m)![1]) as {
    times: number[];
    onlineBytes: number;
  };
  const [cch, sch] = memoryChannelPair();
  const [{ times: oneThread }] = await Promise.all([
    polyParty("server", sch, degree, runs),
    polyParty("client", cch, degree, runs),
  ]);
  await Promise.all([cch.close(), sch.close()]);
  const tcp = perElement(reported.times);
  return {
    ...perElement(oneThread),
    tcp_server_wall_us: tcp.online_us,
    tcp_server_wall_min_us: tcp.min_us,
    online_bytes: round(reported.onlineBytes / runs / POLY_ELEMENTS),
    elements: POLY_ELEMENTS,
    jit_warmup_passes: POLY_JIT_WARMUP_PASSES,
  };
}

/** Agreement of fixed-point (and secure) inference with float inference on test images. */
async function agreement(setup: Setup, plan: PlanName, images: number, secureImages: number) {
  const served = await prepare(setup, plan);
  const inputs = await testImages(Math.max(images, secureImages), served.normalize);
  const outputs = inputs.map(({ x }) => plaintextOutput(served, x));
  const plaintext = plaintextAgreement(served, inputs.slice(0, images), outputs.slice(0, images));
  if (secureImages === 0) return plaintext;
  const progress = new Progress(`agreement ${setup.model} ${plan}: secure images`, secureImages, {
    every: 30,
  });
  const secure = await secureAgreement(
    served,
    inputs,
    outputs,
    secureImages,
    (done) => progress.update(done),
  );
  progress.finish();
  return { ...plaintext, ...secure };
}

/** `dir` when it holds a saved model, else `fallback`. */
async function modelDirOr(dir: string, fallback: string): Promise<string> {
  try {
    await Deno.stat(`${dir}/model.json`);
    return dir;
  } catch {
    return fallback;
  }
}

/** How the end-to-end times were taken, for the result files. */
const TIMING = "wall-clock medians over repeats on 2 cores (the machine may be shared with other work)";

/** What {@link measureModels} runs: per model and plan, `repeats` end-to-end runs (over `net` if given). */
interface ModelRuns {
  readonly models: readonly ModelName[];
  readonly plans: readonly PlanName[];
  readonly repeats: number;
  readonly fracBits: number;
  readonly net?: NetnsLink;
  /** More figures for a model and plan's entry (counts, agreement). */
  readonly extras?: (setup: Setup, plan: PlanName) => Promise<Record<string, unknown>>;
}

/** Per model: its weights and, per plan, the summary of its end-to-end runs (plus any extras). */
async function measureModels(o: ModelRuns, log: (text: string) => void): Promise<Record<string, unknown>> {
  const perModel: Record<string, unknown> = {};
  for (const model of o.models) {
    const setup = await setupFor(model, o.fracBits, o.plans);
    const entry: Record<string, unknown> = {
      weights: setup.weights,
      plan80Weights: setup.plan80Weights,
      ...Object.fromEntries(
        Object.entries(setup.published).map(([name, p]) => [`${name}Weights`, p.weights]),
      ),
    };
    for (const plan of o.plans) {
      const runs = [];
      for (let r = 0; r < o.repeats; r++) {
        runs.push(await endToEnd(setup, plan, o.net));
        const over = o.net ? ` over ${o.net.link.name},` : "";
        log(`${model} ${plan}${over} run ${r + 1}/${o.repeats}: ${describeRun(runs[r].client)}`);
      }
      entry[plan] = {
        ...summarizeRuns(planSchedule(architecture(model), planFor(setup, plan), o.fracBits), runs),
        ...(o.extras ? await o.extras(setup, plan) : {}),
      };
    }
    perModel[model] = entry;
  }
  return perModel;
}

/** A run's offline and online seconds, for the log. */
function describeRun(client: TrafficStats): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  return `${seconds(client.phases.offline.timeMs)} s offline, ${
    seconds(client.phases.online.timeMs)
  } s online`;
}

const USAGE = `usage: deno task bench:protocol [--models cnn7,vgg16,resnet32] [--repeats 3] [--accuracy 100]
         [--plans all_relu,plan80] [--secure-images 5] [--frac-bits F] [--out results/bench_protocol.json]
       deno task bench:protocol --agreement-only [--plan all_relu|plan80|NAME] [--accuracy 100]
         [--secure-images 100] [--out FILE]
       deno task bench:protocol --link lan|wan [--models cnn7] [--plans all_relu,plan80] [--repeats 1]
         [--out results/bench_protocol_LINK.json]
       deno task bench:protocol --probe-links [--out results/bench_link.json]
  End-to-end secure inference between two processes over loopback TCP (all-ReLU and an 80% plan
  per model), ReLU and polynomial unit costs, and CNN-7's agreement with plaintext inference.
  --link runs the end-to-end runs alone over a shaped link instead: the LAN (1 Gbit/s, 0.5 ms) or
  WAN (100 Mbit/s, 40 ms) preset, bandwidth limited for real (tbf in two network namespaces; needs
  root), the round trip emulated in the transport. --probe-links measures each link's round trip and
  throughput between two processes (the shaped ones need root). A plan NAME other than all_relu and
  plan80 is one a search published (data/plans/MODEL_NAME.json, from \`search --publish NAME --out DIR\`),
  run on the weights it names: "safenet" is SAFENet's; give it its own --out, e.g.
  results/bench_protocol_safenet.json, which Table 2 reads.`;

function fail(message: string): never {
  console.error(`bench:protocol: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

/** `--models` as model names; a one-line error on an unknown one. */
function parseModels(list: string): ModelName[] {
  const names = list.split(",").map((m) => m.trim()).filter(Boolean);
  const unknown = names.find((m) => !(MODEL_NAMES as readonly string[]).includes(m));
  if (unknown || names.length === 0) {
    fail(`unknown model '${unknown ?? list}': use ${MODEL_NAMES.join(", ")}`);
  }
  return names as ModelName[];
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        models: { type: "string", default: MODEL_NAMES.join(",") },
        repeats: { type: "string", default: "3" },
        accuracy: { type: "string", default: "100" },
        "secure-images": { type: "string", default: "5" },
        out: { type: "string" },
        role: { type: "string" },
        port: { type: "string" },
        degree: { type: "string" },
        runs: { type: "string" },
        plan: { type: "string" },
        "agreement-only": { type: "boolean", default: false },
        "frac-bits": { type: "string", default: String(DEFAULT_FRAC_BITS) },
        link: { type: "string", default: "loopback" },
        plans: { type: "string", default: DEFAULT_PLANS.join(",") },
        host: { type: "string" },
        "rtt-ms": { type: "string", default: "0" },
        "probe-links": { type: "boolean", default: false },
        "bulk-bytes": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const fracBits = Number(values["frac-bits"]);
  const models = parseModels(values.models!);
  if (values.role?.startsWith("poly-")) {
    await runPolyRole(
      values.role,
      Number(values.port),
      Number(values.degree) as PolyDegree,
      Number(values.runs),
    );
    Deno.exit(0);
  }
  const wire = values.host ? { host: values.host, receiveDelayMs: Number(values["rtt-ms"]) / 2 } : LOOPBACK;
  if (values.role?.startsWith("link-")) {
    await runLinkRole(values.role, Number(values.port), Number(values["bulk-bytes"]), wire);
    Deno.exit(0);
  }
  if (values.role) {
    await runRole(
      values.role,
      Number(values.port),
      await setupFor(models[0], fracBits, [values.plan!]),
      values.plan as PlanName,
      wire,
    );
    Deno.exit(0);
  }
  if (!Object.hasOwn(LINKS, values.link!)) fail(`unknown --link ${values.link}; use loopback, lan or wan`);
  const plans: PlanName[] = values.plans!.split(",");
  // A published plan must exist with its weights for every model it runs on: say so before any work.
  const wanted = values["agreement-only"]
    ? (values.plan === undefined ? DEFAULT_PLANS : [values.plan])
    : plans;
  for (const model of values["agreement-only"] ? ["cnn7" as const] : models) {
    const setup = await setupFor(model, fracBits, wanted);
    for (const plan of wanted) {
      try {
        planFor(setup, plan);
      } catch (e) {
        fail((e as Error).message);
      }
    }
  }
  const repeats = Math.max(1, Number(values.repeats));
  const log = (text: string) => console.error(`bench:protocol: ${text}`);
  if (values["agreement-only"]) {
    const setup = await setupFor("cnn7", fracBits, wanted);
    const accuracy = Number(values.accuracy), secure = Number(values["secure-images"]);
    const result: Record<string, unknown> = {};
    for (const plan of wanted) result[plan] = await agreement(setup, plan, accuracy, secure);
    const file = { ...setup, agreement: result };
    console.log(JSON.stringify(file, null, 2));
    if (values.out && values.out !== "-") {
      log(`wrote ${await writeBenchmark(values.out, file, CIFAR10_BENCHMARK)}`);
    }
    Deno.exit(0);
  }
  if (values["probe-links"]) {
    const result = { links: await probeLinks(log) };
    const out = values.out ?? "results/bench_link.json";
    console.log(JSON.stringify(result, null, 2));
    if (out !== "-") log(`wrote ${await writeBenchmark(out, result)}`);
    Deno.exit(0);
  }
  if (values.link !== "loopback") {
    const link = LINKS[values.link as "lan" | "wan"];
    const net = await openLink(link).catch((e: Error) => fail(e.message));
    try {
      const perModel = await measureModels({ models, plans, repeats, fracBits, net }, log);
      const result = { fracBits, link: net.description, timing: TIMING, ...perModel };
      const out = values.out ?? `results/bench_protocol_${link.name}.json`;
      console.log(JSON.stringify(result, null, 2));
      if (out !== "-") log(`wrote ${await writeBenchmark(out, result, CIFAR10_BENCHMARK)}`);
    } finally {
      await net.close();
    }
    Deno.exit(0);
  }
  // The ReLUs of inference truncate by the fixed-point fractional bits.
  const gc = await benchGc({ n: 8192, chunk: 2048, repeats, shift: fracBits });
  log(
    `ReLU: garble ${gc.perReluMicroseconds.garble.wallMedian} us, evaluate ${gc.perReluMicroseconds.evaluate.wallMedian} us`,
  );
  const poly2 = await benchPolyOnline(2, repeats);
  const poly3 = await benchPolyOnline(3, repeats);
  log(`poly online: degree 2 ${poly2.online_us} us, degree 3 ${poly3.online_us} us per element`);
  const perModel = await measureModels({
    models,
    plans,
    repeats,
    fracBits,
    extras: async (setup, plan) => {
      const counts = countPlan(architecture(setup.model), planFor(setup, plan));
      return {
        relus: counts.relus,
        polynomial_neurons: counts.approximatedNeurons,
        fraction_replaced: round(counts.fractionReplaced, 4),
        // Agreement needs trained weights; random ones only time the protocol.
        ...(!setup.weights.startsWith("random:")
          ? {
            agreement: await agreement(setup, plan, Number(values.accuracy), Number(values["secure-images"])),
          }
          : {}),
      };
    },
  }, log);
  const result = {
    fracBits,
    timing: TIMING,
    relu: {
      garble_us: gc.perReluMicroseconds.garble.wallMedian,
      eval_us: gc.perReluMicroseconds.evaluate.wallMedian,
      offline_bytes: gc.bytesPerRelu.offline,
      online_bytes: gc.bytesPerRelu.online,
      protocol_offline_us: gc.perReluMicroseconds.protocolOfflineBothParties.wallMedian,
      protocol_online_us: gc.perReluMicroseconds.protocolOnlineBothParties.wallMedian,
    },
    poly2,
    poly3,
    ...perModel,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = values.out ?? "results/bench_protocol.json";
  if (out !== "-") log(`wrote ${await writeBenchmark(out, result, CIFAR10_BENCHMARK)}`);
}
