/**
 * The client's side of secure inference: holds the image, chooses every mask offline (its
 * shares of all activations), obtains its shares of the linear layers by HE, prepares the
 * garbled ReLUs (evaluator, inputs by OT) and polynomial correlations, then online sends its
 * masked input, evaluates the circuits and reconstructs the logits from the server's share.
 *
 * ```ts
 * const client = await InferenceClient.open(channel, { pins: { model: "cnn7" } });
 * const { logits } = await client.infer(normalizedImageHWC); // or offline() now, online(image) later
 * client.close(); // frees the HE keys
 * await channel.close();
 * ```
 *
 * Everything the client does offline is independent of the image; the image enters only in
 * the online phase's first message, x - r, uniform to the server. Degree-0 (pruned) neurons
 * get the mask 0: their value is a constant of the server's, so the server's share is the
 * constant itself and nothing about the client is at stake.
 *
 * @module
 */

import { Fp } from "../field.ts";
import { encodeFixed } from "../fixed.ts";
import { Prg, randomSeed } from "../prg.ts";
import { type EvaluatorReluBatch, ReluEvaluator } from "../gc/protocol.ts";
import { sendPublicKeys } from "../he/answer.ts";
import { disposeKeys, heContext, heKeys } from "../he/seal.ts";
import { linearOfflineClient } from "../he/linear.ts";
import { plainLinear } from "../he/plain.ts";
import { type TensorScale, tensorScales } from "../quantize.ts";
import { inferShapes, type Shape } from "../../nn/graph.ts";
import { acceptSession, gather, type PublicNetwork, type SessionOffer, type SessionPins } from "./public.ts";
import { evaluatorOffline, evaluatorOnline } from "./relu.ts";
import { buildSchedule, type Schedule } from "./schedule.ts";
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
import {
  type PolyClientKeys,
  type PolyClientState,
  polyOfflineClient,
  polyOnlineClient,
} from "../poly/protocol.ts";
import { RING } from "../poly/ring.ts";
import { IknpSender } from "../ot/iknp.ts";
import { argmax } from "../../report/stats.ts";

/** Options of {@link InferenceClient.open}. */
export interface ClientOptions {
  /** What the client insists on (model, plan hash, weights hash, fixed-point bits). */
  readonly pins?: SessionPins;
  /**
   * Tests only, never in a deployment: a fixed seed of all the client's randomness
   * (default: fresh from the OS per session). Reused across sessions it repeats
   * its masks and OT randomness, which breaks the protocol's privacy; no command line or tool sets it.
   */
  readonly insecureTestSeed?: Uint8Array;
}

/** The result of one inference. */
export interface InferenceResult {
  /** The network's output decoded to reals. */
  readonly logits: Float64Array;
  /** The output as field elements (signed encoding, scale of the last op). */
  readonly output: Float64Array;
  /** argmax of the logits. */
  readonly predicted: number;
  /**
   * The client's share of every op's output by op id (its masks and HE shares); for checks,
   * with the server's shares they reconstruct every intermediate value.
   */
  readonly shares: ReadonlyMap<string, Float64Array>;
}

/** What the client keeps from offline to online for one inference. */
interface ClientOffline {
  /** The client's share of every op's output (its masks and HE shares), by op id. */
  shares: Map<string, Float64Array>;
  relu: Map<string, EvaluatorReluBatch[]>;
  poly: Map<string, PolyClientState[]>;
}

/** One session's client: offer and handshake at `open`, then one inference per `infer`. */
export class InferenceClient {
  /** What was agreed with the server, including the public network. */
  readonly offer: SessionOffer;
  #ch: InferenceChannel;
  #prg: Prg;
  #keys: PolyClientKeys;
  /** OT extension for the polynomial protocol's lift (the client is its sender). */
  #polyOt: IknpSender;
  #evaluator: ReluEvaluator;
  #scales: Map<string, TensorScale>;
  /** Which sub-protocol runs each op (the server walks the same schedule). */
  #schedule: Schedule;
  #inputShape: Shape;
  #prepared: ClientOffline[] = [];
  #closed = false;

  private constructor(
    ch: InferenceChannel,
    offer: SessionOffer,
    prg: Prg,
    keys: PolyClientKeys,
    polyOt: IknpSender,
    evaluator: ReluEvaluator,
  ) {
    this.#ch = ch;
    this.offer = offer;
    this.#prg = prg;
    this.#keys = keys;
    this.#polyOt = polyOt;
    this.#evaluator = evaluator;
    this.#scales = tensorScales(offer.network.graph, offer.network.fracBits);
    this.#schedule = buildSchedule(offer.network);
    this.#inputShape = inferShapes(offer.network.graph).get(offer.network.graph.ops[0].id)!;
  }

  /** Session start (offline phase, section "setup"): offer, handshake, OT and HE keys. */
  static async open(ch: InferenceChannel, options: ClientOptions = {}): Promise<InferenceClient> {
    ch.setPhase("offline");
    ch.section(SETUP_SECTION);
    const seed = options.insecureTestSeed ?? randomSeed();
    const offer = await acceptSession(ch, options.pins);
    const evaluator = await ReluEvaluator.setup(ch, { seed: deriveSeed(seed, DERIVE.gc) });
    const polyOt = await IknpSender.setup(ch, new Prg(deriveSeed(seed, DERIVE.polyOt)));
    // Fresh keys per session, for the field p (linear layers, polynomials) and q, q2 (polynomials);
    // made last so that a failed setup before them leaves no keys to free. The public keys let
    // the server re-randomise its HE answers.
    const [p, q, q2] = await Promise.all(RING.map(async (F) => heKeys(await heContext(F.p))));
    const keys = { p, q, q2 };
    try {
      await sendPublicKeys(ch, [p, q, q2]);
    } catch (e) {
      [p, q, q2].forEach(disposeKeys);
      throw e;
    }
    return new InferenceClient(ch, offer, new Prg(deriveSeed(seed, DERIVE.masks)), keys, polyOt, evaluator);
  }

  /** The public network the server offered. */
  get network(): PublicNetwork {
    return this.offer.network;
  }

  /**
   * Classifies one image (normalised floats, HWC, the graph's input shape): `offline()`, then
   * `online(image)`.
   */
  async infer(image: ArrayLike<number>, hooks: ProgressHooks = {}): Promise<InferenceResult> {
    this.#encode(image); // fail on a bad image before the offline phase starts
    hooks.phase?.("offline");
    await this.offline();
    hooks.phase?.("online");
    return await this.online(image);
  }

  /**
   * The offline phase of one inference, before the image is known (Delphi's preprocessing).
   * Its result waits in a queue for `online`; the server must run `offline` as often.
   */
  async offline(): Promise<void> {
    if (this.#closed) throw new Error("client: offline() after close(): open a new session");
    this.#prepared.push(await this.#offline());
  }

  /**
   * Frees the session's HE keys (SEAL wasm memory, otherwise held until a finalizer runs, if ever).
   * Phases already prepared by `offline` can still run `online`; the channel stays open. Idempotent.
   */
  close(): void {
    if (this.#closed) return; // a second delete of a SEAL object would corrupt the wasm heap
    this.#closed = true;
    disposeKeys(this.#keys.p);
    disposeKeys(this.#keys.q);
    disposeKeys(this.#keys.q2);
  }

  /** The online phase for `image`, using the oldest prepared offline phase. */
  async online(image: ArrayLike<number>): Promise<InferenceResult> {
    const x = this.#encode(image);
    const offline = this.#prepared.shift();
    if (!offline) throw new Error("client: online() needs a prepared offline phase: call offline() first");
    return await this.#online(x, offline);
  }

  /** The image in fixed point; throws (before any message is sent) if it does not fit. */
  #encode(image: ArrayLike<number>): Float64Array {
    const [h, w, c] = this.#inputShape;
    if (image.length !== h * w * c) {
      throw new RangeError(
        `client: the image has ${image.length} values, ${this.network.graph.name} needs ${h}x${w}x${c} (HWC)`,
      );
    }
    return encodeFixed(image, this.network.fracBits);
  }

  async #offline(): Promise<ClientOffline> {
    const ch = this.#ch, f = this.network.fracBits;
    const shares = new Map<string, Float64Array>();
    const relu = new Map<string, EvaluatorReluBatch[]>();
    const poly = new Map<string, PolyClientState[]>();
    ch.setPhase("offline");
    for (const step of this.#schedule.steps) {
      const { op } = step;
      const r = op.inputs.length ? shares.get(op.inputs[0])! : undefined;
      let share: Float64Array;
      switch (step.kind) {
        case "input":
          ch.section(step.section);
          share = Fp.random(step.size, this.#prg);
          break;
        case "he-linear":
          ch.section(step.section);
          share = await linearOfflineClient(ch, this.#keys.p, step.layer, r!);
          break;
        case "identity":
          share = r!;
          break;
        case "pool":
          share = plainLinear(step.layer, undefined, r!);
          break;
        case "add":
          share = alignShares(this.#scales, op, shares);
          break;
        case "activation": {
          ch.section(step.section);
          const { layout } = step;
          // The next layer's mask; zero on degree-0 neurons, whose value (a constant) the server holds.
          share = Fp.random(layout.size, this.#prg);
          for (const i of layout.constant) share[i] = 0;
          relu.set(
            op.id,
            await evaluatorOffline(this.#evaluator, gather(r!, layout.relu), gather(share, layout.relu), f),
          );
          const batches: PolyClientState[] = [];
          for (const { degree, indices } of step.poly) {
            batches.push(
              await polyOfflineClient(
                ch,
                this.#keys,
                this.#polyOt,
                polyLayout(degree, f),
                gather(r!, indices),
                gather(share, indices),
                this.#prg,
              ),
            );
          }
          poly.set(op.id, batches);
          break;
        }
      }
      shares.set(op.id, share);
    }
    return { shares, relu, poly };
  }

  async #online(x: Float64Array, offline: ClientOffline): Promise<InferenceResult> {
    const ch = this.#ch, { steps, output } = this.#schedule;
    ch.setPhase("online");
    for (const step of steps) {
      if (step.kind === "input") {
        ch.section(step.section);
        await ch.send(INPUT_KIND, Fp.toBytes(Fp.subVec(x, offline.shares.get(step.op.id)!)));
      } else if (step.kind === "activation") {
        ch.section(step.section);
        await evaluatorOnline(this.#evaluator, offline.relu.get(step.op.id)!);
        for (const state of offline.poly.get(step.op.id)!) await polyOnlineClient(ch, state);
      }
    }
    // The output share arrives in the section of the last step, as the server sends it.
    ch.section(steps[steps.length - 1].section);
    const mine = offline.shares.get(output)!;
    const logitsShare = Fp.addVec(
      Fp.fromBytes(await ch.recv(OUTPUT_KIND), mine.length, "output share"),
      mine,
    );
    const scale = this.#scales.get(output)!;
    const logits = Fp.toSignedVec(logitsShare).map((v) => v / (2 ** scale.bits * scale.multiplier));
    return { logits, output: logitsShare, predicted: argmax(logits), shares: offline.shares };
  }
}
