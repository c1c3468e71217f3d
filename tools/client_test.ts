/**
 * `deno task client`: its command line and image files, and the client's side of the fault
 * cases as OS processes over TCP (mismatched model, plan or weights; server killed mid-online;
 * truncated frame from the server). Server-side faults and a whole session: serve_test.ts.
 */
import assert from "node:assert/strict";
import { CIFAR10_STATS } from "../lib/data/augment.ts";
import { IMAGE_BYTES, loadCifar } from "../lib/data/mod.ts";
import { loadImage, main } from "./client.ts";
import { DenoProcess, prunedPlan, startServer } from "./testdata/process.ts";
import { makeTestCertificates } from "../lib/mpc/transport/testdata/tls.ts";

const CLIENT = "tools/client.ts";

Deno.test("client: a bad command line exits 2 before connecting", async () => {
  assert.equal(await main(["--image", "3", "--model", "alexnet"]), 2);
  assert.equal(await main(["--port", "7441"]), 2);
  assert.equal(await main(["--help"]), 0);
});

Deno.test("client: image files are CIFAR-10 records or raw RGB; anything else is a clear error", async () => {
  const test = await loadCifar({ dataset: "cifar10", split: "test" });
  const pixels = test.images.slice(5 * IMAGE_BYTES, 6 * IMAGE_BYTES);
  const dir = await Deno.makeTempDir();
  try {
    const record = new Uint8Array(IMAGE_BYTES + 1);
    record[0] = test.labels[5];
    for (let i = 0; i < IMAGE_BYTES / 3; i++) {
      for (let c = 0; c < 3; c++) record[1 + c * 1024 + i] = pixels[3 * i + c];
    }
    await Deno.writeFile(`${dir}/record.bin`, record);
    await Deno.writeFile(`${dir}/raw.rgb`, pixels);
    await Deno.writeFile(`${dir}/odd.png`, new Uint8Array(100));
    const fromRecord = await loadImage({ kind: "path", path: `${dir}/record.bin` });
    assert.deepEqual(fromRecord.pixels, pixels);
    assert.equal(fromRecord.label, test.labels[5]);
    const byIndex = await loadImage({ kind: "test-index", index: 5 });
    assert.deepEqual(byIndex.pixels, pixels);
    assert.deepEqual((await loadImage({ kind: "path", path: `${dir}/raw.rgb` })).pixels, pixels);
    await assert.rejects(
      loadImage({ kind: "path", path: `${dir}/odd.png` }),
      /has 100 bytes: expected a CIFAR-10 record/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.ok(CIFAR10_STATS.mean.length === 3);
});

Deno.test("client: a model, plan or weights mismatch fails the handshake on both sides, exit 1", async () => {
  const plan = await prunedPlan(0.5);
  try {
    for (
      const [pins, difference] of [
        [["--model", "vgg16"], /model: client has "vgg16", server has "cnn7"/],
        [["--plan", plan], /plan: client has "[0-9a-f]{64}", server has "[0-9a-f]{64}"/],
        [
          ["--expect-weights", "f".repeat(64)],
          /weights: client has "[0-9a-f]{64}", server has "[0-9a-f]{64}"/,
        ],
      ] as const
    ) {
      const { server, port } = await startServer();
      const client = new DenoProcess(CLIENT, ["--image", "0", "--port", port, ...pins]);
      assert.equal(await client.exitCode(30_000), 1, client.output);
      assert.equal(await server.exitCode(30_000), 1, server.output);
      assert.match(client.output, /client: handshake with server failed: the sessions differ/);
      assert.match(server.output, /server: handshake with client failed: the sessions differ/);
      assert.match(client.output, difference);
    }
  } finally {
    await Deno.remove(plan);
  }
});

Deno.test("client: a server killed mid-online fails the client clearly, exit 1", async () => {
  const plan = await prunedPlan(0.5);
  try {
    const { server, port } = await startServer(["--plan", plan]);
    const client = new DenoProcess(CLIENT, ["--image", "0", "--port", port]);
    await client.waitFor(/client: online phase/, 120_000);
    server.kill();
    assert.equal(await client.exitCode(30_000), 1, client.output);
    assert.match(client.output, /client: .*(closed the connection|lost the connection).*online phase/);
    await server.exitCode();
  } finally {
    await Deno.remove(plan);
  }
});

Deno.test("client: a truncated frame from the server is named, exit 1", async () => {
  const fake = new DenoProcess("tools/testdata/fake_peer.ts", ["truncated-server"]);
  const [, port] = await fake.waitFor(/fake server: listening on (\d+)/);
  const client = new DenoProcess(CLIENT, ["--image", "0", "--port", port]);
  assert.equal(await client.exitCode(30_000), 1, client.output);
  assert.match(
    client.output,
    /client: stream ended inside the payload of frame "session.offer" \(10 of 1000 bytes\)/,
  );
  await fake.exitCode();
});

Deno.test("client: a server's abort reason is printed with escape codes escaped, and capped", async () => {
  const fake = new DenoProcess("tools/testdata/fake_peer.ts", ["abort-server"]);
  const [, port] = await fake.waitFor(/fake server: listening on (\d+)/);
  const client = new DenoProcess(CLIENT, ["--image", "0", "--port", port]);
  assert.equal(await client.exitCode(30_000), 1, client.output);
  const [line] = client.output.match(/.*aborted the session: .*/)!;
  assert.ok(line.includes("\\x1b[2J\\x1b[Hserver: done; the server learned nothing\\x0axxx"), line);
  assert.ok(!client.output.includes("\x1b"), "no raw escape code reaches the client's terminal");
  assert.ok(line.length < 1300, `${line.length} characters`);
  await fake.exitCode();
});

Deno.test("serve and client over TLS with a certificate made at test time; a client trusting another CA fails clearly", async () => {
  const certs = await makeTestCertificates();
  const plan = await prunedPlan(0.9);
  try {
    const { server, port } = await startServer(
      ["--plan", plan, "--tls-cert", certs.certFile, "--tls-key", certs.keyFile],
      { once: false },
    );
    assert.match(server.output, /listening on 127\.0\.0\.1:\d+ \(TLS\)/);
    assert.ok(!server.output.includes("no TLS"));
    // The server's own certificate is not a CA: the client cannot verify the server with it.
    const wrong = new DenoProcess(CLIENT, ["--image", "0", "--port", port, "--tls-ca", certs.certFile]);
    assert.equal(await wrong.exitCode(30_000), 1, wrong.output);
    assert.match(
      wrong.output,
      /client: cannot connect to the server at 127\.0\.0\.1:\d+ .*TLS handshake failed.*--tls-ca/,
    );
    const client = new DenoProcess(CLIENT, ["--image", "3", "--port", port, "--tls-ca", certs.caFile]);
    assert.equal(await client.exitCode(), 0, client.output);
    assert.match(client.output, /client: connected to server 127\.0\.0\.1:\d+ \(TLS\)/);
    assert.match(client.output, /CIFAR-10 test image 3: predicted/);
    assert.ok(!client.output.includes("no TLS"));
    server.interrupt();
    assert.equal(await server.exitCode(30_000), 0, server.output);
    assert.match(server.output, /server: done in/);
  } finally {
    await Deno.remove(plan);
    await Deno.remove(certs.dir, { recursive: true });
  }
});
