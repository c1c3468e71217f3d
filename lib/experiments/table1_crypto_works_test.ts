import assert from "node:assert/strict";
import { extensionRows, NAME, reading, run, tableRows, write } from "./table1_crypto_works.ts";

Deno.test("table 1: the paper's works plus this project's row, every extension naming an existing module", async () => {
  const result = run({ profile: "smoke", seed: 0 });
  const rows = tableRows(result);
  assert.equal(rows.at(-1)!.work, "SAFENet Lab (this project)");
  const safenet = rows.find((r) => r.work === "SAFENet")!;
  assert.equal(safenet["channel-wise"], "✓");
  assert.equal(rows.find((r) => r.work === "Gazelle")!["channel-wise"], "");
  for (const e of extensionRows(result)) {
    await Deno.stat(new URL(`../../${e.module}`, import.meta.url)); // throws if the module is gone
  }
  assert.match(reading(result), /SAFENet and SAFENet Lab \(this project\) support every capability/);
  const dir = await Deno.makeTempDir();
  try {
    const [path] = await write(result, { resultsDir: dir });
    assert.equal(path, `${dir}/${NAME}_smoke.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
