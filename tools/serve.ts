/**
 * The server of two-party secure inference: holds the model and serves clients one after
 * another until stopped (Ctrl-C), printing each session's per-layer time and bytes; it learns
 * nothing about the clients' images.
 *
 * ```
 * deno task serve --weights data/pretrained/cnn7 [--plan plan.json] [--port 7441]   # model from training.json
 * deno task serve --model cnn7 --weights random:1      # seeded untrained weights, timing only
 * deno task serve ... --frac-bits 10                   # fixed-point precision (default: DEFAULT_FRAC_BITS)
 * deno task serve ... --tls-cert cert.pem --tls-key key.pem
 * ```
 *
 * Prints "server: listening on HOST:PORT" once ready (the port the OS chose for --port 0), then
 * waits for clients with no time limit; the timeouts apply to each session. A session that
 * fails (the client misbehaves, dies or times out) is logged and the server goes on, as it does
 * after a connection that fails before it is accepted; the client is told a generic reason
 * unless the failure is public (a mismatch it caused), the detail stays in this log.
 * Exits 0 when stopped by Ctrl-C (SIGINT), 1 when it cannot start, 2 for a bad command line;
 * with `--once`, after one session: 0 if it succeeded, else 1.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import {
  channelOptions,
  parseServeArgs,
  readPemFile,
  SERVE_USAGE,
  type ServeArgs,
  splitOptions,
  UsageError,
} from "./parties.ts";
import { formatBreakdown } from "../lib/mpc/transport/breakdown.ts";
import {
  abortReason,
  type FramedChannel,
  listen,
  MAX_LINE_CHARS,
  printable,
  type TransportError,
} from "../lib/mpc/transport.ts";
import { InferenceServer, type ServedNetwork } from "../lib/mpc/inference/server.ts";
import { prepareNetwork, RANDOM_WEIGHTS, readPlan } from "../lib/mpc/inference/model.ts";
import { planHash } from "../lib/mpc/inference/public.ts";
import { weightsFingerprint } from "../lib/mpc/quantize.ts";
import { DEFAULT_FRAC_BITS } from "../lib/mpc/fixed.ts";
import { countPlan } from "../lib/nn/plan.ts";

const USAGE = `${SERVE_USAGE}

  --frac-bits <n>      fixed-point fractional bits f (default ${DEFAULT_FRAC_BITS}); more bits are more precise,
                       but polynomial channels then fail more often (see lib/mpc/fixed.ts)
  --weights random[:seed] serves a seeded untrained model (for timing before trained weights exist).`;

/** Pause after a failed accept, so a listener that keeps failing (no file descriptors left) does not spin. */
const ACCEPT_RETRY_MS = 100;

/** Prints a failure: messages may quote the peer, so they are escaped and capped. */
function logError(message: string): void {
  console.error(printable(message.startsWith("server") ? message : `server: ${message}`, MAX_LINE_CHARS));
}

/**
 * One client's session, from accept to close; returns whether it succeeded. Failures are logged
 * and told to the client (generically unless public), never thrown: the next client is served.
 */
async function serveSession(
  channel: FramedChannel,
  served: ServedNetwork,
  command: ServeArgs,
): Promise<boolean> {
  console.log(`server: ${channel.peer} connected`);
  channel.setDeadline(command.handshakeTimeoutMs, "session setup (TLS, offer, handshake, key exchange)");
  let server: InferenceServer | undefined;
  try {
    server = await InferenceServer.open(channel, served);
    channel.clearDeadline();
    const started = performance.now();
    await server.serve({ phase: (phase) => console.log(`server: ${phase} phase`) });
    await channel.close();
    console.log(
      `server: done in ${
        ((performance.now() - started) / 1000).toFixed(2)
      } s; the server learned nothing about the input`,
    );
    console.log(formatBreakdown(channel.stats(), "server"));
    return true;
  } catch (error) {
    logError(error instanceof Error ? error.message : String(error));
    await channel.abort(abortReason(error, "server"));
    return false;
  } finally {
    server?.close();
  }
}

/** Runs the server for `argv`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let command, fracBits: number | undefined;
  try {
    const split = splitOptions(argv, ["frac-bits"], "serve");
    command = parseServeArgs(split.rest);
    if (split.values["frac-bits"] !== undefined) {
      fracBits = Number(split.values["frac-bits"]);
      if (!Number.isInteger(fracBits) || fracBits < 1) {
        throw new UsageError(`--frac-bits must be a positive integer, got "${split.values["frac-bits"]}"`);
      }
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`serve: ${error.message}`);
    return 2;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  let served: ServedNetwork, listener;
  try {
    const tls = command.tls && {
      cert: await readPemFile(command.tls.certFile, "--tls-cert"),
      key: await readPemFile(command.tls.keyFile, "--tls-key"),
    };
    const plan = command.plan === undefined ? undefined : await readPlan(command.plan);
    // Coefficients of channels the weights were not trained with are fitted on 64 training images.
    const prepared = await prepareNetwork({
      model: command.model,
      weights: command.weights,
      plan,
      fracBits,
      calibrationImages: 64,
    });
    // One key per run: clients may pin the fingerprint printed below for as long as it runs.
    served = { ...prepared, weightsKey: randomBytes(32) };
    const counts = countPlan(served.graph, served.plan);
    const planSource = command.plan ?? (counts.approximatedNeurons > 0 ? "from training.json" : "all-ReLU");
    console.log(`server: model ${served.graph.name}, weights ${prepared.source}`);
    console.log(
      `server: plan ${planSource} (hash ${planHash(served.plan).slice(0, 16)}): ` +
        `${counts.relus} ReLUs, ${counts.approximatedNeurons} polynomial neurons ` +
        `(${
          (100 * counts.fractionReplaced).toFixed(1)
        }% replaced); f = ${served.net.fracBits} fractional bits`,
    );
    console.log(
      `server: weights fingerprint ${weightsFingerprint(served.net, served.weightsKey!)} ` +
        `(for this run only; clients may pin it with --expect-weights)`,
    );
    for (const warning of prepared.warnings) console.warn(`server: warning: ${warning}`);
    if (RANDOM_WEIGHTS.test(command.weights)) {
      console.warn("server: warning: untrained weights; predictions are meaningless");
    }
    listener = listen(command.port, command.host, { ...channelOptions(command), tls });
  } catch (error) {
    logError(error instanceof Error ? error.message : String(error));
    return 1;
  }
  let stopping = false;
  let current: FramedChannel | undefined;
  const stop = () => {
    console.log("server: stopping (Ctrl-C)");
    stopping = true;
    listener.close();
    current?.abort("the server is shutting down");
  };
  // Before "listening" is printed: whoever waits for that line may press Ctrl-C at once.
  Deno.addSignalListener("SIGINT", stop);
  if (!listener.tls) {
    console.log("server: no TLS: the channel is unauthenticated and unencrypted (see --tls-cert)");
  }
  console.log(`server: listening on ${listener.host}:${listener.port}${listener.tls ? " (TLS)" : ""}`);
  try {
    while (!stopping) {
      try {
        current = await listener.accept();
      } catch (error) {
        if (stopping || (error as TransportError).code === "closed") break;
        logError((error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      const ok = await serveSession(current, served, command);
      current = undefined;
      if (command.once && !stopping) return ok ? 0 : 1;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    listener.close();
  }
  console.log("server: stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
