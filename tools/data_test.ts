import assert from "node:assert/strict";
import { join } from "node:path";
import { findDataset } from "../lib/data/mod.ts";

const DENO = Deno.execPath();
const SCRIPT = new URL("./data.ts", import.meta.url).pathname;

async function runData(args: string[], env: Record<string, string>) {
  const t0 = performance.now();
  const out = await new Deno.Command(DENO, { args: ["run", "-A", SCRIPT, ...args], env, stdin: "null" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text, seconds: (performance.now() - t0) / 1000 };
}

/** True when a CIFAR-100 copy sits in the default search (then the command would report it present). */
const cifar100Present = (() => {
  try {
    findDataset("cifar100");
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "deno task data without a network fails fast, naming the data set, where it looked and what to do",
  ignore: cifar100Present,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    // A port nobody listens on: the connection is refused at once, as without a network.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    try {
      const r = await runData(["cifar100"], {
        SAFENET_DATA_DIR: dir,
        SAFENET_CIFAR100_URL: `http://127.0.0.1:${port}/cifar-100-binary.tar.gz`,
      });
      assert.equal(r.code, 1, r.text);
      assert.ok(r.seconds < 15, `took ${r.seconds} s`);
      assert.match(r.text, /could not download CIFAR-100 from http:\/\/127\.0\.0\.1/);
      assert.ok(r.text.includes(join(dir, "cifar-100-binary")), r.text);
      assert.match(r.text, /copy the official files \(train\.bin, test\.bin in cifar-100-binary\/\)/);
      assert.match(r.text, /set SAFENET_DATA_DIR/);
      assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno task data --archive refuses a file that is not the official archive; usage errors exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fake = join(dir, "fake.tar.gz");
    await Deno.writeTextFile(fake, "not an archive");
    const r = await runData(["cifar100", "--archive", fake], { SAFENET_DATA_DIR: dir });
    assert.equal(r.code, 1, r.text);
    assert.match(
      r.text,
      /CIFAR-100 archive from .*fake\.tar\.gz has md5 [0-9a-f]{32}, expected 03b5dce01913d631647c71ecec9e9cb8/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["fake.tar.gz"]);
    const usage = await runData(["mnist"], {});
    assert.equal(usage.code, 2);
    assert.match(usage.text, /unknown argument 'mnist'\nusage: deno task data <cifar10\|cifar100>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
