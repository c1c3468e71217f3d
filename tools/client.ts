/**
 * The client of two-party secure inference: connects to `deno task serve`, classifies one
 * image (a CIFAR-10 test image, or a PNG or JPEG file of any size) without revealing it,
 * prints the predicted class, the true label (for a test-set index), the logits and the
 * per-layer time and bytes.
 *
 * ```
 * deno task client --image 17 [--host 127.0.0.1 --port 7441] [--tls-ca ca.pem]
 *   [--model cnn7] [--plan plan.json] [--expect-weights <fingerprint>]
 * ```
 *
 * The client needs no weights: the server offers the architecture and the plan's public shape
 * (which channels are ReLU or polynomial). `--model`, `--plan` and `--expect-weights` pin what
 * the client accepts; a difference fails the handshake on both sides. Everything printed from
 * the server (names, abort reasons) is escaped and capped.
 *
 * Exits 0 after a completed inference, 1 when the session fails, 2 for a bad command line.
 *
 * @module
 */

import {
  channelOptions,
  CLIENT_USAGE,
  type ClientArgs,
  parseClientArgs,
  readPemFile,
  splitOptions,
  UsageError,
} from "./parties.ts";
import { formatBreakdown } from "../lib/mpc/transport/breakdown.ts";
import { abortReason, connect, type FramedChannel, MAX_LINE_CHARS, printable } from "../lib/mpc/transport.ts";
import { InferenceClient } from "../lib/mpc/inference/client.ts";
import { planHash, type SessionPins } from "../lib/mpc/inference/public.ts";
import { type ChannelStats, CIFAR10_CLASSES, IMAGE_BYTES, loadCifar, normalize } from "../lib/data/mod.ts";
import { validatePlan } from "../lib/nn/plan.ts";
import { architecture, MODEL_NAMES, type ModelName } from "../lib/nn/architectures.ts";
import { decodeImage, imageFormat, resizeSquare } from "../lib/report/image.ts";

const USAGE = `${CLIENT_USAGE}

Pins (optional; the handshake fails on both sides if the server differs):
  --model <name>          the architecture the client expects (${MODEL_NAMES.join(", ")})
  --plan <file>           the replacement plan the client expects
  --expect-weights <fingerprint> the weights fingerprint the server printed at start

An image file is a PNG or a JPEG of any size (its central square is scaled to 32x32), a
CIFAR-10 binary record (3073 bytes: label, then planar RGB) or 3072 raw bytes of a 32x32 RGB
image (HWC, interleaved). PNG and JPEG are recognised by their first bytes, not by their size.`;

/** The pins as the session compares them (a plan file becomes its hash). */
async function sessionPins(raw: Record<string, string>): Promise<SessionPins> {
  const model = raw.model;
  if (model !== undefined && !(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(", ")}, got "${model}"`);
  }
  let plan: string | undefined;
  if (raw.plan !== undefined) {
    let parsed;
    try {
      parsed = JSON.parse(await Deno.readTextFile(raw.plan));
    } catch (error) {
      throw new UsageError(`cannot read plan ${raw.plan}: ${(error as Error).message}`);
    }
    if (model !== undefined) validatePlan(architecture(model as ModelName), parsed);
    plan = planHash(parsed);
  }
  return { model, plan, weights: raw["expect-weights"] };
}

/** An image as bytes (HWC RGB) with its label if known. */
export interface LoadedImage {
  pixels: Uint8Array;
  label: number | undefined;
  description: string;
}

/**
 * Reads the image of `--image`: a test-set index, a PNG or JPEG (decoded, central square scaled
 * to 32x32), a CIFAR-10 record file or raw RGB bytes. Throws a one-line error naming the file
 * when it is missing or none of these.
 */
export async function loadImage(spec: ClientArgs["image"]): Promise<LoadedImage> {
  if (spec.kind === "test-index") {
    const test = await loadCifar({ dataset: "cifar10", split: "test" });
    const pixels = test.images.slice(spec.index * IMAGE_BYTES, (spec.index + 1) * IMAGE_BYTES);
    return { pixels, label: test.labels[spec.index], description: `CIFAR-10 test image ${spec.index}` };
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(spec.path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`no image file at ${spec.path}`);
    throw new Error(`cannot read image file ${spec.path}: ${(error as Error).message}`);
  }
  const format = imageFormat(bytes);
  if (format !== null) {
    const image = decodeImage(bytes, spec.path);
    return {
      pixels: resizeSquare(image, 32).pixels,
      label: undefined,
      description: `${spec.path} (${format.toUpperCase()} ${image.width}x${image.height}, scaled to 32x32)`,
    };
  }
  if (bytes.length === IMAGE_BYTES) return { pixels: bytes, label: undefined, description: spec.path };
  if (bytes.length === IMAGE_BYTES + 1) {
    const plane = IMAGE_BYTES / 3;
    const pixels = new Uint8Array(IMAGE_BYTES);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) pixels[3 * i + c] = bytes[1 + c * plane + i];
    }
    return { pixels, label: bytes[0], description: `${spec.path} (CIFAR-10 record)` };
  }
  throw new Error(
    `${spec.path} is not a PNG or JPEG file and has ${bytes.length} bytes: expected a CIFAR-10 record ` +
      `(${IMAGE_BYTES + 1} bytes) or raw 32x32 RGB bytes (${IMAGE_BYTES}); or give a test-set index`,
  );
}

function className(index: number | undefined): string {
  if (index === undefined) return "unknown";
  return `${CIFAR10_CLASSES[index] ?? `class ${index}`} (${index})`;
}

/** Runs the client for `argv`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let command, pins: SessionPins;
  try {
    const split = splitOptions(argv, ["model", "plan", "expect-weights"], "client");
    command = parseClientArgs(split.rest);
    if (command.help) {
      console.log(USAGE);
      return 0;
    }
    pins = await sessionPins(split.values);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`client: ${error.message}`);
    return 2;
  }
  let channel: FramedChannel | undefined;
  try {
    const image = await loadImage(command.image);
    const caCerts = command.tlsCa === undefined ? undefined : [await readPemFile(command.tlsCa, "--tls-ca")];
    if (!caCerts) {
      console.log("client: no TLS: the channel is unauthenticated and unencrypted (see --tls-ca)");
    }
    channel = await connect(command.host, command.port, {
      ...channelOptions(command),
      tls: caCerts && { caCerts },
      retries: 40,
      retryDelayMs: 250,
    });
    channel.setDeadline(command.handshakeTimeoutMs, "session setup (offer, handshake, key exchange)");
    const client = await InferenceClient.open(channel, { pins });
    channel.clearDeadline();
    const offer = client.offer;
    console.log(
      `client: connected to ${channel.peer}${caCerts ? " (TLS)" : ""}: ${
        printable(offer.network.graph.name, 40)
      }, ` +
        `plan ${offer.plan.slice(0, 16)}, f = ${offer.network.fracBits}`,
    );
    const x = normalize(image.pixels, offer.normalize as ChannelStats);
    const started = performance.now();
    const result = await client.infer(x, { phase: (phase) => console.log(`client: ${phase} phase`) });
    client.close();
    await channel.close();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `client: ${image.description}: predicted ${className(result.predicted)}, true label ${
        className(image.label)
      }`,
    );
    console.log(`client: logits ${Array.from(result.logits, (v) => v.toFixed(4)).join(" ")}`);
    console.log(`client: done in ${seconds.toFixed(2)} s`);
    console.log(formatBreakdown(channel.stats(), "client"));
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Messages may quote the server: escaped and capped.
    console.error(printable(message.startsWith("client") ? message : `client: ${message}`, MAX_LINE_CHARS));
    await channel?.abort(abortReason(error, "client"));
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
