/**
 * `deno task serve` and `deno task client` as two OS processes over TCP on 127.0.0.1: a whole
 * session, and the server's side of the fault cases (client killed mid-offline, truncated
 * frame, frame of an unexpected kind, frame of an undefined type). Every failure must be a
 * clear message and a non-zero exit, never a hang. Client-side faults: client_test.ts.
 */
import assert from "node:assert/strict";
import { DenoProcess, prunedPlan, startServer } from "./testdata/process.ts";

const CLIENT = "tools/client.ts";
const FAKE = "tools/testdata/fake_peer.ts";

Deno.test("serve and client: one session between two processes; the client prints class, label, logits, breakdown", async () => {
  const plan = await prunedPlan(0.9);
  try {
    const { server, port } = await startServer(["--plan", plan]);
    const client = new DenoProcess(CLIENT, [
      "--image",
      "3",
      "--port",
      port,
      "--model",
      "cnn7",
      "--plan",
      plan,
    ]);
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
