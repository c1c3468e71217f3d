import assert from "node:assert/strict";
import { memoryChannelPair, memoryStreamPair } from "./memory.ts";

Deno.test("memory streams deliver bytes in order across reads of any size", async () => {
  const [a, b] = memoryStreamPair();
  await a.write(new Uint8Array([1, 2, 3]));
  await a.write(new Uint8Array([4, 5]));
  const small = new Uint8Array(2);
  assert.equal(await b.read(small), 2);
  assert.deepEqual([...small], [1, 2]);
  const big = new Uint8Array(10);
  assert.equal(await b.read(big), 3);
  assert.deepEqual([...big.subarray(0, 3)], [3, 4, 5]);
  a.close();
  b.close();
});

Deno.test("memory streams copy on write, like a socket", async () => {
  const [a, b] = memoryStreamPair();
  const data = new Uint8Array([7, 7]);
  await a.write(data);
  data.fill(0);
  const into = new Uint8Array(2);
  await b.read(into);
  assert.deepEqual([...into], [7, 7]);
  a.close();
  b.close();
});

Deno.test("closing one end: the other reads what was written, then end of stream", async () => {
  const [a, b] = memoryStreamPair();
  const pending = b.read(new Uint8Array(4));
  await a.write(new Uint8Array([9]));
  assert.equal(await pending, 1);
  await a.write(new Uint8Array([8]));
  a.close();
  assert.equal(await b.read(new Uint8Array(4)), 1);
  assert.equal(await b.read(new Uint8Array(4)), null);
  await assert.rejects(b.write(new Uint8Array([1])), Deno.errors.BrokenPipe);
  await assert.rejects(a.write(new Uint8Array([1])), Deno.errors.BadResource);
  b.close();
});

Deno.test("a local close rejects the local pending read", async () => {
  const [a, b] = memoryStreamPair();
  const pending = a.read(new Uint8Array(4));
  a.close();
  await assert.rejects(pending, Deno.errors.Interrupted);
  assert.throws(() => a.close(), Deno.errors.BadResource);
  b.close();
});

Deno.test("memoryChannelPair names the ends client and server unless told otherwise", async () => {
  const [client, server] = memoryChannelPair({ server: { name: "garbler" } });
  assert.equal(client.name, "client");
  assert.equal(server.name, "garbler");
  assert.match(client.peer, /server/);
  await client.send("ping", new Uint8Array([1]));
  assert.deepEqual([...await server.recv("ping")], [1]);
  await client.close();
  await server.close();
});
