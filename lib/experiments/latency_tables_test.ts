import assert from "node:assert/strict";
import { latencyTables, reading, runTable, tableName, tableRows, writeTable } from "./latency_tables.ts";

Deno.test("latency tables: paper rows, the paper-calibrated model, a run split into the paper's columns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const layer = (kind: string, offline_s: number, online_s: number) => ({ kind, offline_s, online_s });
    await Deno.writeTextFile(
      `${dir}/bench_protocol.json`,
      JSON.stringify({
        cnn7: {
          all_relu: {
            total_s: 11,
            layers: {
              input: layer("input", 0, 0.01),
              conv1: layer("he-linear", 1, 0.02),
              act1: layer("activation", 8, 1.5),
            },
          },
        },
      }),
    );
    const result = await runTable("cnn7", { profile: "smoke", seed: 0, resultsDir: dir, plansDir: dir });
    assert.equal(result.table, 2);
    assert.deepEqual(result.rows.map((r) => r.protocol), ["gazelle", "delphi", "safenet"]);
    const [gazelle, delphi, safenet] = result.rows;
    assert.equal(result.calibrations.measured, null, "no bench_he.json: the measured column is empty");
    assert.deepEqual(gazelle.run, {
      offlineLinear: 1,
      offlineActivation: 8,
      onlineLinear: 0.03,
      onlineActivation: 1.5,
      total: 11,
    });
    assert.equal(delphi.run, null);
    assert.equal(safenet.run, null);
    // The paper calibration reproduces its fitted rows closely and predicts SAFENet's below Delphi's.
    assert.ok(Math.abs(delphi.paperModel.offlineActivation - delphi.paper.offlineActivation) < 0.05 * 53.4);
    assert.ok(safenet.paperModel.total < delphi.paperModel.total);
    assert.equal(tableRows(result).length, 12);
    assert.match(reading(result), /The paper's SAFENet cuts Delphi's total by 44%/);
    const [path] = await writeTable(result, { resultsDir: dir });
    assert.ok(path.endsWith(`/${tableName("cnn7")}_smoke.json`));
    assert.deepEqual(latencyTables.map((e) => e.name), ["table2_cnn7", "table3_vgg16", "table4_resnet32"]);

    // A search's pick at the profile takes the SAFENet row, with the accuracy the search measured.
    const sites = Array.from({ length: 7 }, () => ({ alpha: 0.9, beta: 3 }));
    await Deno.writeTextFile(
      `${dir}/cnn7_btpbt_smoke.json`,
      JSON.stringify({ model: "cnn7", sites, provenance: { testAccuracy: 0.8412 } }),
    );
    const searched = (await runTable("cnn7", { profile: "smoke", seed: 0, resultsDir: dir, plansDir: dir }))
      .rows[2];
    assert.match(searched.plan, /^BTPBT's pick, \d+\.\d% replaced \(smoke search/);
    assert.ok("value" in searched.accuracy && Math.abs(searched.accuracy.value - 84.12) < 1e-9);
    assert.equal(searched.accuracy.dataset, "cifar10, the search's pick");
    assert.equal(searched.run, null, "the real run ran the 80% plan, not this one");
    assert.ok(searched.paperModel.onlineActivation < safenet.paperModel.onlineActivation);

    // The published SAFENet plan takes precedence over the profile's own search, labelled with its profile.
    const published = Array.from({ length: 7 }, () => ({ alpha: 0.5, beta: 2 }));
    await Deno.writeTextFile(
      `${dir}/cnn7_safenet.json`,
      JSON.stringify({
        model: "cnn7",
        sites: published,
        provenance: { profile: "long", testAccuracy: 0.845 },
      }),
    );
    const final =
      (await runTable("cnn7", { profile: "smoke", seed: 0, resultsDir: dir, plansDir: dir })).rows[2];
    assert.match(
      final.plan,
      /^BTPBT's pick, \d+\.\d% replaced \(long search, data\/plans\/cnn7_safenet\.json\)$/,
    );
    assert.ok("value" in final.accuracy && Math.abs(final.accuracy.value - 84.5) < 1e-9);
    assert.equal(final.run, null, "no run of the published plan yet");
    // Its real run comes from bench:protocol --plans safenet's own file.
    await Deno.writeTextFile(
      `${dir}/bench_protocol_safenet.json`,
      JSON.stringify({
        cnn7: {
          safenet: {
            total_s: 4,
            layers: { act1: layer("activation", 2, 0.25), conv1: layer("he-linear", 1.5, 0.25) },
          },
        },
      }),
    );
    const ran =
      (await runTable("cnn7", { profile: "smoke", seed: 0, resultsDir: dir, plansDir: dir })).rows[2];
    assert.deepEqual(ran.run, {
      offlineLinear: 1.5,
      offlineActivation: 2,
      onlineLinear: 0.25,
      onlineActivation: 0.25,
      total: 4,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
