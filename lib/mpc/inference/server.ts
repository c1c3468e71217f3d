/**
 * The server's side of secure inference (Delphi, with channel-wise mixed activations): holds
 * the quantized network, answers the client's offline requests (HE linear layers, garbled
 * ReLUs, polynomial correlations), then computes its share of every layer online and finally
 * hands its share of the logits to the client. It learns nothing: everything it receives is
 * masked by the client's uniform randomness.
 *
 * ```ts
 * const server = await InferenceServer.open(channel, { graph, net, plan });
 * await server.serve(); // one inference: offline, then online
 * server.close(); // frees the session's HE keys
 * await channel.close();
 * ```
 *
 * Time and bytes are counted per op id and phase by the channel (`channel.stats()`).
 *
 * @module
 */

import { Fp } from "../field.ts";
import { Prg, randomSeed } from "../prg.ts";
import { ReluGarbler } from "../gc/protocol.ts";
import { disposeAnswerKey, receiveAnswerKeys } from "../he/answer.ts";
import { heContext } from "../he/seal.ts";
import { linearOfflineServer, linearOnlineServer } from "../he/linear.ts";
import { plainLinear } from "../he/plain.ts";
import type { QuantizedActivation, QuantizedLinear } from "../quantize.ts";
import {
  gather,
  offerSession,
  scatter,
  type ServedNetwork,
  type SessionOffer,
  type SiteLayout,
} from "./public.ts";
import { buildSchedule, type Schedule } from "./schedule.ts";
import { garbleRelus, garblerOnline } from "./relu.ts";
import {
  alignShares,
  DERIVE,
  deriveSeed,
  type InferenceChannel,
  INPUT_KIND,
  OUTPUT_KIND,
  polyLayout,
  type ProgressHooks,
  SETUP_SECTION,
} from "./steps.ts";
import type { GarblerReluBatch } from "../gc/protocol.ts";
import {
  polyOfflineServer,
  polyOnlineServer,
  type PolyServerHe,
  type PolyServerState,
} from "../poly/protocol.ts";
import { polyReference } from "../poly/layout.ts";
import { RING } from "../poly/ring.ts";
import { IknpReceiver } from "../ot/iknp.ts";

export type { ServedNetwork };

/** Options of {@link InferenceServer.open}. */
export interface ServerOptions {
  /**
   * Tests only, never in a deployment: a fixed seed of all the server's randomness
   * (default: fresh from the OS per session). Reused across sessions it repeats
   * the garbling offset, labels and masks, which breaks the protocol's privacy; no command line or tool sets it.
   */
  readonly insecureTestSeed?: Uint8Array;
}

/** Offline state of one op, kept for its online step. */
type OfflineState =
  | { kind: "linear"; u: Float64Array }
  | { kind: "activation"; layout: SiteLayout; relu: GarblerReluBatch[]; poly: PolyBatch[] };

/** One degree's neurons at a site and the polynomial protocol's offline state for them. */
interface PolyBatch {
  readonly indices: Uint32Array;
  readonly state: PolyServerState;
}

/** One session's server: offer and handshake at `open`, then one inference per `serve`. */
export class InferenceServer {
  /** What was agreed with the client. */
  readonly offer: SessionOffer;
  #ch: InferenceChannel;
  #served: ServedNetwork;
  #prg: Prg;
  /** The client's public keys for p (linear layers, polynomials) and q, q2 (polynomials). */
  #he: PolyServerHe;
  /** OT extension for the polynomial protocol's lift (the server is its receiver). */
  #polyOt: IknpReceiver;
  #garbler: ReluGarbler;
  /** Which sub-protocol runs each op (the client walks the same schedule). */
  #schedule: Schedule;
  #prepared: Map<string, OfflineState>[] = [];
  #closed = false;

  private constructor(
    ch: InferenceChannel,
    served: ServedNetwork,
    offer: SessionOffer,
    prg: Prg,
    polyHe: PolyServerHe,
    polyOt: IknpReceiver,
    garbler: ReluGarbler,
  ) {
    this.#ch = ch;
    this.#served = served;
    this.offer = offer;
    this.#schedule = buildSchedule(offer.network);
    this.#prg = prg;
    this.#he = polyHe;
    this.#polyOt = polyOt;
    this.#garbler = garbler;
  }

  /** Session start (offline phase, section "setup"): offer, handshake, OT and HE setup. */
  static async open(
    ch: InferenceChannel,
    served: ServedNetwork,
    options: ServerOptions = {},
  ): Promise<InferenceServer> {
    ch.setPhase("offline");
    ch.section(SETUP_SECTION);
    const seed = options.insecureTestSeed ?? randomSeed();
    const offer = await offerSession(ch, served);
    const garbler = await ReluGarbler.setup(ch, { seed: deriveSeed(seed, DERIVE.gc) });
    const polyOt = await IknpReceiver.setup(ch, new Prg(deriveSeed(seed, DERIVE.polyOt)));
    const [p, q, q2] = await receiveAnswerKeys(ch, await Promise.all(RING.map((F) => heContext(F.p))));
    const prg = new Prg(deriveSeed(seed, DERIVE.masks));
    return new InferenceServer(ch, served, offer, prg, { p, q, q2 }, polyOt, garbler);
  }

  /**
   * One inference: the whole offline phase, then the online phase. Returns the server's share
   * of every op's output by op id (for checks: with the client's shares they reconstruct every
   * intermediate value).
   */
  async serve(hooks: ProgressHooks = {}): Promise<Map<string, Float64Array>> {
    hooks.phase?.("offline");
    await this.offline();
    hooks.phase?.("online");
    return await this.online();
  }

  /** The offline phase of one inference; its state waits in a queue for `online`. */
  async offline(): Promise<void> {
    if (this.#closed) throw new Error("server: offline() after close(): open a new session");
    this.#prepared.push(await this.#offline());
  }

  /**
   * Frees the session's HE answer keys (SEAL wasm memory, otherwise held until a finalizer runs,
   * if ever; a server answering many sessions must call it). Prepared phases can still run
   * `online`; the channel stays open. Idempotent.
   */
  close(): void {
    if (this.#closed) return; // a second delete of a SEAL object would corrupt the wasm heap
    this.#closed = true;
    disposeAnswerKey(this.#he.p);
    disposeAnswerKey(this.#he.q);
    disposeAnswerKey(this.#he.q2);
  }

  /** The online phase of one inference, using the oldest prepared offline phase (see `serve`). */
  async online(): Promise<Map<string, Float64Array>> {
    const state = this.#prepared.shift();
    if (!state) throw new Error("server: online() needs a prepared offline phase: call offline() first");
    return await this.#online(state);
  }

  async #offline(): Promise<Map<string, OfflineState>> {
    const ch = this.#ch, { net } = this.#served;
    const f = net.fracBits;
    const state = new Map<string, OfflineState>();
    ch.setPhase("offline");
    for (const step of this.#schedule.steps) {
      if (step.kind === "he-linear") {
        ch.section(step.section);
        const q = net.ops[step.op.id] as QuantizedLinear;
        state.set(step.op.id, {
          kind: "linear",
          u: await linearOfflineServer(ch, this.#he.p, q.layer, q.field, this.#prg),
        });
      } else if (step.kind === "activation") {
        ch.section(step.section);
        const { layout } = step;
        const act = net.ops[step.op.id] as QuantizedActivation;
        const relu = await garbleRelus(this.#garbler, layout.relu.length, f);
        const poly: PolyBatch[] = [];
        for (const { degree, indices } of step.poly) {
          const coefficients = Array.from(
            { length: degree + 1 },
            (_, k) => Float64Array.from(indices, (i) => act.coefficients[i % layout.channels][k]),
          );
          poly.push({
            indices,
            state: await polyOfflineServer(
              ch,
              this.#he,
              this.#polyOt,
              polyLayout(degree, f),
              coefficients,
              this.#prg,
            ),
          });
        }
        state.set(step.op.id, { kind: "activation", layout, relu, poly });
      }
    }
    return state;
  }

  async #online(state: Map<string, OfflineState>): Promise<Map<string, Float64Array>> {
    const ch = this.#ch, { net } = this.#served;
    const shares = new Map<string, Float64Array>();
    ch.setPhase("online");
    for (const step of this.#schedule.steps) {
      const { op } = step;
      const x = op.inputs.length ? shares.get(op.inputs[0])! : undefined;
      let y: Float64Array;
      switch (step.kind) {
        case "input":
          ch.section(step.section);
          y = Fp.fromBytes(await ch.recv(INPUT_KIND), step.size, "masked input");
          break;
        case "he-linear": {
          ch.section(step.section);
          const q = net.ops[op.id] as QuantizedLinear;
          const s = state.get(op.id) as Extract<OfflineState, { kind: "linear" }>;
          y = linearOnlineServer(q.layer, q.field, x!, s.u);
          break;
        }
        case "identity":
          y = x!;
          break;
        case "pool":
          y = plainLinear(step.layer, undefined, x!);
          break;
        case "add":
          y = alignShares(net.scales, op, shares);
          break;
        case "activation": {
          ch.section(step.section);
          const s = state.get(op.id) as Extract<OfflineState, { kind: "activation" }>;
          y = await this.#activationOnline(net.ops[op.id] as QuantizedActivation, s, x!);
          break;
        }
      }
      shares.set(op.id, y);
    }
    await ch.send(OUTPUT_KIND, Fp.toBytes(shares.get(this.#schedule.output)!));
    return shares;
  }

  async #activationOnline(
    act: QuantizedActivation,
    s: Extract<OfflineState, { kind: "activation" }>,
    y: Float64Array,
  ): Promise<Float64Array> {
    const { layout } = s;
    const out = new Float64Array(layout.size);
    scatter(out, layout.relu, await garblerOnline(this.#garbler, s.relu, gather(y, layout.relu)));
    for (const { indices, state } of s.poly) {
      scatter(out, indices, await polyOnlineServer(this.#ch, state, gather(y, indices)));
    }
    // Degree 0: the client's mask is 0 there, so the server's share is the constant itself.
    if (layout.constant.length > 0) {
      const c0 = Float64Array.from(layout.constant, (i) => act.coefficients[i % layout.channels][0]);
      const f = this.#served.net.fracBits;
      scatter(out, layout.constant, polyReference(polyLayout(0, f), [c0], new Float64Array(c0.length)));
    }
    return out;
  }
}
