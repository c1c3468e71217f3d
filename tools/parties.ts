/**
 * The command lines of the two programs `deno task serve` and `deno task client`: options,
 * defaults, `--help` and clear usage errors (the table they print after a session is
 * lib/mpc/transport/breakdown.ts).
 *
 * ```ts
 * const command = parseServeArgs(Deno.args);
 * if (command.help) { console.log(SERVE_USAGE); Deno.exit(0); }
 * // ... listen(command.port, command.host, channelOptions(command)) ...
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { MODEL_NAMES, type ModelName } from "../lib/nn/architectures.ts";
import { type ChannelOptions, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from "../lib/mpc/transport.ts";

/** The port the server listens on and the client connects to unless told otherwise. */
export const DEFAULT_PORT = 7441;
/** Host of both programs unless told otherwise: local only, so nothing is exposed by accident. */
export const DEFAULT_HOST = "127.0.0.1";
/**
 * Default limit on session setup (offer, handshake, key exchange), from the connection to the
 * first offline layer; it takes about a second on loopback.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20 * 1000;
/** Number of images in the CIFAR-10 test set, the range of `--image <index>`. */
const CIFAR10_TEST_SIZE = 10_000;

/** A command line that cannot be run; the message says what is wrong and points to --help. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What both programs need to reach each other, and how long they wait for the peer. */
export interface ConnectionArgs {
  /** Address to listen on (server) or connect to (client). */
  host: string;
  /** Port to listen on (0: any free port) or connect to. */
  port: number;
  /** Limit on any one send or receive, in ms. */
  timeoutMs: number;
  /** Limit on a pending send or receive with no byte moving, in ms. */
  idleTimeoutMs: number;
  /** Limit on session setup, in ms. */
  handshakeTimeoutMs: number;
  /** Emulated round-trip time added to the link, in ms (0: none); this side delays what it receives by half. */
  emulateRttMs: number;
}

/** What the server needs to start. */
export interface ServeArgs extends ConnectionArgs {
  /** Directory of the model weights, or "random[:seed]". */
  weights: string;
  /** Path of the replacement plan (JSON); absent: the weights' own (training.json), else all-ReLU. */
  plan: string | undefined;
  /** Architecture of the weights; absent: the one their training.json names. */
  model: ModelName | undefined;
  /** Serve one session, then exit with its outcome (else serve clients until stopped). */
  once: boolean;
  /** TLS certificate chain and private key files (PEM); absent: plain TCP. */
  tls: { certFile: string; keyFile: string } | undefined;
}

/** Which image the client classifies. */
export type ImageSpec =
  | { kind: "test-index"; index: number }
  | { kind: "path"; path: string };

/** What the client needs to start. */
export interface ClientArgs extends ConnectionArgs {
  /** The input image. */
  image: ImageSpec;
  /** CA certificate file (PEM) to check the server's TLS certificate with; absent: plain TCP. */
  tlsCa: string | undefined;
}

/** A parsed command line: either a request for help, or the arguments. */
export type Command<T> = { help: true } | ({ help: false } & T);

const timeoutLines = [
  `  --timeout <seconds>  limit on sending or receiving one message, waiting included (default ${
    DEFAULT_TIMEOUT_MS / 1000
  });`,
  "                       raise it for slow networks",
  `  --idle-timeout <seconds>  limit on waiting with no byte from the peer (default ${
    DEFAULT_IDLE_TIMEOUT_MS / 1000
  });`,
  "                       raise it for large models on slow machines",
  `  --handshake-timeout <seconds>  limit on session setup: offer, handshake, key exchange (default ${
    DEFAULT_HANDSHAKE_TIMEOUT_MS / 1000
  })`,
  "  --emulate-rtt <ms>   add an emulated round trip to the link (this kernel has no netem): this side",
  "                       delays what it receives by half; give both parties the same value (default 0)",
];

/** Help text of `deno task serve`. */
export const SERVE_USAGE = [
  "Usage: deno task serve --weights <dir> [--model <name>] [--plan <file>] [--host <addr>] [--port <n>]",
  "",
  "Runs the server side of the two-party protocol: holds the model weights and serves clients",
  "one after another until stopped (Ctrl-C), each with its offline phase, then the online",
  "inference for the client's image. A client that fails or misbehaves ends its own session",
  "only. Waiting for a client has no time limit; the timeouts apply once it is connected.",
  "",
  "  --weights <dir>      directory of the model weights to serve (model.json, weights.bin)",
  `  --model <name>       architecture of the weights: ${MODEL_NAMES.join(", ")};`,
  "                       default: the one their training.json names",
  "  --plan <file>        replacement plan (JSON); default: the plan the weights were trained with",
  "                       (their training.json), else every activation is a ReLU",
  `  --host <addr>        address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for other machines)`,
  `  --port <n>           port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)`,
  "  --once               serve one client, then exit 0 if its session succeeded, else 1",
  "  --tls-cert <file>    serve TLS with this certificate (PEM; with --tls-key); without it the",
  "                       channel is unauthenticated and unencrypted",
  "  --tls-key <file>     the certificate's private key (PEM)",
  ...timeoutLines,
  "  --help               show this text",
].join("\n");

/** Help text of `deno task client`. */
export const CLIENT_USAGE = [
  "Usage: deno task client --image <index|file> [--host <addr>] [--port <n>]",
  "",
  "Runs the client side of the two-party protocol: connects to a server, runs the offline",
  "phase, then classifies one image without revealing it; the server learns nothing of it.",
  "",
  `  --image <index|file>  an index into the CIFAR-10 test set (0..${CIFAR10_TEST_SIZE - 1}) or an`,
  "                       image file; write ./123 for a file whose name is a number",
  `  --host <addr>        server address (default ${DEFAULT_HOST})`,
  `  --port <n>           server port (default ${DEFAULT_PORT})`,
  "  --tls-ca <file>      speak TLS and check the server's certificate against this CA (PEM), or",
  "                       the system's; without it the channel is unauthenticated and unencrypted",
  ...timeoutLines,
  "  --help               show this text",
].join("\n");

type OptionSpec = Record<string, { type: "string" | "boolean" }>;

/** Runs node:util's strict parser, turning its errors into UsageErrors that point to --help. */
function parseOptions(
  argv: string[],
  options: OptionSpec,
  task: string,
): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see deno task ${task} --help`);
  }
}

function parsePort(text: string | undefined, allowZero: boolean, task: string): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = Number(text);
  const low = allowZero ? 0 : 1;
  if (!/^\d+$/.test(text) || port < low || port > 65535) {
    throw new UsageError(
      `--port must be a whole number from ${low} to 65535, got "${text}"; see deno task ${task} --help`,
    );
  }
  return port;
}

function parseSeconds(
  values: Record<string, unknown>,
  name: string,
  defaultMs: number,
  task: string,
): number {
  const text = values[name] as string | undefined;
  if (text === undefined) return defaultMs;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(
      `--${name} must be a positive number of seconds, got "${text}"; see deno task ${task} --help`,
    );
  }
  return seconds * 1000;
}

const CONNECTION_OPTIONS: OptionSpec = {
  host: { type: "string" },
  port: { type: "string" },
  timeout: { type: "string" },
  "idle-timeout": { type: "string" },
  "handshake-timeout": { type: "string" },
  "emulate-rtt": { type: "string" },
  help: { type: "boolean" },
};

function connectionArgs(values: Record<string, unknown>, task: "serve" | "client"): ConnectionArgs {
  return {
    host: (values.host as string | undefined) ?? DEFAULT_HOST,
    port: parsePort(values.port as string | undefined, task === "serve", task),
    timeoutMs: parseSeconds(values, "timeout", DEFAULT_TIMEOUT_MS, task),
    idleTimeoutMs: parseSeconds(values, "idle-timeout", DEFAULT_IDLE_TIMEOUT_MS, task),
    handshakeTimeoutMs: parseSeconds(values, "handshake-timeout", DEFAULT_HANDSHAKE_TIMEOUT_MS, task),
    emulateRttMs: parseMilliseconds(values, "emulate-rtt", task),
  };
}

/** A non-negative number of milliseconds (default 0). */
function parseMilliseconds(values: Record<string, unknown>, name: string, task: string): number {
  const text = values[name] as string | undefined;
  if (text === undefined) return 0;
  const ms = Number(text);
  if (!(ms >= 0) || !Number.isFinite(ms)) {
    throw new UsageError(
      `--${name} must be a number of milliseconds >= 0, got "${text}"; see deno task ${task} --help`,
    );
  }
  return ms;
}

/** The channel settings of a command line's timeouts and emulated delay. */
export function channelOptions(args: ConnectionArgs): ChannelOptions {
  return {
    timeoutMs: args.timeoutMs,
    idleTimeoutMs: args.idleTimeoutMs,
    ...(args.emulateRttMs > 0 ? { receiveDelayMs: args.emulateRttMs / 2 } : {}),
  };
}

function required(values: Record<string, unknown>, name: string, task: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`--${name} is required; see deno task ${task} --help`);
  }
  return value;
}

/**
 * Splits options that the strict parsers here do not know (e.g. the client's pins, the
 * server's --frac-bits) off `argv`: `--name value` or `--name=value` for each of `names`; the
 * rest is returned for {@link parseServeArgs} or {@link parseClientArgs}. `task` names the
 * program in errors.
 */
export function splitOptions(
  argv: string[],
  names: readonly string[],
  task: string,
): { values: Record<string, string>; rest: string[] } {
  const values: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!names.includes(flag.slice(2)) || !flag.startsWith("--")) {
      rest.push(argv[i]);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") {
      throw new UsageError(`${flag} needs a value; see deno task ${task} --help`);
    }
    values[flag.slice(2)] = value;
  }
  return { values, rest };
}

/** Reads a PEM file named by `flag` (e.g. --tls-cert); a missing or unreadable file is a one-line error naming it. */
export async function readPemFile(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

/** Parses the arguments of `deno task serve`; throws a UsageError for a bad command line. */
export function parseServeArgs(argv: string[]): Command<ServeArgs> {
  const values = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    weights: { type: "string" },
    plan: { type: "string" },
    model: { type: "string" },
    once: { type: "boolean" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
  }, "serve");
  if (values.help) return { help: true };
  const model = values.model as string | undefined;
  if (model !== undefined && !(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(", ")}, got "${model}"`);
  }
  const [certFile, keyFile] = [values["tls-cert"], values["tls-key"]] as (string | undefined)[];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: give both, or neither for plain TCP");
  }
  return {
    help: false,
    ...connectionArgs(values, "serve"),
    weights: required(values, "weights", "serve"),
    plan: values.plan as string | undefined,
    model: model as ModelName | undefined,
    once: values.once === true,
    tls: certFile === undefined ? undefined : { certFile, keyFile: keyFile! },
  };
}

/** Reads `--image`: all digits means a test-set index, anything else a file path. */
export function parseImageSpec(text: string): ImageSpec {
  if (!/^\d+$/.test(text)) return { kind: "path", path: text };
  const index = Number(text);
  if (index >= CIFAR10_TEST_SIZE) {
    throw new UsageError(
      `--image ${text} is past the CIFAR-10 test set (indices 0..${CIFAR10_TEST_SIZE - 1}); ` +
        `write ./${text} if you mean a file of that name`,
    );
  }
  return { kind: "test-index", index };
}

/** Parses the arguments of `deno task client`; throws a UsageError for a bad command line. */
export function parseClientArgs(argv: string[]): Command<ClientArgs> {
  const values = parseOptions(argv, {
    ...CONNECTION_OPTIONS,
    image: { type: "string" },
    "tls-ca": { type: "string" },
  }, "client");
  if (values.help) return { help: true };
  return {
    help: false,
    ...connectionArgs(values, "client"),
    image: parseImageSpec(required(values, "image", "client")),
    tlsCa: values["tls-ca"] as string | undefined,
  };
}
