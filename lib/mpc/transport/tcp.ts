/**
 * Channels over TCP between two processes: the server listens and accepts one peer per
 * session, the client connects (with retries, since the server may still be starting).
 *
 * @module
 */

import { type ChannelOptions, FramedChannel } from "./framed_channel.ts";
import { TransportError } from "./frame.ts";

/** Settings of `connect`: channel settings plus how to reach the server. */
export interface ConnectOptions extends ChannelOptions {
  /** Further attempts after a refused or timed-out one (default 0). */
  retries?: number;
  /** Pause between attempts in ms (default 250). */
  retryDelayMs?: number;
  /** Limit on one attempt in ms (default 10 s). */
  connectTimeoutMs?: number;
}

/** A listening socket that turns each accepted connection into a channel. */
export interface ChannelListener {
  /** The address listened on. */
  readonly host: string;
  /** The port listened on (the one the OS chose when 0 was asked for). */
  readonly port: number;
  /**
   * Waits for the next client. With `timeoutMs`, gives up after that long with a "timeout"
   * error and closes the listener (an abandoned accept cannot be cancelled otherwise).
   */
  accept(options?: { timeoutMs?: number }): Promise<FramedChannel>;
  /** Stops listening; open channels are unaffected. */
  close(): void;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Listens on `host:port` (port 0: any free port, see `.port`). Channels it accepts are named
 * "server" with the client's address as peer unless `options` say otherwise.
 */
export function listen(port: number, host = "127.0.0.1", options: ChannelOptions = {}): ChannelListener {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: host, port, transport: "tcp" });
  } catch (cause) {
    const detail = cause instanceof Deno.errors.AddrInUse
      ? "the port is in use: stop the other server or pick another --port"
      : String(cause);
    throw new TransportError("connect", `server: cannot listen on ${formatHost(host)}:${port}: ${detail}`, {
      cause,
    });
  }
  const address = listener.addr;
  const where = `${formatHost(address.hostname)}:${address.port}`;
  let closed = false;
  const closeListener = () => {
    if (closed) return;
    closed = true;
    listener.close();
  };
  return {
    host: address.hostname,
    port: address.port,
    async accept(acceptOptions = {}) {
      const pending = listener.accept();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const conn = await (acceptOptions.timeoutMs === undefined ? pending : Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            pending.catch(() => {}); // rejects once the listener closes below
            closeListener();
            reject(
              new TransportError(
                "timeout",
                `server: no client connected to ${where} within ${acceptOptions.timeoutMs} ms; ` +
                  `start the client, or check that it uses this host and port`,
              ),
            );
          }, acceptOptions.timeoutMs);
        }),
      ])).finally(() => clearTimeout(timer));
      conn.setNoDelay(true);
      const remote = conn.remoteAddr;
      return new FramedChannel(conn, {
        name: "server",
        peer: `client ${formatHost(remote.hostname)}:${remote.port}`,
        ...options,
      });
    },
    close: closeListener,
  };
}

async function connectOnce(host: string, port: number, timeoutMs: number): Promise<Deno.TcpConn> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await Deno.connect({ hostname: host, port, transport: "tcp", signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) throw new Deno.errors.TimedOut(`no answer within ${timeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects to a server at `host:port`, retrying refused or timed-out attempts `retries`
 * times. The channel is named "client" with the server's address as peer unless `options`
 * say otherwise.
 */
export async function connect(
  host: string,
  port: number,
  options: ConnectOptions = {},
): Promise<FramedChannel> {
  const { retries = 0, retryDelayMs = 250, connectTimeoutMs = 10_000, ...channelOptions } = options;
  const where = `${formatHost(host)}:${port}`;
  let lastError: unknown;
  // Attempts actually made: a non-retriable error stops the loop before `retries` runs out.
  let attempts = 0;
  while (attempts <= retries) {
    if (attempts > 0) await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    attempts++;
    try {
      const conn = await connectOnce(host, port, connectTimeoutMs);
      conn.setNoDelay(true);
      return new FramedChannel(conn, { name: "client", peer: `server ${where}`, ...channelOptions });
    } catch (error) {
      lastError = error;
      const retriable = error instanceof Deno.errors.ConnectionRefused ||
        error instanceof Deno.errors.TimedOut;
      if (!retriable) break;
    }
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  throw new TransportError(
    "connect",
    `client: cannot connect to the server at ${where} after ${attempts} attempt(s): ${detail}; ` +
      `start the server first (deno task serve) and check --host and --port`,
    { cause: lastError },
  );
}
