/**
 * Byte, message, round-trip and time accounting for a channel, per phase and per section.
 *
 * The meter always has a current phase ("offline" / "online") and a current section (a label
 * such as a layer name). Every frame sent or received, headers included, is added to the
 * (section, phase) cell that is current at that moment, and wall time accrues to the current
 * cell until the phase or section changes. Protocol code therefore only says where it is:
 *
 * ```ts
 * channel.setPhase("offline");
 * for (const layer of layers) { channel.section(layer.id); await offline(layer); }
 * ```
 *
 * @module
 */

import type { Phase } from "../channel.ts";

/** Counts for one cell, a phase, or the whole channel. */
export interface TrafficCounts {
  /** Bytes written, frame headers included. */
  bytesSent: number;
  /** Bytes read, frame headers included. */
  bytesReceived: number;
  /** Frames written. */
  messagesSent: number;
  /** Frames read. */
  messagesReceived: number;
  /** Receives that followed a send of this side: how often it waited for an answer. */
  roundTrips: number;
  /** Wall-clock milliseconds spent in this cell (compute and waiting alike). */
  timeMs: number;
}

/** The counts of one (section, phase) cell. */
export interface SectionTraffic extends TrafficCounts {
  /** The section label. */
  section: string;
  /** The phase. */
  phase: Phase;
}

/** A snapshot of everything a meter counted. */
export interface TrafficStats {
  /** Sum over all cells. */
  total: TrafficCounts;
  /** Sums per phase. */
  phases: Record<Phase, TrafficCounts>;
  /** One entry per (section, phase) cell with time or traffic, in first-seen order. */
  sections: SectionTraffic[];
}

/** The section that is current before the protocol names one (setup, handshake). */
export const DEFAULT_SECTION = "(setup)";

function zeroCounts(): TrafficCounts {
  return { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, roundTrips: 0, timeMs: 0 };
}

function addInto(sum: TrafficCounts, cell: TrafficCounts): void {
  sum.bytesSent += cell.bytesSent;
  sum.bytesReceived += cell.bytesReceived;
  sum.messagesSent += cell.messagesSent;
  sum.messagesReceived += cell.messagesReceived;
  sum.roundTrips += cell.roundTrips;
  sum.timeMs += cell.timeMs;
}

/** Accumulates traffic and time into (section, phase) cells. */
export class TrafficMeter {
  #now: () => number;
  #cells = new Map<string, SectionTraffic>();
  #current: SectionTraffic;
  #since: number;
  #lastWasSend = false;

  /** Starts in `phase` and section DEFAULT_SECTION; `now` is the clock in ms (injectable for tests). */
  constructor(phase: Phase = "offline", now: () => number = () => performance.now()) {
    this.#now = now;
    this.#since = now();
    this.#current = this.#cell(DEFAULT_SECTION, phase);
  }

  /** The phase that traffic is counted under now. */
  get phase(): Phase {
    return this.#current.phase;
  }

  /** The section that traffic is counted under now. */
  get section(): string {
    return this.#current.section;
  }

  /** Switches the phase, keeping the section. */
  setPhase(phase: Phase): void {
    this.#switchTo(this.#current.section, phase);
  }

  /** Switches the section, keeping the phase. */
  setSection(label: string): void {
    this.#switchTo(label, this.#current.phase);
  }

  /** Counts one frame of `bytes` written. */
  recordSent(bytes: number): void {
    this.#current.bytesSent += bytes;
    this.#current.messagesSent++;
    this.#lastWasSend = true;
  }

  /** Counts one frame of `bytes` read. */
  recordReceived(bytes: number): void {
    this.#current.bytesReceived += bytes;
    this.#current.messagesReceived++;
    if (this.#lastWasSend) this.#current.roundTrips++;
    this.#lastWasSend = false;
  }

  /** A deep copy of the counts, with the current cell's time counted up to now. */
  snapshot(): TrafficStats {
    const elapsed = this.#now() - this.#since;
    const sections = [...this.#cells.values()]
      .map((cell) => ({ ...cell, timeMs: cell === this.#current ? cell.timeMs + elapsed : cell.timeMs }))
      // A cell passed through without time or traffic (switching phase, then section) is noise.
      .filter((cell) => cell.timeMs > 0 || cell.messagesSent > 0 || cell.messagesReceived > 0);
    const phases: Record<Phase, TrafficCounts> = { offline: zeroCounts(), online: zeroCounts() };
    const total = zeroCounts();
    for (const cell of sections) {
      addInto(phases[cell.phase], cell);
      addInto(total, cell);
    }
    return { total, phases, sections };
  }

  #cell(section: string, phase: Phase): SectionTraffic {
    const key = JSON.stringify([section, phase]);
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = { section, phase, ...zeroCounts() };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  #switchTo(section: string, phase: Phase): void {
    const now = this.#now();
    this.#current.timeMs += now - this.#since;
    this.#since = now;
    this.#current = this.#cell(section, phase);
  }
}
