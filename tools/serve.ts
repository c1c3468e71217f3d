/**
 * The server of two-party secure inference: holds the model, serves one client, prints the
 * per-layer time and bytes, and learns nothing about the client's image.
 *
 * ```
 * deno task serve --model cnn7 --weights data/pretrained/cnn7 [--plan plan.json] [--port 7441]
 * deno task serve --model cnn7 --weights random:1      # seeded untrained weights, timing only
 * deno task serve ... --frac-bits 10                   # fixed-point precision (default: DEFAULT_FRAC_BITS)
 * ```
 *
 * Prints "server: listening on HOST:PORT" once ready (the port the OS chose for --port 0), then
 * waits for its client with no time limit: `--timeout` limits each message exchange of the
 * session, not this wait.
 * Exits 0 after a completed session, 1 when the session fails (the message names the cause; the
 * client is told too), 2 for a bad command line.
 *
 * @module
 */

import { formatBreakdown, parseServeArgs, SERVE_USAGE, splitOptions, UsageError } from "../lib/mpc/roles.ts";
import { type FramedChannel, listen } from "../lib/mpc/transport.ts";
import { InferenceServer } from "../lib/mpc/inference/server.ts";
import { prepareNetwork, RANDOM_WEIGHTS, readPlan } from "../lib/mpc/inference/model.ts";
import { planHash } from "../lib/mpc/inference/public.ts";
import { weightsHash } from "../lib/mpc/quantize.ts";
import { DEFAULT_FRAC_BITS } from "../lib/mpc/fixed.ts";
import { countPlan } from "../lib/nn/plan.ts";

const USAGE = `${SERVE_USAGE}

  --frac-bits <n>      fixed-point fractional bits f (default ${DEFAULT_FRAC_BITS}); more bits are more precise,
                       but polynomial channels then fail more often (see lib/mpc/fixed.ts)
  --weights random[:seed] serves a seeded untrained model (for timing before trained weights exist).`;

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
  let channel: FramedChannel | undefined;
  try {
    const plan = command.plan === undefined ? undefined : await readPlan(command.plan);
    // Coefficients of channels the weights were not trained with are fitted on 64 training images.
    const served = await prepareNetwork({
      model: command.model,
      weights: command.weights,
      plan,
      fracBits,
      calibrationImages: 64,
    });
    const counts = countPlan(served.graph, served.plan);
    const planSource = command.plan ?? (counts.approximatedNeurons > 0 ? "from training.json" : "all-ReLU");
    console.log(`server: model ${command.model}, weights ${served.source}`);
    console.log(
      `server: plan ${planSource} (hash ${planHash(served.plan).slice(0, 16)}): ` +
        `${counts.relus} ReLUs, ${counts.approximatedNeurons} polynomial neurons ` +
        `(${
          (100 * counts.fractionReplaced).toFixed(1)
        }% replaced); f = ${served.net.fracBits} fractional bits`,
    );
    console.log(`server: weights hash ${weightsHash(served.net)} (clients may pin it with --expect-weights)`);
    for (const warning of served.warnings) console.warn(`server: warning: ${warning}`);
    if (RANDOM_WEIGHTS.test(command.weights)) {
      console.warn("server: warning: untrained weights; predictions are meaningless");
    }
    const listener = listen(command.port, command.host, { timeoutMs: command.timeoutMs });
    console.log(`server: listening on ${listener.host}:${listener.port}`);
    try {
      // No accept timeout: a server is started before its client and may wait as long as it takes.
      channel = await listener.accept();
    } finally {
      listener.close();
    }
    console.log(`server: ${channel.peer} connected`);
    const server = await InferenceServer.open(channel, served);
    const started = performance.now();
    await server.serve({ phase: (phase) => console.log(`server: ${phase} phase`) });
    await channel.close();
    console.log(
      `server: done in ${
        ((performance.now() - started) / 1000).toFixed(2)
      } s; the server learned nothing about the input`,
    );
    console.log(formatBreakdown(channel.stats(), "server"));
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(message.startsWith("server") ? message : `server: ${message}`);
    await channel?.abort(`the server failed: ${message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
