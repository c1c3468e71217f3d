/**
 * `deno task serve` and `deno task client` as two OS processes over TCP on 127.0.0.1: a whole
 * session, and the server's side of the fault cases (client killed mid-offline, truncated
 * frame, frame of an unexpected kind, frame of an undefined type). Every failure must be a
 * clear message and a non-zero exit, never a hang. Then the fuzzer's cases against a server
 * that serves clients one after another: none may hold it past its timeouts, grow it, or end
 * it. Client-side faults: client_test.ts.
 */
import assert from "node:assert/strict";
import { DenoProcess, prunedPlan, startServer } from "./testdata/process.ts";

const CLIENT = "tools/client.ts";
const FAKE = "tools/testdata/fake_peer.ts";

/** A client classifying test image 3 that pins the server's model (CNN-7) and plan. */
function pinnedClient(port: string, plan: string): DenoProcess {
  return new DenoProcess(CLIENT, ["--image", "3", "--port", port, "--model", "cnn7", "--plan", plan]);
}

Deno.test("serve and client: one session between two processes; the client prints class, label, logits, breakdown", async () => {
  const plan = await prunedPlan(0.9);
  try {
    const { server, port } = await startServer(["--plan", plan]);
    const client = pinnedClient(port, plan);
    assert.equal(await client.exitCode(), 0, client.output);
    assert.equal(await server.exitCode(), 0, server.output);
    assert.match(client.output, /CIFAR-10 test image 3: predicted \w+ \(\d\), true label airplane \(0\)/);
    assert.match(client.output, /logits( -?\d+\.\d{4}){10}\n/);
    for (const [p, side] of [[client, "client"], [server, "server"]] as const) {
      assert.match(p.output, new RegExp(`${side}: .* sent, .* received`));
      assert.match(p.output, /act1 +\|.*\|/);
      assert.match(p.output, /\ntotal +\|/);
    }
    assert.match(server.output, /18\d\d\d ReLUs, 15\d\d\d\d polynomial neurons/);
    assert.ok(!/logits/.test(server.output), "the server never sees the logits");
  } finally {
    await Deno.remove(plan);
  }
});

Deno.test("a client killed mid-offline: the server fails clearly and exits 1", async () => {
  const { server, port } = await startServer();
  const client = new DenoProcess(CLIENT, ["--image", "0", "--port", port]);
  await client.waitFor(/client: offline phase/);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  client.kill();
  assert.equal(await server.exitCode(30_000), 1, server.output);
  assert.match(server.output, /server: .*(closed the connection|lost the connection).*offline phase/);
});

Deno.test("a truncated frame from the client: the server names it and exits 1", async () => {
  const { server, port } = await startServer();
  const fake = new DenoProcess(FAKE, ["truncated-client", port]);
  assert.equal(await fake.exitCode(), 0, fake.output);
  assert.equal(await server.exitCode(30_000), 1, server.output);
  assert.match(
    server.output,
    /server: stream ended inside the payload of frame "hello" \(10 of 1000 bytes\)/,
  );
});

Deno.test("a frame of the wrong kind: the server names both kinds, tells the client, exits 1", async () => {
  const { server, port } = await startServer();
  const fake = new DenoProcess(FAKE, ["wrong-kind-client", port]);
  assert.equal(await fake.exitCode(), 0, fake.output);
  assert.equal(await server.exitCode(30_000), 1, server.output);
  assert.match(server.output, /expected message "hello" from client .* but received "gc.tables"/);
  assert.match(fake.output, /fake client: server .* aborted the session: expected message "hello"/);
});

Deno.test("a frame of an undefined type: the server rejects it and exits 1", async () => {
  const { server, port } = await startServer();
  const fake = new DenoProcess(FAKE, ["bad-type-client", port]);
  assert.equal(await server.exitCode(30_000), 1, server.output);
  await fake.exitCode();
  assert.match(
    server.output,
    /server: unknown frame type 7 \(expected 0, 1 or 2\) \(while receiving "hello"/,
  );
});

/** Occurrences of `pattern` (global) in `text`. */
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

/** Starts fake_peer.ts in `mode` against `port`; resolves once it exits 0. */
async function fakePeer(mode: string, port: string, ...args: string[]): Promise<DenoProcess> {
  const fake = new DenoProcess(FAKE, [mode, port, ...args]);
  assert.equal(await fake.exitCode(30_000), 0, fake.output);
  return fake;
}

/** Resets a connection to `port` from Python (SO_LINGER 0), so it is dead by the time it is accepted. */
async function resetConnection(port: string): Promise<void> {
  const script = `import socket, struct
s = socket.create_connection(("127.0.0.1", ${port}))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()`;
  const out = await new Deno.Command("python3", { args: ["-c", script] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test("serve: no bad peer holds, floods or ends the server; it serves the next client, and Ctrl-C stops it", async () => {
  const plan = await prunedPlan(0.9);
  const { server, port } = await startServer(
    // Long enough for a real client's setup (its key generation) on a loaded machine.
    ["--plan", plan, "--idle-timeout", "5", "--handshake-timeout", "15"],
    { once: false },
  );
  const idle = /no byte from client [^\n]* for 5000 ms \(idleTimeoutMs\) \(while receiving "hello"/g;
  try {
    // A silent peer, and a frame left truncated on an open connection: the idle timeout.
    for (const [mode, n] of [["silent-client", 1], ["open-truncated-client", 2]] as const) {
      const start = performance.now();
      await fakePeer(mode, port);
      assert.ok(performance.now() - start < 9000, `${mode} held the server ${performance.now() - start} ms`);
      // The n-th idle timeout in the log, and no more.
      await server.waitFor(new RegExp(`(?:${idle.source}[\\s\\S]*){${n}}`));
      assert.equal(count(server.output, idle), n, server.output);
    }

    // A peer trickling a byte every 300 ms: the setup deadline. Meanwhile a connection is
    // reset while it waits to be accepted.
    const start = performance.now();
    const trickle = fakePeer("trickle-client", port);
    await resetConnection(port);
    await trickle;
    const held = performance.now() - start;
    assert.ok(held > 14_500 && held < 20_000, `the trickle held the server ${held} ms`);
    await server.waitFor(
      /session setup \(TLS, offer, handshake, key exchange\) did not finish within 15000 ms/,
    );
    await server.waitFor(
      /server: a connection to [^\n]* failed before it was accepted: [^\n]*; still listening/,
    );

    // A hello announcing 1 GiB and one streaming 3 MB: refused at the header, one short line each.
    await fakePeer("flood-client", port, String(1 << 30));
    await fakePeer("flood-client", port, "3000000");
    await server.waitFor(/frame "hello" announces 1073741824 payload bytes, over the limit of 16384/);
    const [line] = await server.waitFor(/.*frame "hello" announces 3000000 payload bytes.*/);
    assert.ok(line.length < 600, `${line.length} characters`);

    // Garbage, and an abort reason full of escape codes: logged escaped and capped.
    await fakePeer("garbage-client", port);
    await server.waitFor(/received bytes \[47 45 54 20\] where a frame must start with "SFN1"/);
    await fakePeer("abort-client", port);
    const [abort] = await server.waitFor(
      /.*aborted the session: \\x1b\[2J\\x1b\[Hserver: done; the server learned nothing\\x0axxx.*/,
    );
    assert.ok(abort.length < 1300, `${abort.length} characters`);
    assert.ok(!server.output.includes("\x1b"), "no raw escape code reaches the server's terminal");

    // A server-private failure: the client is told a generic reason, the log keeps the detail.
    const badOt = await fakePeer("bad-ot-client", port);
    assert.match(
      badOt.output,
      /aborted the session: the server failed \(the reason is in the server's log\)/,
    );
    await server.waitFor(/server: base OT: /);

    // Each session commits to the weights under a fresh salt.
    const offers = [await fakePeer("offer-client", port), await fakePeer("offer-client", port)]
      .map((p) => p.output.match(/weights ([0-9a-f]{64}) salt ([0-9a-f]{32})/)!.slice(1));
    assert.notEqual(offers[0][0], offers[1][0]);
    assert.notEqual(offers[0][1], offers[1][1]);

    // Still serving: a real client gets its answer.
    const client = pinnedClient(port, plan);
    assert.equal(await client.exitCode(), 0, client.output);
    assert.match(client.output, /client: no TLS: the channel is unauthenticated and unencrypted/);
    await server.waitFor(/server: done in/);

    server.interrupt();
    assert.equal(await server.exitCode(30_000), 0, server.output);
    assert.match(server.output, /server: stopping \(Ctrl-C\)\nserver: stopped\n/);
    assert.match(server.output, /server: no TLS: the channel is unauthenticated and unencrypted/);
    assert.ok(!/\n\s+at /.test(server.output), `no stack trace:\n${server.output}`);
  } finally {
    server.kill();
    await Deno.remove(plan);
  }
});

Deno.test("serve: --model defaults to the one the weights' training.json names; Ctrl-C while waiting exits 0", async () => {
  const server = new DenoProcess("tools/serve.ts", ["--weights", "data/pretrained/cnn7", "--port", "0"]);
  await server.waitFor(/listening on 127\.0\.0\.1:\d+/);
  assert.match(server.output, /server: model cnn7, weights data\/pretrained\/cnn7/);
  assert.match(server.output, /server: weights fingerprint [0-9a-f]{64} \(for this run only/);
  server.interrupt();
  assert.equal(await server.exitCode(30_000), 0, server.output);
  assert.match(server.output, /server: stopped/);
  const random = new DenoProcess("tools/serve.ts", ["--weights", "random:1", "--port", "0"]);
  assert.equal(await random.exitCode(30_000), 1, random.output);
  assert.match(random.output, /random:1 names no model \(random weights\): pass --model/);
});
