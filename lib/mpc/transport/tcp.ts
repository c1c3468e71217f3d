/**
 * Channels over TCP between two processes: the server listens and accepts one peer per
 * session, the client connects (with retries, since the server may still be starting).
 * Optionally over TLS (Deno's own, rustls): the server presents a certificate, the client
 * checks it against a CA it is given (and the system's roots) and the host name it dialled.
 * Without TLS the channel is neither authenticated nor encrypted.
 *
 * @module
 */

import { type ChannelOptions, FramedChannel } from "./framed_channel.ts";
import { TransportError } from "./frame.ts";

/** Settings of `listen`: channel settings plus, for TLS, the server's certificate. */
export interface ListenOptions extends ChannelOptions {
  /** Serve TLS with this certificate chain and private key (PEM text); absent: plain TCP. */
  tls?: { cert: string; key: string };
}

/** Settings of `connect`: channel settings plus how to reach the server. */
export interface ConnectOptions extends ChannelOptions {
  /** Further attempts after a refused or timed-out one (default 0). */
  retries?: number;
  /** Pause between attempts in ms (default 250). */
  retryDelayMs?: number;
  /** Limit on one attempt in ms, TLS handshake included (default 10 s). */
  connectTimeoutMs?: number;
  /** Speak TLS, trusting these CA certificates (PEM text) besides the system's roots; absent: plain TCP. */
  tls?: { caCerts: string[] };
}

/** A listening socket that turns each accepted connection into a channel. */
export interface ChannelListener {
  /** The address listened on. */
  readonly host: string;
  /** The port listened on (the one the OS chose when 0 was asked for). */
  readonly port: number;
  /** Whether the listener speaks TLS. */
  readonly tls: boolean;
  /**
   * Waits for the next client. With `timeoutMs`, gives up after that long with a "timeout"
   * error and closes the listener (an abandoned accept cannot be cancelled otherwise). A
   * connection that fails before it is accepted (reset by its client) is a "connect" error
   * and the listener stays usable; once the listener is closed, accept fails as "closed".
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
export function listen(port: number, host = "127.0.0.1", options: ListenOptions = {}): ChannelListener {
  const { tls, ...channelOptions } = options;
  let listener: Deno.Listener<Deno.TcpConn | Deno.TlsConn, Deno.NetAddr>;
  try {
    listener = tls
      ? Deno.listenTls({ hostname: host, port, transport: "tcp", cert: tls.cert, key: tls.key })
      : Deno.listen({ hostname: host, port, transport: "tcp" });
  } catch (cause) {
    const detail = cause instanceof Deno.errors.AddrInUse
      ? "the port is in use: stop the other server or pick another --port"
      : tls
      ? `${cause}; check that --tls-cert and --tls-key are a PEM certificate and its private key`
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
  /** The next connection, with the listener's errors made TransportErrors. */
  const next = async () => {
    let conn: Deno.TcpConn | Deno.TlsConn | undefined;
    try {
      conn = await listener.accept();
      // Fails on a connection its client already reset. TLS connections have no Nagle switch.
      if ("setNoDelay" in conn) conn.setNoDelay(true);
      return { conn, remote: conn.remoteAddr };
    } catch (cause) {
      try {
        conn?.close();
      } catch {
        // Already closed by the reset.
      }
      if (closed) {
        throw new TransportError("closed", `server: stopped listening on ${where}`, { cause });
      }
      throw new TransportError(
        "connect",
        `server: a connection to ${where} failed before it was accepted: ${cause}; still listening`,
        { cause },
      );
    }
  };
  return {
    host: address.hostname,
    port: address.port,
    tls: tls !== undefined,
    async accept(acceptOptions = {}) {
      const pending = next();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const { conn, remote } = await (acceptOptions.timeoutMs === undefined ? pending : Promise.race([
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
      return new FramedChannel(conn, {
        name: "server",
        peer: `client ${formatHost(remote.hostname)}:${remote.port}`,
        ...channelOptions,
      });
    },
    close: closeListener,
  };
}

/** Thrown when the server's TLS certificate is not accepted (not retriable). */
class TlsHandshakeError extends Error {}

async function connectOnce(
  host: string,
  port: number,
  timeoutMs: number,
  tls: ConnectOptions["tls"],
): Promise<Deno.TcpConn | Deno.TlsConn> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let tcp: Deno.TcpConn | undefined;
  try {
    tcp = await Deno.connect({ hostname: host, port, transport: "tcp", signal: controller.signal });
    tcp.setNoDelay(true);
    if (!tls) return tcp;
    const conn = await Deno.startTls(tcp, { hostname: host, caCerts: tls.caCerts });
    tcp = undefined; // owned by `conn` now
    const handshake = conn.handshake();
    handshake.catch(() => {}); // rejects once `conn` closes after a timeout below
    const expired = new Promise<never>((_, reject) =>
      controller.signal.addEventListener("abort", () => reject(new Error("aborted")))
    );
    try {
      await Promise.race([handshake, expired]);
    } catch (error) {
      conn.close();
      if (controller.signal.aborted) throw error;
      throw new TlsHandshakeError(
        `the TLS handshake failed: ${(error as Error).message}; check that --tls-ca holds the ` +
          `certificate (or its CA) the server was started with, and that --host is a name or address in it`,
      );
    }
    return conn;
  } catch (error) {
    tcp?.close();
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
  const { retries = 0, retryDelayMs = 250, connectTimeoutMs = 10_000, tls, ...channelOptions } = options;
  const where = `${formatHost(host)}:${port}`;
  let lastError: unknown;
  // Attempts actually made: a non-retriable error stops the loop before `retries` runs out.
  let attempts = 0;
  while (attempts <= retries) {
    if (attempts > 0) await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    attempts++;
    try {
      const conn = await connectOnce(host, port, connectTimeoutMs, tls);
      return new FramedChannel(conn, { name: "client", peer: `server ${where}`, ...channelOptions });
    } catch (error) {
      lastError = error;
      const retriable = error instanceof Deno.errors.ConnectionRefused ||
        error instanceof Deno.errors.TimedOut;
      if (!retriable) break;
    }
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  const hint = lastError instanceof TlsHandshakeError
    ? ""
    : "; start the server first (deno task serve) and check --host and --port";
  throw new TransportError(
    "connect",
    `client: cannot connect to the server at ${where} after ${attempts} attempt(s): ${detail}${hint}`,
    { cause: lastError },
  );
}
