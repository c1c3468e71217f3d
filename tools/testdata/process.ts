/**
 * A child Deno process for the tools' end-to-end tests: collects stdout and stderr, waits for a
 * line matching a pattern, kills, and reports the exit code — always with a time limit, so a
 * hanging program fails the test instead of hanging it.
 *
 * @module
 */

import { REPO_ROOT } from "../../lib/data/locate.ts";

/** A running `deno run -A <script> <args>`. */
export class DenoProcess {
  /** Everything written to stdout and stderr so far, interleaved by arrival. */
  output = "";
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<unknown>;
  #waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  /** `prefix`: a command that runs Deno, e.g. `ip netns exec NS` (default none). */
  constructor(script: string, args: string[], options: { prefix?: readonly string[] } = {}) {
    const argv = [...(options.prefix ?? []), Deno.execPath(), "run", "-A", "--quiet", script, ...args];
    this.#child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    this.#done = Promise.all([this.#pump(this.#child.stdout), this.#pump(this.#child.stderr)]);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.output += text;
      this.#waiters = this.#waiters.filter((w) => {
        const m = this.output.match(w.pattern);
        if (m) w.resolve(m);
        return !m;
      });
    }
  }

  /**
   * Resolves with the first match of `pattern` in the output; rejects after `timeoutMs`, or as
   * soon as the process ends without printing it.
   */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const m = this.output.match(pattern);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`no ${pattern}: ${why}; output so far:\n${this.output}`));
      const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
      this.#waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      this.#done.then(() => {
        const late = this.output.match(pattern);
        if (late) return;
        clearTimeout(timer);
        fail("the process ended");
      });
    });
  }

  /** The exit code once the process ends (and its output is drained); kills it after `timeoutMs`. */
  async exitCode(timeoutMs = 60_000): Promise<number> {
    const timer = setTimeout(() => this.kill(), timeoutMs);
    const status = await this.#child.status;
    clearTimeout(timer);
    await this.#done;
    return status.signal ? -1 : status.code;
  }

  /** Sends SIGINT, as Ctrl-C in a terminal does. */
  interrupt(): void {
    this.#child.kill("SIGINT");
  }

  /** Kills the process (SIGKILL: no chance to say goodbye, like a crash). */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
}

/** A plan file pruning `alpha` of every site's channels (degree 0): fewer ReLUs, faster runs. */
export async function prunedPlan(alpha: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    path,
    JSON.stringify({ model: "cnn7", sites: Array.from({ length: 7 }, () => ({ alpha, beta: 0 })) }),
  );
  return path;
}

/**
 * Starts a server on a free port with random weights; resolves once it listens. It serves one
 * session (--once) unless `once` is false.
 */
export async function startServer(
  args: string[] = [],
  { once = true } = {},
): Promise<{ server: DenoProcess; port: string }> {
  const server = new DenoProcess("tools/serve.ts", [
    "--model",
    "cnn7",
    "--weights",
    "random:1",
    "--port",
    "0",
    ...(once ? ["--once"] : []),
    ...args,
  ]);
  const [, port] = await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  return { server, port };
}

/** Runs `deno run -A <script> <args>` (script relative to tools/) to completion: exit code and all output. */
export async function runTool(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL(`../${script}`, import.meta.url).pathname, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}
