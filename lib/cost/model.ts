/**
 * The protocol cost model: prices a schedule under a protocol variant, a calibration and a
 * network link. Per section and in total: offline and online seconds split into the linear and
 * the activation part (the paper's four columns), bytes per phase and direction, round trips.
 *
 * Time of a part = its operations' compute seconds / threads (an ideal split: the calibrations
 * are single-threaded) + its bytes / bandwidth + its round trips x round-trip time. A calibration
 * measured end to end over a network already includes the link (`includesNetwork`, the paper's):
 * then the link adds nothing.
 *
 * @module
 */

import type { Schedule } from "../mpc/inference/schedule.ts";
import type { Calibration } from "./calibration.ts";
import { countSchedule } from "./counts.ts";
import { type Operation, type PhaseWork, sectionWork, type Tally, type Variant } from "./variants.ts";

/** A network between the parties. */
export interface Link {
  readonly name: string;
  /** Bytes per second each way. */
  readonly bandwidth: number;
  /** Round-trip time, seconds. */
  readonly rtt: number;
}

/** The presets: loopback (no link cost), LAN 1 Gbit/s 0.5 ms, WAN 100 Mbit/s 40 ms. */
export const LINKS: Readonly<Record<"loopback" | "lan" | "wan", Link>> = {
  loopback: { name: "loopback", bandwidth: Infinity, rtt: 0 },
  lan: { name: "lan", bandwidth: 1e9 / 8, rtt: 0.5e-3 },
  wan: { name: "wan", bandwidth: 100e6 / 8, rtt: 40e-3 },
};

/** What a link probe measured (lib/mpc/transport/probe.ts, results/bench_link.json). */
export interface LinkProbe {
  readonly rtt_s: number;
  readonly to_client_bytes_s: number;
  readonly to_server_bytes_s: number;
}

/**
 * A link as measured: its round trip, and the slower direction's payload throughput (the model
 * has one rate for both ways). Over loopback this makes moving bytes between the processes cost
 * time; over a shaped link it is the payload rate left after TCP/IP's headers.
 */
export function measuredLink(name: string, probe: LinkProbe): Link {
  const bandwidth = Math.min(probe.to_client_bytes_s, probe.to_server_bytes_s);
  if (!(bandwidth > 0 && probe.rtt_s >= 0)) {
    throw new Error(`link '${name}': a measured link needs a positive throughput and a round trip >= 0`);
  }
  return { name, bandwidth, rtt: probe.rtt_s };
}

/**
 * The links as `bench:protocol --probe-links` measured them, from results/bench_link.json's
 * content (`file`; absent or partial: only the links it has).
 */
// deno-lint-ignore no-explicit-any
export function probedLinks(file: any): Partial<Record<keyof typeof LINKS, Link>> {
  const out: Partial<Record<keyof typeof LINKS, Link>> = {};
  for (const name of Object.keys(LINKS) as (keyof typeof LINKS)[]) {
    const probe = file?.links?.[name]?.measured;
    if (probe) out[name] = measuredLink(name, probe);
  }
  return out;
}

/** Bytes each way. */
export interface Bytes {
  readonly toServer: number;
  readonly toClient: number;
}

/** One phase's price. */
export interface PhasePrice {
  readonly linear_s: number;
  readonly activation_s: number;
  readonly total_s: number;
  readonly bytes: Bytes;
  readonly rounds: number;
}

/** One section's price. */
export interface SectionPrice {
  readonly section: string;
  readonly kind: string;
  readonly offline: PhasePrice;
  readonly online: PhasePrice;
}

/** The whole price. */
export interface Price {
  readonly variant: Variant;
  readonly calibration: string;
  readonly link: string;
  readonly threads: number;
  readonly sections: readonly SectionPrice[];
  readonly offline: PhasePrice;
  readonly online: PhasePrice;
  readonly total_s: number;
  readonly bytes: number;
}

/** Options of {@link price}. */
export interface PriceOptions {
  readonly variant: Variant;
  readonly calibration: Calibration;
  readonly link?: Link;
  /** Threads per party; default 1. */
  readonly threads?: number;
}

function tallyPrice(t: Tally, c: Calibration, threads: number): { seconds: number; bytes: Bytes } {
  let seconds = 0, toServer = 0, toClient = 0;
  for (const [op, count] of Object.entries(t) as [Operation, number][]) {
    const unit = c.units[op];
    if (!unit) {
      throw new Error(
        `cost model: calibration '${c.name}' has no unit cost for '${op}' (${c.source}); ` +
          "run the benchmark that measures it, or price a variant that does not use it",
      );
    }
    seconds += count * unit.seconds;
    toServer += count * unit.toServer;
    toClient += count * unit.toClient;
  }
  return { seconds: seconds / threads, bytes: { toServer, toClient } };
}

function phasePrice(
  work: PhaseWork,
  kind: string,
  c: Calibration,
  link: Link,
  threads: number,
): PhasePrice {
  const lin = tallyPrice(work.linear, c, threads), act = tallyPrice(work.activation, c, threads);
  const wire = (b: Bytes) =>
    c.includesNetwork || link.bandwidth === Infinity ? 0 : Math.max(b.toServer, b.toClient) / link.bandwidth;
  const latency = c.includesNetwork ? 0 : work.rounds * link.rtt;
  const linear_s = lin.seconds + wire(lin.bytes) + (kind === "activation" ? 0 : latency);
  const activation_s = act.seconds + wire(act.bytes) + (kind === "activation" ? latency : 0);
  return {
    linear_s,
    activation_s,
    total_s: linear_s + activation_s,
    bytes: {
      toServer: lin.bytes.toServer + act.bytes.toServer,
      toClient: lin.bytes.toClient + act.bytes.toClient,
    },
    rounds: work.rounds,
  };
}

function sumPhases(phases: readonly PhasePrice[]): PhasePrice {
  const sum = (f: (p: PhasePrice) => number) => phases.reduce((s, p) => s + f(p), 0);
  const linear_s = sum((p) => p.linear_s), activation_s = sum((p) => p.activation_s);
  return {
    linear_s,
    activation_s,
    total_s: linear_s + activation_s,
    bytes: { toServer: sum((p) => p.bytes.toServer), toClient: sum((p) => p.bytes.toClient) },
    rounds: sum((p) => p.rounds),
  };
}

/** Prices `schedule` (a public network and its plan) under `options`. */
export function price(schedule: Schedule, options: PriceOptions): Price {
  const { variant, calibration } = options;
  const link = options.link ?? LINKS.loopback;
  const threads = options.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`cost model: threads must be a positive integer, got ${threads}`);
  }
  const sections = countSchedule(schedule).map((counts): SectionPrice => {
    const work = sectionWork(variant, counts);
    return {
      section: counts.section,
      kind: counts.kind,
      offline: phasePrice(work.offline, counts.kind, calibration, link, threads),
      online: phasePrice(work.online, counts.kind, calibration, link, threads),
    };
  });
  const offline = sumPhases(sections.map((s) => s.offline));
  const online = sumPhases(sections.map((s) => s.online));
  return {
    variant,
    calibration: calibration.name,
    link: link.name,
    threads,
    sections,
    offline,
    online,
    total_s: offline.total_s + online.total_s,
    bytes: offline.bytes.toServer + offline.bytes.toClient + online.bytes.toServer + online.bytes.toClient,
  };
}
