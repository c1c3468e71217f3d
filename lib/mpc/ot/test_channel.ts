/**
 * A minimal in-memory `Channel` pair for tests and benchmarks of the OT and garbling code,
 * recording every message (the transcript) and counting payload bytes per phase. The real
 * transport (lib/mpc/transport.ts) implements the same interface with framing.
 *
 * @module
 */

import type { Channel, Phase } from "../channel.ts";

/** One recorded message. */
export interface Sent {
  readonly from: "a" | "b";
  readonly kind: string;
  readonly phase: Phase;
  readonly payload: Uint8Array;
}

/** One end of a test channel pair. */
export interface TestChannel extends Channel {
  /** Payload bytes this end sent, per phase. */
  readonly sent: Record<Phase, number>;
}

/** Both ends, plus the shared transcript (in send order). */
export interface TestChannelPair {
  readonly a: TestChannel;
  readonly b: TestChannel;
  readonly transcript: Sent[];
}

class Queue {
  items: { kind: string; payload: Uint8Array }[] = [];
  waiter: (() => void) | undefined;
}

class End implements TestChannel {
  sent: Record<Phase, number> = { offline: 0, online: 0 };
  #phase: Phase = "offline";
  constructor(
    readonly name: "a" | "b",
    private inbox: Queue,
    private outbox: Queue,
    private transcript: Sent[] | null,
  ) {}

  send(kind: string, payload: Uint8Array): Promise<void> {
    const copy = payload.slice(); // the sender may reuse its buffer
    this.sent[this.#phase] += copy.length;
    this.transcript?.push({ from: this.name, kind, phase: this.#phase, payload: copy });
    this.outbox.items.push({ kind, payload: copy });
    const w = this.outbox.waiter;
    this.outbox.waiter = undefined;
    w?.();
    return Promise.resolve();
  }

  async recv(kind: string): Promise<Uint8Array> {
    while (this.inbox.items.length === 0) {
      await new Promise<void>((resolve) => this.inbox.waiter = resolve);
    }
    const msg = this.inbox.items.shift()!;
    if (msg.kind !== kind) {
      throw new Error(`test channel ${this.name}: expected message "${kind}", got "${msg.kind}"`);
    }
    return msg.payload;
  }

  setPhase(phase: Phase): void {
    this.#phase = phase;
  }
}

/** A connected pair of in-memory channels; `record: false` skips the transcript. */
export function testChannelPair(record = true): TestChannelPair {
  const ab = new Queue(), ba = new Queue();
  const transcript: Sent[] = [];
  const log = record ? transcript : null;
  return { a: new End("a", ba, ab, log), b: new End("b", ab, ba, log), transcript };
}

/**
 * Whether any 16-byte secret occurs anywhere (at any byte offset) in the transcript: the check
 * that a party never saw a value it must not learn.
 */
export function transcriptContains(transcript: Sent[], secrets: Uint8Array[]): boolean {
  const byPrefix = new Map<number, Uint8Array[]>();
  for (const s of secrets) {
    const key = new DataView(s.buffer, s.byteOffset, 16).getUint32(0, true);
    byPrefix.set(key, [...(byPrefix.get(key) ?? []), s]);
  }
  for (const { payload } of transcript) {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let off = 0; off + 16 <= payload.length; off++) {
      const hits = byPrefix.get(view.getUint32(off, true));
      if (!hits) continue;
      for (const s of hits) {
        let same = true;
        for (let j = 4; j < 16 && same; j++) same = payload[off + j] === s[j];
        if (same) return true;
      }
    }
  }
  return false;
}
