/**
 * What both parties of the inference protocol know, and how they agree on it.
 *
 * Public (as in Delphi): the architecture (the graph), the field and fixed-point bits, and the
 * plan's shape — for each activation site which channels are ReLU and which are polynomials of
 * which degree — and the input normalisation. The client needs exactly this to run its side:
 * sizes for HE, which neurons go to the garbled circuit and which to the polynomial protocol.
 * Private to the server: weights, biases and polynomial coefficients. Private to the client:
 * the image.
 *
 * Session start: the server sends an offer (the public network, the hash of its plan and a
 * salted commitment to its weights); the client checks it against whatever it pinned
 * (`--model`, `--plan`, `--expect-weights`) and both run the transport's handshake on the same
 * keys, so a mismatch fails on both sides with one message listing every difference. Until the
 * handshake is done a message may hold kilobytes (`SESSION_START_LIMITS`); after it, what the
 * public network needs (`sessionLimits`).
 *
 * The weights commitment is SHA-256(salt, fingerprint), the salt fresh per session and the
 * fingerprint an HMAC of the weights under a key only the server holds (`weightsFingerprint`):
 * a client that pinned the fingerprint its operator gave it can check it, one that guesses
 * the server runs some public checkpoint cannot confirm the guess, and two sessions cannot be
 * linked to the same weights.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { Fp, P } from "../field.ts";
import type { Channel, PayloadLimits } from "../channel.ts";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  handshake,
  printable,
  PublicError,
  type SessionValue,
  TransportError,
} from "../transport.ts";
import { INPUT_KIND, OUTPUT_KIND } from "./steps.ts";
import { activationSites, type Graph, inferShapes } from "../../nn/graph.ts";
import type { ChannelFunction } from "../../nn/fold.ts";
import type { Degree } from "../../nn/approximation.ts";
import type { Plan } from "../../nn/plan.ts";
import { type ChannelStats, CIFAR10_STATS } from "../../data/augment.ts";
import {
  type QuantizedActivation,
  type QuantizedNetwork,
  tensorScales,
  weightsFingerprint,
} from "../quantize.ts";

/** The public description of a served network. */
export interface PublicNetwork {
  readonly graph: Graph;
  /** Fractional bits f. */
  readonly fracBits: number;
  /** Per activation site id, per channel: "relu" or a polynomial degree. */
  readonly masks: Readonly<Record<string, readonly ChannelFunction[]>>;
}

/** The neurons of one activation site, split by function (indices into the HWC tensor). */
export interface SiteLayout {
  readonly id: string;
  /** Neurons at the site. */
  readonly size: number;
  /** ReLU neurons (garbled circuit). */
  readonly relu: Uint32Array;
  /** Polynomial neurons by degree 1..3 (absent degrees have no entry). */
  readonly poly: ReadonlyMap<Exclude<Degree, 0>, Uint32Array>;
  /** Degree-0 neurons: they output their channel's constant. */
  readonly constant: Uint32Array;
  /** Channels at the site: neuron i (HWC order) belongs to channel i mod channels. */
  readonly channels: number;
}

/** The public part of a quantized network. */
export function publicNetwork(net: QuantizedNetwork, graph: Graph): PublicNetwork {
  const masks: Record<string, ChannelFunction[]> = {};
  for (const site of activationSites(graph)) {
    masks[site.id] = [...(net.ops[site.id] as QuantizedActivation).mask];
  }
  return { graph, fracBits: net.fracBits, masks };
}

/**
 * Throws unless `pub` is well formed: a valid, protocol-ready graph starting with its input,
 * integer fixed-point bits, one mask per site of the right width.
 */
export function checkPublicNetwork(pub: PublicNetwork): void {
  if (!Array.isArray(pub?.graph?.ops) || pub.graph.ops[0]?.kind !== "input" || pub.graph.ops.length < 2) {
    throw new Error("public network: the graph must start with its input op and have at least one more op");
  }
  if (!Number.isInteger(pub.fracBits) || pub.fracBits < 1) {
    throw new Error(
      `public network: fracBits must be a positive integer, got ${JSON.stringify(pub.fracBits)}`,
    );
  }
  tensorScales(pub.graph, pub.fracBits);
  for (const site of activationSites(pub.graph)) {
    const mask = pub.masks[site.id];
    if (!Array.isArray(mask) || mask.length !== site.channels) {
      throw new Error(
        `public network: site '${site.id}' needs a mask of ${site.channels} channels, got ${mask?.length}`,
      );
    }
    mask.forEach((fn, c) => {
      if (fn !== "relu" && fn !== 0 && fn !== 1 && fn !== 2 && fn !== 3) {
        throw new Error(`public network: site '${site.id}' channel ${c} has function ${JSON.stringify(fn)}`);
      }
    });
  }
}

/** Splits a site's neurons by channel function. */
export function siteLayout(pub: PublicNetwork, siteId: string): SiteLayout {
  const [h, w, c] = inferShapes(pub.graph).get(siteId)!;
  const mask = pub.masks[siteId];
  const size = h * w * c;
  const lists = new Map<ChannelFunction, number[]>();
  for (let i = 0; i < size; i++) {
    const fn = mask[i % c];
    let list = lists.get(fn);
    if (!list) lists.set(fn, list = []);
    list.push(i);
  }
  const take = (fn: ChannelFunction) => Uint32Array.from(lists.get(fn) ?? []);
  const poly = new Map<Exclude<Degree, 0>, Uint32Array>();
  for (const d of [1, 2, 3] as const) if (lists.has(d)) poly.set(d, take(d));
  return { id: siteId, size, relu: take("relu"), poly, constant: take(0), channels: c };
}

/** Gathers `v[indices]`. */
export function gather(v: Float64Array, indices: Uint32Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = v[indices[i]];
  return out;
}

/** Scatters `values` into `out[indices]`. */
export function scatter(out: Float64Array, indices: Uint32Array, values: Float64Array): void {
  for (let i = 0; i < indices.length; i++) out[indices[i]] = values[i];
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** SHA-256 of a plan's content (model, per-site alpha and beta), the key both sides compare. */
export function planHash(plan: Plan): string {
  return sha256(JSON.stringify({ model: plan.model, sites: plan.sites.map((s) => [s.alpha, s.beta]) }));
}

/** SHA-256 (hex) of a session's `salt` (hex) and a weights fingerprint: what the offer carries. */
export function weightsCommitment(fingerprint: string, salt: string): string {
  return sha256(`safenet weights commitment\n${salt}\n${fingerprint}`);
}

/** The server's offer: the public network, its input normalisation, its plan's hash and weights' commitment. */
export interface SessionOffer {
  readonly network: PublicNetwork;
  /** How the client must normalise its image (the statistics the weights were trained with). */
  readonly normalize: ChannelStats;
  /** `planHash` of the plan the server runs. */
  readonly plan: string;
  /** `weightsCommitment` of the server's weights fingerprint under `weightsSalt`. */
  readonly weights: string;
  /** The commitment's salt (hex), fresh per session. */
  readonly weightsSalt: string;
}

/** What a client may insist on; absent keys accept the server's offer. */
export interface SessionPins {
  /** Architecture name, e.g. "cnn7". */
  readonly model?: string;
  /** `planHash` of the plan the client expects. */
  readonly plan?: string;
  /** The `weightsFingerprint` the client expects (printed by the server at start). */
  readonly weights?: string;
  /** Fractional bits the client expects. */
  readonly fracBits?: number;
}

/** Message kind of the offer. */
export const OFFER_KIND = "session.offer";

/**
 * Payload limits until the handshake is done, while the peer may be anyone: a hello is under
 * a kilobyte, an offer (a network description) tens of kilobytes (VGG-16: 37 KB).
 */
export const SESSION_START_LIMITS: PayloadLimits = { default: 16 << 10, kinds: { [OFFER_KIND]: 256 << 10 } };

/**
 * Fixed part of a session's message limit: garbled tables travel 1,024 ReLUs at a time
 * (13 MB), OT extension columns 2.6 MB, and an HE message holds at least one ciphertext.
 */
const BATCH_BYTES = 16 << 20;
/**
 * Part per element of the network's largest tensor: HE answers measured up to 208 bytes per
 * output element (VGG-16), shares of a tensor 6 to 16.
 */
const BYTES_PER_ELEMENT = 512;

/**
 * Payload limits for a session of `network` after the handshake: the input and output shares
 * exactly, every other message at most BATCH_BYTES + BYTES_PER_ELEMENT per element of the
 * largest tensor (CNN-7: 48 MiB), and never over the transport's default.
 */
export function sessionLimits(network: PublicNetwork): PayloadLimits {
  const ops = network.graph.ops;
  const shapes = inferShapes(network.graph);
  const elements = (id: string) => shapes.get(id)!.reduce((a, b) => a * b, 1);
  const cap = (bytes: number) =>
    Number.isSafeInteger(bytes) ? Math.min(bytes, DEFAULT_MAX_PAYLOAD_BYTES) : DEFAULT_MAX_PAYLOAD_BYTES;
  return {
    default: cap(BATCH_BYTES + BYTES_PER_ELEMENT * Math.max(...ops.map((op) => elements(op.id)))),
    kinds: {
      [INPUT_KIND]: cap(Fp.bytesPerElement * elements(ops[0].id)),
      [OUTPUT_KIND]: cap(Fp.bytesPerElement * elements(ops[ops.length - 1].id)),
    },
  };
}

/** The keys the handshake compares, from an offer. */
function sessionValues(offer: SessionOffer): Record<string, SessionValue> {
  const { graph, fracBits, masks } = offer.network;
  return {
    model: graph.name,
    graph: sha256(JSON.stringify(graph)).slice(0, 16),
    field: P,
    fracBits,
    plan: offer.plan,
    planShape: sha256(JSON.stringify(masks)).slice(0, 16),
    weights: offer.weights,
    normalize: JSON.stringify(offer.normalize),
  };
}

/** What the server serves. */
export interface ServedNetwork {
  readonly graph: Graph;
  readonly net: QuantizedNetwork;
  /** The plan the network runs (its hash is part of the session). */
  readonly plan: Plan;
  /** Input normalisation the client must apply (public); default CIFAR-10's statistics. */
  readonly normalize?: ChannelStats;
  /**
   * The server's secret key of `weightsFingerprint`, kept for as long as clients may pin the
   * fingerprint (tools/serve.ts: one per run); absent: a fresh key per session, so no client can.
   */
  readonly weightsKey?: Uint8Array;
}

/** The server's side of session start: sends the offer, then the handshake. */
export async function offerSession(channel: Channel, served: ServedNetwork): Promise<SessionOffer> {
  channel.limitPayloads?.(SESSION_START_LIMITS);
  const weightsSalt = randomBytes(16).toString("hex");
  const fingerprint = weightsFingerprint(served.net, served.weightsKey ?? randomBytes(32));
  const offer: SessionOffer = {
    network: publicNetwork(served.net, served.graph),
    normalize: served.normalize ?? CIFAR10_STATS,
    plan: planHash(served.plan),
    weights: weightsCommitment(fingerprint, weightsSalt),
    weightsSalt,
  };
  await channel.send(OFFER_KIND, new TextEncoder().encode(JSON.stringify(offer)));
  await handshake(channel, "server", sessionValues(offer));
  channel.limitPayloads?.(sessionLimits(offer.network));
  return offer;
}

/**
 * The client's side of session start: receives and checks the offer, then runs the handshake
 * with the offer's keys overridden by `pins`; a difference fails on both sides.
 */
export async function acceptSession(channel: Channel, pins: SessionPins = {}): Promise<SessionOffer> {
  channel.limitPayloads?.(SESSION_START_LIMITS);
  let offer: SessionOffer;
  try {
    offer = JSON.parse(new TextDecoder().decode(await channel.recv(OFFER_KIND)));
    checkPublicNetwork(offer.network);
    if (!/^[0-9a-f]{32}$/.test(offer.weightsSalt) || typeof offer.weights !== "string") {
      throw new Error("its weights commitment or salt is missing");
    }
  } catch (error) {
    if (error instanceof TransportError) throw error;
    // The parser's message may quote the offer: the server's text, shown escaped and short.
    throw new PublicError(
      `client: the server's session offer is malformed (${
        printable((error as Error).message, 200)
      }); is it a SAFENet Lab server of the same version?`,
    );
  }
  const values = sessionValues(offer);
  const mine: Record<string, SessionValue> = {
    ...values,
    ...(pins.model === undefined ? {} : { model: pins.model }),
    ...(pins.plan === undefined ? {} : { plan: pins.plan }),
    ...(pins.weights === undefined ? {} : { weights: weightsCommitment(pins.weights, offer.weightsSalt) }),
    ...(pins.fracBits === undefined ? {} : { fracBits: pins.fracBits }),
  };
  await handshake(channel, "client", mine);
  channel.limitPayloads?.(sessionLimits(offer.network));
  return offer;
}
