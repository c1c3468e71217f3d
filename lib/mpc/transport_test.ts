import assert from "node:assert/strict";
import type { Channel } from "./channel.ts";
import { connect, handshake, listen, memoryChannelPair, TransportError } from "./transport.ts";

/** A toy two-message protocol written against the Channel interface only. */
async function toyClient(channel: Channel, layers: string[]): Promise<number> {
  let total = 0;
  for (const phase of ["offline", "online"] as const) {
    channel.setPhase(phase);
    for (const layer of layers) {
      await channel.send(`${layer}-query`, new Uint8Array(phase === "offline" ? 1000 : 10));
      total += (await channel.recv(`${layer}-answer`)).length;
    }
  }
  return total;
}

async function toyServer(
  channel: Channel & { section(label: string): void },
  layers: string[],
): Promise<void> {
  for (const phase of ["offline", "online"] as const) {
    channel.setPhase(phase);
    for (const layer of layers) {
      channel.section(layer);
      const query = await channel.recv(`${layer}-query`);
      await channel.send(`${layer}-answer`, new Uint8Array(query.length * 2));
    }
  }
}

Deno.test("transport: handshake, a layered protocol and its per-section accounting, in memory and over TCP", async () => {
  const layers = ["conv1", "relu1"];
  const listener = listen(0);
  const tcp = await Promise.all([connect("127.0.0.1", listener.port), listener.accept()]);
  listener.close();
  for (const [client, server] of [memoryChannelPair(), tcp]) {
    const settings = { model: "cnn7", fractionalBits: 15 };
    await Promise.all([handshake(client, "client", settings), handshake(server, "server", settings)]);
    const [received] = await Promise.all([toyClient(client, layers), toyServer(server, layers)]);
    assert.equal(received, 2 * (2000 + 20));
    const cells = server.stats().sections.map((s) => [s.section, s.phase, s.bytesReceived, s.bytesSent]);
    const frame = (kind: string, n: number) => 15 + kind.length + n;
    assert.deepEqual(cells.slice(1), [
      ["conv1", "offline", frame("conv1-query", 1000), frame("conv1-answer", 2000)],
      ["relu1", "offline", frame("relu1-query", 1000), frame("relu1-answer", 2000)],
      ["relu1", "online", frame("relu1-query", 10), frame("relu1-answer", 20)],
      ["conv1", "online", frame("conv1-query", 10), frame("conv1-answer", 20)],
    ]);
    // Each side waits for the other once per layer: a receive after its own send.
    assert.equal(client.stats().phases.online.roundTrips, 2);
    assert.equal(server.stats().phases.online.roundTrips, 2);
    await client.close();
    await server.close();
    await assert.rejects(client.recv("x"), TransportError);
  }
});
