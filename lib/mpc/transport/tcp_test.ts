import assert from "node:assert/strict";
import { isTransportError, pattern } from "./testdata/assertions.ts";
import { encodeFrameHeader, encodeKind, FrameType, writeAll } from "./frame.ts";
import { connect, listen } from "./tcp.ts";
import { makeTestCertificates } from "./testdata/tls.ts";

// Every socket in these tests is on 127.0.0.1.
const HOST = "127.0.0.1";
const PEER_SCRIPT = new URL("./testdata/peer.ts", import.meta.url).pathname;
const frameBytes = (kind: string, n: number) => 15 + new TextEncoder().encode(kind).length + n;

/** A server channel whose client is a raw socket the test writes bytes to. */
async function serverWithRawClient(options = {}) {
  const listener = listen(0, HOST, { timeoutMs: 5_000, ...options });
  const [raw, server] = await Promise.all([
    Deno.connect({ hostname: HOST, port: listener.port }),
    listener.accept(),
  ]);
  listener.close();
  return { raw, server };
}

/** Starts testdata/peer.ts in its own process. */
function spawnPeer(port: number, ...args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", PEER_SCRIPT, String(port), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads the child's stdout up to a line equal to `line`. */
async function waitForLine(child: Deno.ChildProcess, line: string): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of child.stdout) {
    text += decoder.decode(chunk, { stream: true });
    if (text.split("\n").includes(line)) return;
  }
  throw new Error(`peer process exited before printing "${line}"`);
}

Deno.test("TCP: payloads of 0 bytes to 8 MB both ways at once, counted exactly on both sides", async () => {
  const listener = listen(0, HOST);
  const [client, server] = await Promise.all([connect(HOST, listener.port), listener.accept()]);
  listener.close();
  assert.equal(client.name, "client");
  assert.equal(server.peer.startsWith("client 127.0.0.1:"), true);
  const sizes = [0, 1, 1000, 65536, 65537, 1 << 20, 8_000_000];
  const expected = sizes.reduce((sum, n, i) => sum + frameBytes(`up${i}`, n), 0);
  // Both directions concurrently: big writes must not deadlock when both sides send.
  await Promise.all([
    (async () => {
      for (const [i, n] of sizes.entries()) await client.send(`up${i}`, pattern(n, i));
    })(),
    (async () => {
      for (const [i, n] of sizes.entries()) await server.send(`down${i}`, pattern(n, i + 50));
    })(),
    (async () => {
      for (const [i, n] of sizes.entries()) assert.deepEqual(await server.recv(`up${i}`), pattern(n, i));
    })(),
    (async () => {
      for (const [i, n] of sizes.entries()) {
        assert.deepEqual(await client.recv(`down${i}`), pattern(n, i + 50));
      }
    })(),
  ]);
  assert.equal(client.stats().total.bytesSent, expected);
  assert.equal(server.stats().total.bytesReceived, expected);
  assert.equal(server.stats().total.messagesReceived, sizes.length);
  assert.equal(client.stats().total.bytesReceived, expected + sizes.length * 2); // "down" is 2 longer
  await client.close();
  await server.close();
});

Deno.test("TCP: truncated frame, bad magic, wrong version and oversized header from a raw client", async () => {
  const cases: [Uint8Array, string, string][] = [
    [
      encodeFrameHeader(FrameType.Message, encodeKind("enc-r"), 5000).subarray(0, 10),
      "truncated",
      "10 of 20",
    ],
    [
      new Uint8Array([...encodeFrameHeader(FrameType.Message, encodeKind("enc-r"), 5000), 1, 2, 3]),
      "truncated",
      "3 of 5000",
    ],
    [new TextEncoder().encode("SSH-2.0-OpenSSH\r\n"), "bad-magic", "SFN1"],
    [
      encodeFrameHeader(FrameType.Message, encodeKind("enc-r"), 0).map((b, i) => i === 4 ? 7 : b),
      "bad-version",
      "version 7",
    ],
    // 2^40 bytes announced: rejected from the header, nothing allocated.
    [encodeFrameHeader(FrameType.Message, encodeKind("enc-r"), 2 ** 40), "oversized", "1099511627776"],
  ];
  for (const [bytes, code, fragment] of cases) {
    const { raw, server } = await serverWithRawClient();
    await writeAll(raw, bytes);
    if (code === "truncated") raw.close();
    await assert.rejects(
      server.recv("enc-r"),
      isTransportError(code, fragment, `"enc-r"`, "client 127.0.0.1:"),
    );
    await server.close();
    if (code !== "truncated") raw.close();
  }
});

Deno.test("TCP: connect retries until the server listens, and fails clearly when none does", async () => {
  const probe = listen(0, HOST);
  const port = probe.port;
  probe.close(); // now nothing listens on `port`
  await assert.rejects(
    connect(HOST, port, { retries: 1, retryDelayMs: 10 }),
    isTransportError("connect", `127.0.0.1:${port} after 2 attempt(s)`, "deno task serve"),
  );
  // An invalid port is not retriable: one attempt, whatever `retries` allows.
  await assert.rejects(
    connect(HOST, 0, { retries: 3, retryDelayMs: 10 }),
    isTransportError("connect", "after 1 attempt(s)", "Invalid port"),
  );
  const connecting = connect(HOST, port, { retries: 40, retryDelayMs: 25 });
  await new Promise((resolve) => setTimeout(resolve, 60));
  const listener = listen(port, HOST);
  const [client, server] = await Promise.all([connecting, listener.accept()]);
  listener.close();
  await client.send("hi", new Uint8Array([1]));
  assert.deepEqual([...await server.recv("hi")], [1]);
  await client.close();
  await server.close();
});

Deno.test("TCP: accept gives up after its timeout; listen on a busy port says so", async () => {
  const listener = listen(0, HOST);
  await assert.rejects(
    listener.accept({ timeoutMs: 30 }),
    isTransportError("timeout", "no client connected"),
  );
  const busy = listen(0, HOST);
  assert.throws(() => listen(busy.port, HOST), isTransportError("connect", "in use", "--port"));
  busy.close();
});

Deno.test("TCP: a real peer process echoes messages and closes in order", async () => {
  const listener = listen(0, HOST, { timeoutMs: 20_000 });
  const child = spawnPeer(listener.port, "echo", "3");
  const server = await listener.accept({ timeoutMs: 20_000 });
  listener.close();
  for (const n of [0, 5, 3_000_000]) {
    await server.send("ping", pattern(n, n));
    assert.deepEqual(await server.recv("pong"), pattern(n, n));
  }
  await assert.rejects(server.recv("more"), isTransportError("peer-closed", "client 127.0.0.1:", `"more"`));
  await server.close();
  const status = await child.output();
  assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
});

Deno.test("TCP: a peer process killed while we wait fails the receive at once", async () => {
  const listener = listen(0, HOST, { timeoutMs: 20_000 });
  const child = spawnPeer(listener.port, "wait");
  const server = await listener.accept({ timeoutMs: 20_000 });
  listener.close();
  await server.recv("ready");
  const pending = server.recv("relu-shares");
  child.kill("SIGKILL");
  const start = performance.now();
  await assert.rejects(pending, isTransportError("disconnected", `"relu-shares"`, "client 127.0.0.1:"));
  assert.ok(performance.now() - start < 5_000);
  await server.close();
  await child.output();
});

Deno.test("TCP: a peer process killed mid-frame gives a truncated error, not a hang", async () => {
  const listener = listen(0, HOST, { timeoutMs: 20_000 });
  const child = spawnPeer(listener.port, "stall");
  const server = await listener.accept({ timeoutMs: 20_000 });
  listener.close();
  const pending = server.recv("tables");
  await waitForLine(child, "stalled");
  child.kill("SIGKILL");
  await assert.rejects(pending, isTransportError("truncated", "1000 of 1048576", `"tables"`));
  await server.close();
  await child.stderr.cancel();
  await child.status;
});

Deno.test("TCP: a send to a peer that stops reading times out", async () => {
  const listener = listen(0, HOST);
  const [client, server] = await Promise.all([connect(HOST, listener.port), listener.accept()]);
  listener.close();
  // Far more than loopback socket buffers hold, so the write blocks.
  await assert.rejects(
    client.send("gc-tables", new Uint8Array(64 << 20), { timeoutMs: 200 }),
    isTransportError("timeout", `sending "gc-tables"`, "not reading"),
  );
  await client.close();
  await server.close();
});

Deno.test("TCP: sending to a killed peer process fails as disconnected", async () => {
  const listener = listen(0, HOST, { timeoutMs: 20_000 });
  const child = spawnPeer(listener.port, "wait");
  const server = await listener.accept({ timeoutMs: 20_000 });
  listener.close();
  await server.recv("ready");
  child.kill("SIGKILL");
  await child.output();
  // The first write after the peer's death may still be accepted by the kernel; keep going.
  await assert.rejects(async () => {
    for (let i = 0; i < 100; i++) await server.send("shares", new Uint8Array(1 << 20));
  }, isTransportError("disconnected", `sending "shares"`, "client 127.0.0.1:"));
  await server.close();
});

Deno.test("TCP: a connection reset before accept is a connect error; the listener serves the next", async () => {
  const listener = listen(0, HOST);
  // Python's SO_LINGER 0 makes close() send a reset; Deno has no such switch.
  const reset = `import socket, struct
s = socket.create_connection(("${HOST}", ${listener.port}))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()`;
  const out = await new Deno.Command("python3", { args: ["-c", reset] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(
    listener.accept(),
    isTransportError("connect", "failed before it was accepted", "still listening"),
  );
  const [client, server] = await Promise.all([connect(HOST, listener.port), listener.accept()]);
  await client.send("hi", new Uint8Array([7]));
  assert.deepEqual([...await server.recv("hi")], [7]);
  listener.close();
  await assert.rejects(listener.accept(), isTransportError("closed", "stopped listening"));
  await client.close();
  await server.close();
});

Deno.test("TCP: a frame over its kind's limit is refused at its header, nothing allocated", async () => {
  const { raw, server } = await serverWithRawClient();
  server.limitPayloads({ default: 16 << 10 });
  await writeAll(raw, encodeFrameHeader(FrameType.Message, encodeKind("hello"), 1 << 30));
  await writeAll(raw, new Uint8Array(1 << 20));
  await assert.rejects(server.recv("hello"), isTransportError("oversized", "1073741824", "limit of 16384"));
  assert.equal(server.largestAllocation, 0);
  await server.close();
  raw.close();
});

Deno.test("TCP over TLS: a certificate made at test time; a client without its CA fails clearly", async () => {
  const certs = await makeTestCertificates();
  try {
    const tls = {
      cert: await Deno.readTextFile(certs.certFile),
      key: await Deno.readTextFile(certs.keyFile),
    };
    const listener = listen(0, HOST, { tls, idleTimeoutMs: 2_000 });
    assert.ok(listener.tls);
    const caCerts = [await Deno.readTextFile(certs.caFile)];
    const [client, server] = await Promise.all([
      connect(HOST, listener.port, { tls: { caCerts } }),
      listener.accept(),
    ]);
    await client.send("ping", pattern(200_000, 1));
    assert.deepEqual(await server.recv("ping"), pattern(200_000, 1));
    await server.send("pong", pattern(10, 2));
    assert.deepEqual(await client.recv("pong"), pattern(10, 2));
    await client.close();
    await server.close();

    // Trusting another CA (here: the server's own certificate is not a CA): the handshake fails.
    const accepting = listener.accept();
    await assert.rejects(
      connect(HOST, listener.port, { tls: { caCerts: [tls.cert] } }),
      isTransportError("connect", "TLS handshake failed", "--tls-ca"),
    );
    const refused = await accepting;
    await assert.rejects(refused.recv("hello"), isTransportError("disconnected"));
    await refused.close();
    listener.close();
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("TCP: a send to a peer that stops reading fails at the idle timeout", async () => {
  const listener = listen(0, HOST);
  const [client, server] = await Promise.all([
    connect(HOST, listener.port, { idleTimeoutMs: 200 }),
    listener.accept(),
  ]);
  listener.close();
  await assert.rejects(
    client.send("gc-tables", new Uint8Array(64 << 20)),
    isTransportError("timeout", "took no byte for 200 ms", "it is not reading", `sending "gc-tables"`),
  );
  await client.close();
  await server.close();
});
