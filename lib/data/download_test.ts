import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatasetSpec } from "./dataset.ts";
import { downloadArchive, ensureDataset, installArchive, md5Hex } from "./download.ts";
import { expectDataError, syntheticRecords, tinySpec } from "./testdata.ts";
import { DOWNLOAD_STAMP, type DownloadStamp, sha256Hex, verifyDataset } from "./verify.ts";

/** A .tar.gz of `files` under `root/`, made by the system's tar (plus a readme, as the official ones have). */
async function makeArchive(root: string, files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, root));
    for (const [name, data] of Object.entries(files)) await Deno.writeFile(join(dir, root, name), data);
    await Deno.writeTextFile(join(dir, root, "readme.html"), "<p>tiny</p>");
    const out = await new Deno.Command("tar", { args: ["-czf", "-", "-C", dir, root] }).output();
    assert.equal(out.code, 0);
    return out.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Serves `routes` (path -> bytes) on 127.0.0.1 at a free port; "/hang" never answers until closed. */
function serve(routes: Record<string, Uint8Array>) {
  let release: () => void = () => {};
  const hung = new Promise<void>((r) => release = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/hang") {
      await hung;
      return new Response("late");
    }
    const body = routes[path];
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>)
      : new Response("no such file", { status: 404 });
  });
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    close: async () => {
      release();
      await server.shutdown();
    },
  };
}

const tiny = tinySpec();
const train = syntheticRecords(tiny, 4);
const test = syntheticRecords(tiny, 2);

async function fixture() {
  const archive = await makeArchive("tiny-bin", { "train.bin": train, "test.bin": test });
  const spec: DatasetSpec = { ...tiny, archive: { ...tiny.archive, md5: md5Hex(archive) } };
  const root = await Deno.makeTempDir();
  const opts = { dataRoot: root, searchDirs: [root], cacheDir: null };
  return { archive, spec, root, opts, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("download from a local server: md5 checked, unpacked, stamped, verified; then reported present", async () => {
  const { archive, spec, root, opts, cleanup } = await fixture();
  const server = serve({ "/tiny.tar.gz": archive });
  try {
    const seen: [number, number | null][] = [];
    const installed = await ensureDataset(spec, {
      ...opts,
      url: server.url("/tiny.tar.gz"),
      onProgress: (r, t) => seen.push([r, t]),
    });
    assert.equal(installed.status, "installed");
    assert.deepEqual(seen.at(-1), [archive.length, archive.length]);
    const dir = join(root, "tiny-bin");
    assert.deepEqual(await Deno.readFile(join(dir, "train.bin")), train);
    assert.equal(await Deno.readTextFile(join(dir, "readme.html")), "<p>tiny</p>");
    const stamp: DownloadStamp = JSON.parse(await Deno.readTextFile(join(dir, DOWNLOAD_STAMP)));
    assert.equal(stamp.archiveMd5, md5Hex(archive));
    assert.equal(stamp.source, server.url("/tiny.tar.gz"));
    assert.deepEqual(stamp.files["test.bin"], { size: test.length, sha256: sha256Hex(test) });
    assert.deepEqual(installed.checks.map((c) => c.method), ["download-stamp", "download-stamp"]);
    assert.equal(installed.variant, "official");
    // Only the final directory is left (no partial or old copies).
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["tiny-bin"]);

    const again = await ensureDataset(spec, { ...opts, url: server.url("/missing") });
    assert.equal(again.status, "present");

    // Corrupted after installation: the stamp catches it; the data root's own copy is reinstalled.
    const bad = train.slice();
    bad[3000] ^= 1;
    await Deno.writeFile(join(dir, "train.bin"), bad);
    await expectDataError(() => verifyDataset(spec, opts), "checksum");
    const lines: string[] = [];
    const repaired = await ensureDataset(spec, {
      ...opts,
      url: server.url("/tiny.tar.gz"),
      log: (l) => lines.push(l),
    });
    assert.equal(repaired.status, "installed");
    assert.ok(lines.some((l) => /invalid, reinstalling/.test(l)));
    assert.deepEqual(await Deno.readFile(join(dir, "train.bin")), train);
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["tiny-bin"]);
  } finally {
    await server.close();
    await cleanup();
  }
});

Deno.test("wrong archive checksum: refused, nothing installed", async () => {
  const { archive, spec, root, opts, cleanup } = await fixture();
  const other = await makeArchive("tiny-bin", {
    "train.bin": syntheticRecords(tiny, 4, () => [1]),
    "test.bin": test,
  });
  const server = serve({ "/tiny.tar.gz": other });
  try {
    const e = await expectDataError(
      () => ensureDataset(spec, { ...opts, url: server.url("/tiny.tar.gz") }),
      "checksum",
    );
    assert.ok(e.message.includes(`has md5 ${md5Hex(other)}, expected ${md5Hex(archive)}`));
    assert.match(e.message, /Nothing was installed/);
    assert.deepEqual([...Deno.readDirSync(root)], []);
  } finally {
    await server.close();
    await cleanup();
  }
});

Deno.test("installArchive from local bytes; an archive lacking a file or with a wrong size is refused", async () => {
  const { archive, spec, root, cleanup } = await fixture();
  try {
    const done = await installArchive(spec, archive, "local.tar.gz", { dataRoot: root });
    assert.deepEqual(done.files, ["train.bin", "test.bin", "readme.html"]);
    const partial = await makeArchive("tiny-bin", { "train.bin": train });
    const lacking = await expectDataError(
      () => installArchive(spec, partial, "p.tar.gz", { dataRoot: root, md5: md5Hex(partial) }),
      "archive",
    );
    assert.match(lacking.message, /lacks tiny-bin\/test\.bin/);
    const short = await makeArchive("tiny-bin", {
      "train.bin": train.subarray(0, 3073 * 3),
      "test.bin": test,
    });
    await expectDataError(
      () => installArchive(spec, short, "s.tar.gz", { dataRoot: root, md5: md5Hex(short) }),
      "size",
    );
    await expectDataError(
      () => installArchive(spec, train, "x.bin", { dataRoot: root, md5: md5Hex(train) }),
      "archive",
    );
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["tiny-bin"]);
  } finally {
    await cleanup();
  }
});

Deno.test("no network: HTTP errors, refused connections and silent servers fail fast with what to do", async () => {
  const server = serve({});
  try {
    const status = await expectDataError(
      () => downloadArchive(tiny, { url: server.url("/nope.tar.gz") }),
      "network",
    );
    assert.match(status.message, /HTTP 404/);

    const t0 = performance.now();
    const silent = await expectDataError(
      () =>
        downloadArchive(tiny, {
          url: server.url("/hang"),
          connectTimeoutMs: 300,
          searched: [{ path: "/d", origin: "x" }],
        }),
      "network",
    );
    assert.ok(performance.now() - t0 < 3000, "timeout took too long");
    assert.match(silent.message, /could not download Tiny from .*\/hang: no response within 0\.3 s/);
    assert.match(silent.message, /looked for in\n {2}\/d\/tiny-bin {2}\(x\)/);
    assert.match(silent.message, /SAFENET_DATA_DIR/);
    assert.match(silent.message, /deno task data tiny --archive/);
  } finally {
    await server.close();
  }
  // The port is closed now: connection refused.
  const t1 = performance.now();
  await expectDataError(() => downloadArchive(tiny, { url: server.url("/tiny.tar.gz") }), "network");
  assert.ok(performance.now() - t1 < 3000);
});

Deno.test("an invalid copy outside the data root is never shadowed silently", async () => {
  const { spec, root, cleanup } = await fixture();
  const other = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(other, "tiny-bin"));
    await Deno.writeFile(join(other, "tiny-bin", "train.bin"), train.subarray(0, 100));
    const e = await expectDataError(
      () =>
        ensureDataset(spec, {
          dataRoot: root,
          searchDirs: [other, root],
          cacheDir: null,
          url: "http://127.0.0.1:9/x",
        }),
      "size",
    );
    assert.match(e.message, /found first in the search/);
    assert.deepEqual([...Deno.readDirSync(root)], []);
  } finally {
    await Deno.remove(other, { recursive: true });
    await cleanup();
  }
});
