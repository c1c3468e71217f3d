import assert from "node:assert/strict";
import { join } from "node:path";
import { readTar } from "./tar.ts";
import { expectDataError } from "./testdata.ts";

/** Builds an archive of `files` with the system's tar in `format`, returning its bytes. */
async function systemTar(files: Record<string, Uint8Array>, format: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, data] of Object.entries(files)) {
      await Deno.mkdir(join(dir, "src", name, ".."), { recursive: true });
      await Deno.writeFile(join(dir, "src", name), data);
    }
    const out = await new Deno.Command("tar", {
      args: [`--format=${format}`, "-cf", join(dir, "a.tar"), "-C", join(dir, "src"), ...Object.keys(files)],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return await Deno.readFile(join(dir, "a.tar"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const longName = `root/${"d".repeat(70)}/${"f".repeat(90)}.bin`;
const files = {
  "root/a.bin": new Uint8Array(1000).map((_, i) => i * 7),
  "root/empty.txt": new Uint8Array(0),
  "root/b.bin": new Uint8Array(512).fill(9),
  [longName]: new Uint8Array([1, 2, 3]),
};

for (const format of ["gnu", "ustar", "pax"]) {
  Deno.test(`readTar reads ${format} archives from the system tar, long names included`, async () => {
    const entries = [...readTar(await systemTar(files, format))].filter((e) => e.type === "file");
    assert.deepEqual(entries.map((e) => e.name).sort(), Object.keys(files).sort());
    for (const e of entries) assert.deepEqual(e.data, files[e.name]);
  });
}

Deno.test("readTar reports directories and rejects damaged or truncated archives", async () => {
  const tar = await systemTar({ "root/x/y.bin": new Uint8Array(700).fill(1) }, "gnu");
  const dirs = await (async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(join(dir, "root"));
      const out = await new Deno.Command("tar", { args: ["-cf", "-", "-C", dir, "root"] }).output();
      return [...readTar(out.stdout)];
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  assert.deepEqual(dirs.map((e) => [e.name, e.type]), [["root/", "directory"]]);

  const damaged = tar.slice();
  damaged[10] ^= 0x20;
  const e = await expectDataError(() => [...readTar(damaged)], "archive");
  assert.match(e.message, /damaged header at byte 0/);
  await expectDataError(() => [...readTar(tar.subarray(0, 512 + 300))], "archive");
  await expectDataError(() => [...readTar(new Uint8Array(0))], "archive");
});
