import assert from "node:assert/strict";
import { DelayedStream } from "./delay.ts";
import { memoryChannelPair, memoryStreamPair } from "./memory.ts";

/** Four ping-pongs (one of 3 MB) between two channels; returns the client's time and counts. */
async function pingPong(receiveDelayMs: number) {
  const [client, server] = memoryChannelPair({ client: { receiveDelayMs }, server: { receiveDelayMs } });
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
  const echo = (async () => {
    for (let i = 0; i < 4; i++) await server.send("pong", await server.recv("ping"));
  })();
  const started = performance.now();
  for (let i = 0; i < 4; i++) {
    const payload = i === 2 ? big : new Uint8Array([i]);
    await client.send("ping", payload);
    assert.deepEqual(await client.recv("pong"), payload);
  }
  const ms = performance.now() - started;
  await echo;
  const { timeMs: _, ...counts } = client.stats().total;
  await client.close();
  await server.close();
  return { ms, counts };
}

Deno.test("emulated delay: every round trip takes the two one-way delays; bytes and counts unchanged", async () => {
  const oneWay = 40;
  const delayed = await pingPong(oneWay);
  assert.ok(delayed.ms >= 4 * 2 * oneWay, `${delayed.ms} ms for 4 round trips of ${2 * oneWay} ms`);
  // The delay applies once per message, not once per chunk of the 3 MB one.
  assert.ok(delayed.ms < 4 * 2 * oneWay + 1500, `${delayed.ms} ms`);
  assert.deepEqual(delayed.counts, (await pingPong(0)).counts);
});

Deno.test("emulated delay: reads wait for the delay, split chunks keep order, end of stream and close pass", async () => {
  const [a, b] = memoryStreamPair();
  const delayed = new DelayedStream(b, 30);
  await a.write(new Uint8Array([1, 2, 3, 4, 5]));
  const t0 = performance.now();
  const into = new Uint8Array(2);
  assert.equal(await delayed.read(into), 2);
  assert.ok(performance.now() - t0 >= 25);
  assert.deepEqual([...into], [1, 2]);
  assert.equal(await delayed.read(into), 2);
  assert.deepEqual([...into], [3, 4]);
  assert.equal(await delayed.read(into), 1);
  assert.equal(into[0], 5);
  a.close();
  assert.equal(await delayed.read(into), null);
  delayed.close();
  assert.throws(() => new DelayedStream(b, -1), /delayMs must be a number >= 0/);
});
