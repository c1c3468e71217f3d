/**
 * `deno task client`: its command line and image files, and the client's side of the fault
 * cases as OS processes over TCP (mismatched model, plan or weights; server killed mid-online;
 * truncated frame from the server). Server-side faults and a whole session: serve_test.ts.
 */
import assert from "node:assert/strict";
import { IMAGE_BYTES, loadCifar } from "../lib/data/mod.ts";
import jpeg from "jpeg-js";
import { encodePng } from "../lib/report/image.ts";
import { loadImage, main } from "./client.ts";
import { DenoProcess, prunedPlan, runTool, startServer } from "./testdata/process.ts";
import { makeTestCertificates } from "../lib/mpc/transport/testdata/tls.ts";

const CLIENT = "tools/client.ts";

Deno.test("client: a bad command line exits 2 before connecting", async () => {
  assert.equal(await main(["--image", "3", "--model", "alexnet"]), 2);
  assert.equal(await main(["--port", "7441"]), 2);
  assert.equal(await main(["--help"]), 0);
});

/** CRC-32 of PNG chunks (ISO 3309). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** `png` with a tEXt chunk inserted before IEND so that the file has exactly `size` bytes. */
function padPng(png: Uint8Array, size: number): Uint8Array {
  const dataLength = size - png.length - 12;
  assert.ok(dataLength >= 2, `the PNG has ${png.length} bytes, too many to pad to ${size}`);
  const chunk = new Uint8Array(12 + dataLength);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, dataLength);
  chunk.set(new TextEncoder().encode("tEXt"), 4);
  chunk.set(new TextEncoder().encode("x\0"), 8);
  chunk.fill(0x61, 10, 8 + dataLength);
  view.setUint32(8 + dataLength, crc32(chunk.subarray(4, 8 + dataLength)));
  const iend = png.length - 12;
  return new Uint8Array([...png.subarray(0, iend), ...chunk, ...png.subarray(iend)]);
}

/** `pixels` (32x32 RGB) scaled up 3x and centred in a 128x96 photo with grey side bands, as RGBA. */
function photoRgba(pixels: Uint8Array): Uint8Array {
  const [w, h] = [128, 96];
  const rgba = new Uint8Array(w * h * 4).fill(128);
  for (let y = 0; y < h; y++) {
    for (let x = 16; x < 112; x++) {
      const p = (Math.floor(y / 3) * 32 + Math.floor((x - 16) / 3)) * 3;
      rgba.set(pixels.subarray(p, p + 3), (y * w + x) * 4);
      rgba[(y * w + x) * 4 + 3] = 255;
    }
  }
  return rgba;
}

Deno.test("client: image files are PNG or JPEG by content, CIFAR-10 records or raw RGB; others are a clear error", async () => {
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
    // A 32x32 PNG of exactly 3,072 bytes: the size of raw pixels, read as the PNG it is.
    const png = padPng(encodePng({ width: 32, height: 32, pixels }), IMAGE_BYTES);
    assert.equal(png.length, IMAGE_BYTES);
    await Deno.writeFile(`${dir}/image.png`, png);
    const rgba = photoRgba(pixels);
    await Deno.writeFile(`${dir}/photo.jpg`, jpeg.encode({ width: 128, height: 96, data: rgba }, 95).data);

    const fromRecord = await loadImage({ kind: "path", path: `${dir}/record.bin` });
    assert.deepEqual(fromRecord.pixels, pixels);
    assert.equal(fromRecord.label, test.labels[5]);
    const byIndex = await loadImage({ kind: "test-index", index: 5 });
    assert.deepEqual(byIndex.pixels, pixels);
    assert.deepEqual((await loadImage({ kind: "path", path: `${dir}/raw.rgb` })).pixels, pixels);
    const fromPng = await loadImage({ kind: "path", path: `${dir}/image.png` });
    assert.deepEqual(fromPng.pixels, pixels);
    assert.match(fromPng.description, /image\.png \(PNG 32x32, scaled to 32x32\)/);
    // The JPEG's central square is the image scaled 3x: scaled back, it differs by JPEG's error only.
    const fromJpeg = await loadImage({ kind: "path", path: `${dir}/photo.jpg` });
    assert.match(fromJpeg.description, /photo\.jpg \(JPEG 128x96, scaled to 32x32\)/);
    const error = fromJpeg.pixels.reduce((s, v, i) => s + Math.abs(v - pixels[i]), 0) / IMAGE_BYTES;
    assert.ok(error < 4, `mean error ${error} grey levels`);
    await assert.rejects(
      loadImage({ kind: "path", path: `${dir}/odd.png` }),
      /odd\.png is not a PNG or JPEG file and has 100 bytes: expected a CIFAR-10 record/,
    );
    await assert.rejects(
      loadImage({ kind: "path", path: `${dir}/absent.jpg` }),
      /^Error: no image file at .*absent\.jpg$/,
    );
    await Deno.writeFile(`${dir}/cut.png`, png.subarray(0, 200));
    await assert.rejects(
      loadImage({ kind: "path", path: `${dir}/cut.png` }),
      /cut\.png is not a valid PNG file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client: a missing image file is one line naming it, before any connection", async () => {
  const { code, text } = await runTool("client.ts", ["--image", "/nonexistent/cat.png", "--port", "9"]);
  assert.equal(code, 1);
  assert.equal(text.trim(), "client: no image file at /nonexistent/cat.png");
});

Deno.test("client: one server answers three clients in a row: a PNG, a JPEG photo and a test image", async () => {
  const test = await loadCifar({ dataset: "cifar10", split: "test" });
  const pixels = test.images.slice(3 * IMAGE_BYTES, 4 * IMAGE_BYTES);
  const dir = await Deno.makeTempDir();
  const plan = await prunedPlan(0.9);
  try {
    await Deno.writeFile(`${dir}/cat.png`, encodePng({ width: 32, height: 32, pixels }));
    await Deno.writeFile(
      `${dir}/cat.jpg`,
      jpeg.encode({ width: 128, height: 96, data: photoRgba(pixels) }, 90).data,
    );
    const { server, port } = await startServer(["--plan", plan], { once: false });
    for (const file of ["cat.png", "cat.jpg"]) {
      const client = new DenoProcess(CLIENT, ["--image", `${dir}/${file}`, "--port", port]);
      assert.equal(await client.exitCode(), 0, client.output);
      assert.match(
        client.output,
        new RegExp(`${file} \\((PNG|JPEG) \\d+x\\d+, scaled to 32x32\\): predicted \\w+ \\(\\d\\)`),
      );
    }
    const third = new DenoProcess(CLIENT, ["--image", "7", "--port", port]);
    assert.equal(await third.exitCode(), 0, third.output);
    assert.match(third.output, /predicted \w+ \(\d\)/);
    server.interrupt();
    assert.equal(await server.exitCode(30_000), 0, server.output);
  } finally {
    await Deno.remove(plan);
    await Deno.remove(dir, { recursive: true });
  }
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
