import assert from "node:assert/strict";
import { join } from "node:path";
import { CNN7_BTPBT_STAGES } from "../lib/search/testdata/btpbt_stages.ts";
import { DenoProcess, runTool } from "./testdata/process.ts";

Deno.test("search: --help prints the usage; a bad option or an unknown searcher is a one-line error before any work", async () => {
  const help = await runTool("search.ts", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.text, /usage: deno task search --searcher btpbt\|pbt\|drl\|delphi\|uniform/);
  for (
    const [args, message] of [
      [
        ["--searcher", "annealing"],
        /search: unknown searcher 'annealing': one of btpbt, pbt, drl, delphi, uniform/,
      ],
      [[], /search: --searcher is required/],
      [
        ["--searcher", "pbt", "--profile", "huge"],
        /search: --profile must be one of smoke, quick, long, paper/,
      ],
      [["--searcher", "pbt", "--seed", "x"], /search: --seed must be an integer >= 0, got 'x'/],
      [["--searcher", "pbt", "--distill", "2:1"], /search: --distill must be W:T/],
      [["--searcher", "pbt", "--threads", "0"], /search: --threads must be an integer >= 1, got '0'/],
      [["--searcher", "pbt", "--bogus"], /search: Unknown option '--bogus'/],
      [
        ["--searcher", "btpbt", "--publish", "../x"],
        /search: --publish must be a name of lower-case letters/,
      ],
      [
        ["--searcher", "delphi", "--degrees", "3"],
        /search: --degrees: Delphi's planner replaces whole layers/,
      ],
      [
        ["--searcher", "btpbt", "--cost", "lab-moon"],
        /search: --cost must be one of paper, lab-loopback, lab-lan, lab-wan, got 'lab-moon'/,
      ],
      [
        ["--searcher", "btpbt", "--degrees", "2,5"],
        /search: --degrees \(btpbt\): degrees must be distinct values/,
      ],
    ] as const
  ) {
    const r = await runTool("search.ts", [...args]);
    assert.equal(r.code, 2, r.text);
    assert.match(r.text, message);
    assert.equal(r.text.trim().split("\n").length, 1, r.text);
  }
});

/** The parts of a search's result that must not depend on interruptions (not timings). */
async function outcome(dir: string) {
  const { data } = JSON.parse(await Deno.readTextFile(join(dir, "results", "search_btpbt_cnn7_smoke.json")));
  const plan = JSON.parse(await Deno.readTextFile(join(dir, "plans", "cnn7_btpbt_smoke.json")));
  const { history, final, finalTestAccuracy, tree, imagesUsed, evaluationImages } = data;
  return { history, final, finalTestAccuracy, tree, imagesUsed, evaluationImages, plan: plan.sites };
}

function smoke(dir: string, searcher = "btpbt"): string[] {
  return [
    "--searcher",
    searcher,
    "--profile",
    "smoke",
    "--seed",
    "3",
    // One oneDNN thread per worker on any machine (the default divides its cores among the workers).
    "--threads",
    "1",
    "--runs-dir",
    join(dir, "runs"),
    "--results-dir",
    join(dir, "results"),
    "--plans-dir",
    join(dir, "plans"),
  ];
}

Deno.test({
  name:
    "search: a smoke BTPBT search runs end to end on real training; killed after a checkpoint and rerun, it ends exactly as an uninterrupted run",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const whole = await Deno.makeTempDir({ prefix: "search-whole-" });
    const killed = await Deno.makeTempDir({ prefix: "search-killed-" });
    try {
      const exported = join(whole, "export");
      const first = new DenoProcess("tools/search.ts", [
        ...smoke(whole),
        "--publish",
        "safenet",
        "--out",
        exported,
      ]);
      assert.equal(await first.exitCode(120_000), 0, first.output);
      const reference = await outcome(whole);
      // Published: the same plan and provenance under the given name, naming the saved pick.
      const published = await Deno.readTextFile(join(whole, "plans", "cnn7_safenet.json"));
      assert.equal(published, await Deno.readTextFile(join(whole, "plans", "cnn7_btpbt_smoke.json")));
      assert.equal(JSON.parse(published).provenance.weights, exported);
      assert.ok((await Deno.stat(join(exported, "model.json"))).isFile);
      // Every BTPBT stage trained: root, 6 sibling pairs, 2 global cycles; budget respected.
      assert.equal(reference.history.length, 9);
      assert.deepEqual(
        [...new Set(reference.history.map((c: { stage: string }) => c.stage))],
        CNN7_BTPBT_STAGES,
      );
      assert.equal(reference.imagesUsed, 576);
      assert.equal(reference.evaluationImages, 9 * 2 * 64);
      assert.ok(reference.final && reference.finalTestAccuracy >= 0 && reference.finalTestAccuracy <= 1);
      assert.match(first.output, /\[btpbt\/global\] cycle 9 \| images 576\/576 \| best score/);

      const interrupted = new DenoProcess("tools/search.ts", smoke(killed));
      await interrupted.waitFor(/cycle 4 \|/, 120_000);
      interrupted.kill();
      await interrupted.exitCode();
      const journal = JSON.parse(
        await Deno.readTextFile(join(killed, "runs", "btpbt-cnn7-smoke-s3", "journal.json")),
      );
      assert.ok(journal.calls.filter((c: { kind: string }) => c.kind === "train").length >= 4);

      const resumed = new DenoProcess("tools/search.ts", smoke(killed));
      assert.equal(await resumed.exitCode(120_000), 0, resumed.output);
      assert.match(resumed.output, /resumed: \d+ runner calls replayed from the journal/);
      assert.doesNotMatch(resumed.output, /cycle 1 \|/, "the resumed run trained the first cycles again");
      assert.deepEqual(await outcome(killed), reference);
      // The resumed run's progress lines read as the uninterrupted run's (the best so far
      // includes the replayed cycles), but for the ETA.
      const lines = (text: string) =>
        new Map(
          [...text.matchAll(/^(\[[^\]]+\] cycle \d+ \| .*) \| ETA .*$/gm)].map((
            m,
          ) => [m[1].split(" | ")[0], m[1]]),
        );
      const before = lines(first.output), after = lines(resumed.output);
      assert.ok(after.size >= 1);
      for (const [cycle, line] of after) assert.equal(line, before.get(cycle), cycle);
    } finally {
      await Deno.remove(whole, { recursive: true });
      await Deno.remove(killed, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "search: --cost lab-lan scores with this protocol's measured prices over a LAN and names its files so",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "search-cost-" });
    try {
      const run = new DenoProcess("tools/search.ts", [...smoke(dir, "uniform"), "--cost", "lab-lan"]);
      assert.equal(await run.exitCode(120_000), 0, run.output);
      assert.match(run.output, /search uniform-lab-lan on cnn7, profile smoke/);
      const { data } = JSON.parse(
        await Deno.readTextFile(join(dir, "results", "search_uniform-lab-lan_cnn7_smoke.json")),
      );
      assert.equal(data.cost, "lab-lan");
      assert.match(
        data.reduction,
        /^lab protocol priced whole by lib\/cost, calibration 'measured', link lan/,
      );
      const journal = JSON.parse(
        await Deno.readTextFile(join(dir, "runs", "uniform-lab-lan-cnn7-smoke-s3", "journal.json")),
      );
      assert.equal(journal.identity.cost, "lab-lan");
      // Degree-2 neurons cost something in this protocol: removed cost stays below the share replaced.
      for (const cycle of data.history) {
        for (const r of cycle.results) {
          assert.ok(r.removedCost < r.replacedShare || r.replacedShare === 0, JSON.stringify(r));
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
