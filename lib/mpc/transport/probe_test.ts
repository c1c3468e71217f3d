import assert from "node:assert/strict";
import { memoryChannelPair } from "./memory.ts";
import { probeLinkClient, probeLinkServer } from "./probe.ts";

Deno.test("link probe: round trip includes the emulated delay; both transfers timed, traffic as announced", async () => {
  // In memory the bytes move at copying speed: the bulk must take well over a round trip, as
  // bench:protocol sizes it for real links (about 4 s at the nominal rate).
  const oneWay = 2;
  const [client, server] = memoryChannelPair({
    client: { receiveDelayMs: oneWay },
    server: { receiveDelayMs: oneWay },
  });
  const options = { bulkBytes: 48 * 1024 * 1024 + 1, frameBytes: 1024 * 1024, pings: 5 };
  const [m] = await Promise.all([probeLinkServer(server, options), probeLinkClient(client, options)]);
  assert.ok(m.rtt_s >= 2 * oneWay / 1000 && m.rtt_s < 2 * oneWay / 1000 + 0.5, `rtt ${m.rtt_s}`);
  assert.equal(m.bulk_bytes, 49 * 1024 * 1024, "rounded up to whole frames");
  assert.ok(m.to_client_bytes_s > 0 && Number.isFinite(m.to_client_bytes_s));
  assert.ok(m.to_server_bytes_s > 0 && Number.isFinite(m.to_server_bytes_s));
  // Pings and pongs, 49 frames each way, the ack and the go.
  const sent = server.stats().total;
  assert.equal(sent.messagesSent, 5 + 49 + 1);
  assert.equal(sent.messagesReceived, 5 + 1 + 49);
  await client.close();
  await server.close();
});

Deno.test("link probe: options that send nothing are an error", async () => {
  const [client, server] = memoryChannelPair();
  await assert.rejects(probeLinkServer(server, { bulkBytes: 0 }), /must be positive/);
  await assert.rejects(probeLinkClient(client, { bulkBytes: 10, frameBytes: 0 }), /must be positive/);
  await client.close();
  await server.close();
});
