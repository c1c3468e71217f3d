import assert from "node:assert/strict";
import { TransportError } from "./frame.ts";
import { handshake, HELLO_KIND, PROTOCOL_VERSION } from "./handshake.ts";
import { memoryChannelPair } from "./memory.ts";

const session = { model: "resnet32", planHash: "9f2c", fractionalBits: 15, insecureDealer: false };

function isHandshakeError(...fragments: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof TransportError, `expected a TransportError, got ${error}`);
    assert.equal(error.code, "handshake", error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return true;
  };
}

Deno.test("handshake: matching sessions return the peer's hello on both sides", async () => {
  const [client, server] = memoryChannelPair();
  const [fromServer, fromClient] = await Promise.all([
    handshake(client, "client", session),
    handshake(server, "server", { ...session }),
  ]);
  assert.deepEqual(fromServer, { role: "server", protocolVersion: PROTOCOL_VERSION, session });
  assert.equal(fromClient.role, "client");
  await client.close();
  await server.close();
});

Deno.test("handshake: a session mismatch fails on both sides, listing every difference", async () => {
  const [client, server] = memoryChannelPair();
  const results = await Promise.allSettled([
    handshake(client, "client", session),
    handshake(server, "server", { ...session, planHash: "77aa", fractionalBits: 8, extra: "x" }),
  ]);
  assert.ok(results.every((r) => r.status === "rejected"));
  const [clientError, serverError] = results.map((r) => (r as PromiseRejectedResult).reason);
  isHandshakeError(
    "client: handshake with server failed",
    `planHash: client has "9f2c", server has "77aa"`,
    "fractionalBits: client has 15, server has 8",
    `extra: client has nothing, server has "x"`,
  )(clientError);
  isHandshakeError("server: handshake with client failed", `planHash: server has "77aa", client has "9f2c"`)(
    serverError,
  );
  assert.ok(!clientError.message.includes("model:"), "equal keys are not listed");
  await client.close();
  await server.close();
});

Deno.test("handshake: two clients, or different protocol versions, fail clearly", async () => {
  const [a, b] = memoryChannelPair();
  await assert.rejects(
    Promise.all([handshake(a, "client", session), handshake(b, "client", session)]),
    isHandshakeError("both sides are clients"),
  );
  await a.close();
  await b.close();

  const [client, server] = memoryChannelPair();
  const results = await Promise.allSettled([
    handshake(client, "client", session),
    handshake(server, "server", session, { protocolVersion: PROTOCOL_VERSION + 1 }),
  ]);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    isHandshakeError(`protocol version`, `${PROTOCOL_VERSION + 1}`)(result.reason);
  }
  await client.close();
  await server.close();
});

Deno.test("handshake: a hello that is not one is rejected", async () => {
  const [client, server] = memoryChannelPair();
  await server.send(HELLO_KIND, new TextEncoder().encode(`{"role":"server"}`));
  await assert.rejects(handshake(client, "client", session), isHandshakeError("not a valid hello"));
  await client.close();
  await server.close();
});

Deno.test("handshake: a hostile hello's keys and values are printed escaped, short, and at most 12 of them", async () => {
  const [client, server] = memoryChannelPair();
  const hostile: Record<string, string> = { model: "\x1b[2J\x1b[Hcnn7" + "x".repeat(5000) };
  for (let i = 0; i < 30; i++) hostile[`zkey\u202e${i}`] = "v";
  await server.send(
    HELLO_KIND,
    new TextEncoder().encode(
      JSON.stringify({ role: "server", protocolVersion: PROTOCOL_VERSION, session: hostile }),
    ),
  );
  const error = await handshake(client, "client", session).then(() => undefined, (e) => e as Error);
  assert.ok(error);
  isHandshakeError(
    "the sessions differ",
    'server has "\\u001b[2J\\u001b[Hcnn7xxx',
    "more characters",
    "and 22 more",
  )(error);
  assert.ok(!/[\p{Cc}\u202e]/u.test(error.message), "no raw control character survives");
  assert.ok(error.message.length < 3000, `${error.message.length} characters`);
  await client.close();
  await server.close();
});
