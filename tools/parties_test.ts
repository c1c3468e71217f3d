import assert from "node:assert/strict";
import {
  channelOptions,
  CLIENT_USAGE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  parseClientArgs,
  parseImageSpec,
  parseServeArgs,
  SERVE_USAGE,
  splitOptions,
  UsageError,
} from "./parties.ts";
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from "../lib/mpc/transport/framed_channel.ts";

/** The timeouts a command line gets when it names none. */
const DEFAULT_TIMEOUTS = {
  timeoutMs: DEFAULT_TIMEOUT_MS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  emulateRttMs: 0,
};

function usageError(...fragments: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${error}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return true;
  };
}

Deno.test("parseServeArgs: flags, defaults and --help", () => {
  assert.deepEqual(
    parseServeArgs(["--model", "resnet32", "--weights", "w.bin", "--plan", "p.json", "--port=9000"]),
    {
      help: false,
      host: DEFAULT_HOST,
      port: 9000,
      weights: "w.bin",
      plan: "p.json",
      model: "resnet32",
      once: false,
      tls: undefined,
      ...DEFAULT_TIMEOUTS,
    },
  );
  const minimal = parseServeArgs([
    "--model",
    "cnn7",
    "--weights",
    "w",
    "--host",
    "0.0.0.0",
    "--timeout",
    "1.5",
    "--idle-timeout",
    "2",
    "--handshake-timeout=0.5",
    "--once",
    "--tls-cert",
    "c.pem",
    "--tls-key",
    "k.pem",
  ]);
  assert.ok(!minimal.help);
  assert.equal(minimal.plan, undefined);
  assert.equal(minimal.port, DEFAULT_PORT);
  assert.equal(minimal.host, "0.0.0.0");
  assert.deepEqual([minimal.timeoutMs, minimal.idleTimeoutMs, minimal.handshakeTimeoutMs], [1500, 2000, 500]);
  assert.equal(minimal.once, true);
  assert.deepEqual(minimal.tls, { certFile: "c.pem", keyFile: "k.pem" });
  // No --model: the weights' training.json names it.
  const bare = parseServeArgs(["--port", "0", "--weights", "w"]);
  assert.ok(!bare.help);
  assert.equal(bare.model, undefined);
  assert.deepEqual(parseServeArgs(["--help"]), { help: true });
  for (
    const flag of [
      "--model",
      "--weights",
      "--plan",
      "--host",
      "--port",
      "--once",
      "--tls-cert",
      "--tls-key",
      "--timeout",
      "--idle-timeout",
      "--handshake-timeout",
      "--help",
    ]
  ) {
    assert.ok(SERVE_USAGE.includes(flag), flag);
  }
  assert.ok(SERVE_USAGE.includes("unauthenticated"), "the help says what plain TCP means");
});

Deno.test("parseServeArgs: clear errors for missing, unknown and invalid options", () => {
  assert.throws(() => parseServeArgs(["--model", "cnn7"]), usageError("--weights is required", "--help"));
  assert.throws(
    () => parseServeArgs(["--weights", "w", "--tls-cert", "c.pem"]),
    usageError("--tls-cert and --tls-key go together"),
  );
  assert.throws(
    () => parseServeArgs(["--model", "resnet18", "--weights", "w"]),
    usageError("cnn7, vgg16, resnet32"),
  );
  assert.throws(
    () => parseServeArgs(["--model", "cnn7", "--weights", "w", "--prot", "1"]),
    usageError("--prot"),
  );
  assert.throws(() => parseServeArgs(["--model", "cnn7", "--weights", "w", "extra"]), usageError("extra"));
  for (const port of ["70000", "-1", "12a", ""]) {
    assert.throws(
      () => parseServeArgs(["--model", "cnn7", "--weights", "w", "--port", port]),
      usageError("--port"),
    );
  }
  assert.throws(
    () => parseServeArgs(["--model", "cnn7", "--weights", "w", "--timeout", "0"]),
    usageError("--timeout must be a positive number"),
  );
  assert.throws(
    () => parseServeArgs(["--weights", "w", "--idle-timeout", "soon"]),
    usageError('--idle-timeout must be a positive number of seconds, got "soon"'),
  );
  assert.throws(
    () => parseServeArgs(["--weights", "w", "--emulate-rtt", "far"]),
    usageError('--emulate-rtt must be a number of milliseconds >= 0, got "far"'),
  );
});

Deno.test("--emulate-rtt: each side delays what it receives by half the round trip", () => {
  const parsed = (argv: string[]) => {
    const command = parseServeArgs(argv);
    assert.ok(!command.help);
    return command;
  };
  const args = parsed(["--weights", "w", "--emulate-rtt", "40"]);
  assert.equal(args.emulateRttMs, 40);
  assert.equal(channelOptions(args).receiveDelayMs, 20);
  assert.equal(channelOptions(parsed(["--weights", "w"])).receiveDelayMs, undefined);
});

Deno.test("parseClientArgs: image index or path, defaults, --help", () => {
  assert.deepEqual(parseClientArgs(["--image", "42"]), {
    help: false,
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    image: { kind: "test-index", index: 42 },
    tlsCa: undefined,
    ...DEFAULT_TIMEOUTS,
  });
  assert.equal(
    (parseClientArgs(["--image", "1", "--tls-ca", "ca.pem"]) as { tlsCa: string }).tlsCa,
    "ca.pem",
  );
  const withPath = parseClientArgs(["--image", "cat.png", "--host", "10.0.0.2", "--port", "9000"]);
  assert.ok(!withPath.help);
  assert.deepEqual(withPath.image, { kind: "path", path: "cat.png" });
  assert.equal(withPath.port, 9000);
  assert.deepEqual(parseClientArgs(["--help"]), { help: true });
  assert.throws(() => parseClientArgs([]), usageError("--image is required", "deno task client --help"));
  assert.throws(() => parseClientArgs(["--image", "1", "--port", "0"]), usageError("from 1 to 65535"));
  assert.throws(() => parseClientArgs(["--image", "1", "--weights", "w"]), usageError("--weights"));
  for (const flag of ["--image", "--host", "--port", "--tls-ca", "--timeout", "--idle-timeout", "--help"]) {
    assert.ok(CLIENT_USAGE.includes(flag), flag);
  }
});

Deno.test("splitOptions: options the strict parsers do not know are split off the arguments", () => {
  const pins = ["model", "plan", "expect-weights"];
  assert.deepEqual(
    splitOptions(
      ["--image", "3", "--model", "cnn7", "--plan=p.json", "--expect-weights", "ab"],
      pins,
      "client",
    ),
    { values: { model: "cnn7", plan: "p.json", "expect-weights": "ab" }, rest: ["--image", "3"] },
  );
  assert.throws(
    () => splitOptions(["--model"], pins, "client"),
    usageError("--model needs a value; see deno task client --help"),
  );
});

Deno.test("parseImageSpec: test-set bounds, and ./ for numeric file names", () => {
  assert.deepEqual(parseImageSpec("0"), { kind: "test-index", index: 0 });
  assert.deepEqual(parseImageSpec("9999"), { kind: "test-index", index: 9999 });
  assert.throws(() => parseImageSpec("10000"), usageError("0..9999", "./10000"));
  assert.deepEqual(parseImageSpec("./10000"), { kind: "path", path: "./10000" });
});
