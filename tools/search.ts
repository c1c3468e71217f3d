/**
 * Searches a replacement plan on real training, resumably.
 *
 * ```
 * deno task search --searcher btpbt|pbt|drl|delphi|uniform --model cnn7|vgg16|resnet32 --profile smoke|quick|long|paper \
 *   [--seed 1] [--run NAME] [--workers 2] [--threads N] [--distill W:T] [--degrees 0,2,3] [--cost paper]
 *   [--out DIR] [--publish NAME]
 * ```
 *
 * The run lives in `~/.cache/safenet/search/<run>/` (or `--runs-dir`): a journal of the runner's
 * answers and the trials' states, checkpointed every cycle. Running the same command again
 * replays the journal and continues from the last checkpoint, ending as an uninterrupted run
 * would; a finished run replays to its end and rewrites its outputs. Outputs:
 * `results/search_<label>_<model>_<profile>.json` (history per cycle, final pick with its test
 * accuracy; the label is the searcher plus any non-default degrees and cost) and, when a pick
 * reached the threshold, `data/plans/<model>_<label>_<profile>.json`
 * (the plan with its provenance); `--out DIR` also saves the pick's model (masks and trained
 * coefficients) and `--publish NAME` writes the plan again as `data/plans/<model>_NAME.json` (the
 * project's SAFENet plan: `--profile long --publish safenet --out data/pretrained/cnn7-safenet`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { homedir } from "node:os";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { MODEL_NAMES, type ModelName } from "../lib/nn/architectures.ts";
import { MODEL_FILE } from "../lib/nn/io.ts";
import type { Degree } from "../lib/nn/approximation.ts";
import { isSearchProfileName, SEARCH_PROFILES, searchProfile } from "../lib/search/runner_profiles.ts";
import { runAndWriteSearch } from "../lib/search/outputs.ts";
import { searchRunName, type SearchSpec, specLabel } from "../lib/search/options.ts";
import type { CostSource } from "../lib/search/cost_source.ts";
import { SEARCHER_NAMES } from "../lib/search/runner_session.ts";
import type { SearcherName } from "../lib/search/types.ts";

const USAGE = `usage: deno task search --searcher ${SEARCHER_NAMES.join("|")} [options]
  --model cnn7          network: cnn7 | vgg16 | resnet32 (its pretrained all-ReLU weights are data/pretrained/MODEL)
  --profile quick       smoke | quick | long | paper (budget, population, interval, validation subset);
                        vgg16's and resnet32's budgets but at paper are sized by their BTPBT trees (14 and
                        31 tree PBTs against cnn7's 7): long gives each tree PBT two cycles
  --seed 1              seed of the searcher and of the trials' data
  --run NAME            run name (default SEARCHER-MODEL-PROFILE-sSEED); directory under --runs-dir
  --runs-dir DIR        default ~/.cache/safenet/search
  --workers 2           trial workers (one wasm instance each; trials run side by side)
  --threads N           oneDNN threads per worker (default: the cores divided among the workers); e.g.
                        --workers 1 --threads 1 leaves a core to another job
  --distill W:T         knowledge distillation from the all-ReLU network, weight W, temperature T
                        (default: the profile's, 0.5:4 but at smoke; 0:4 turns it off)
  --degrees 0,2,3       the degrees beta may take (default 0,2,3; uniform: one, default 2); e.g. 2 for the
                        paper's CW-MP ablation. Non-default degrees name the run and its files SEARCHER-dDEGREES
  --cost paper          where the score's R(beta) comes from: paper (the paper's unit costs) or
                        lab-loopback | lab-lan | lab-wan (this project's protocol priced by lib/cost from
                        this machine's benchmark files, over that link). Non-default costs name the run
                        and its files SEARCHER[-dDEGREES]-COST
  --pretrained DIR      the all-ReLU network (default data/pretrained/MODEL)
  --out DIR             also save the final pick's model (model.json + weights.bin) here
  --publish NAME        also write the pick as PLANS/MODEL_NAME.json: the project's final plan is
                        \`--publish safenet\` (data/plans/cnn7_safenet.json, with --out data/pretrained/cnn7-safenet)
  --results-dir DIR     default results/
  --plans-dir DIR       default data/plans/`;

function fail(message: string): never {
  console.error(`search: ${message} (--help for usage)`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      searcher: { type: "string" },
      model: { type: "string", default: "cnn7" },
      profile: { type: "string", default: "quick" },
      seed: { type: "string", default: "1" },
      run: { type: "string" },
      "runs-dir": { type: "string", default: join(homedir(), ".cache", "safenet", "search") },
      workers: { type: "string", default: "2" },
      threads: { type: "string" },
      distill: { type: "string" },
      degrees: { type: "string" },
      cost: { type: "string" },
      pretrained: { type: "string" },
      out: { type: "string" },
      publish: { type: "string" },
      "results-dir": { type: "string", default: join(REPO_ROOT, "results") },
      "plans-dir": { type: "string", default: join(REPO_ROOT, "data", "plans") },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (e) {
  fail((e as Error).message);
}
const a = parsed.values;
if (a.help) {
  console.log(USAGE);
  Deno.exit(0);
}

function integer(name: "seed" | "workers" | "threads", min: number): number {
  const v = Number(a[name]);
  if (!(Number.isSafeInteger(v) && v >= min)) {
    fail(`--${name} must be an integer >= ${min}, got '${a[name]}'`);
  }
  return v;
}

if (!a.searcher) fail(`--searcher is required: one of ${SEARCHER_NAMES.join(", ")}`);
if (!(SEARCHER_NAMES as readonly string[]).includes(a.searcher)) {
  fail(`unknown searcher '${a.searcher}': one of ${SEARCHER_NAMES.join(", ")}`);
}
if (!(MODEL_NAMES as readonly string[]).includes(a.model!)) {
  fail(`--model must be one of ${MODEL_NAMES.join(", ")}, got '${a.model}'`);
}
if (!isSearchProfileName(a.profile!)) {
  fail(`--profile must be one of ${Object.keys(SEARCH_PROFILES).join(", ")}, got '${a.profile}'`);
}
const searcher = a.searcher as SearcherName;
const model = a.model as ModelName;
const profile = searchProfile(a.profile, model);
const seed = integer("seed", 0);
const workers = integer("workers", 1);
const threads = a.threads === undefined ? undefined : integer("threads", 1);
let distillation;
if (a.distill !== undefined) {
  const [weight, temperature] = a.distill.split(":").map(Number);
  if (!(weight >= 0 && weight <= 1 && temperature > 0)) {
    fail(`--distill must be W:T with W in [0, 1] and T > 0, got '${a.distill}'`);
  }
  distillation = { weight, temperature };
}
const spec: SearchSpec = {
  searcher,
  ...(a.degrees !== undefined ? { degrees: a.degrees.split(",").map((d) => Number(d) as Degree) } : {}),
  ...(a.cost !== undefined ? { cost: a.cost as CostSource } : {}),
};
try {
  specLabel(spec);
} catch (e) {
  fail((e as Error).message);
}
if (a.publish !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(a.publish)) {
  fail(
    `--publish must be a name of lower-case letters, digits and dashes (e.g. safenet), got '${a.publish}'`,
  );
}
const pretrained = resolve(a.pretrained ?? join(REPO_ROOT, "data", "pretrained", model));
if (!existsSync(join(pretrained, MODEL_FILE))) {
  fail(
    `no pretrained all-ReLU ${model} at ${pretrained}: train one with \`deno task train --model ${model} --out DIR\``,
  );
}
const runName = a.run ?? searchRunName(spec, model, profile.name, seed);
const runDir = resolve(a["runs-dir"]!, runName);

const outputs = await runAndWriteSearch({
  spec,
  model,
  dataset: "cifar10",
  profile,
  seed,
  runDir,
  pretrained,
  workers,
  nativeThreads: threads,
  ...(distillation ? { distillation } : {}),
  ...(a.out ? { exportDir: resolve(a.out) } : {}),
}, {
  run: runName,
  command: `deno task search ${Deno.args.join(" ")}`,
  resultsDir: resolve(a["results-dir"]!),
  plansDir: resolve(a["plans-dir"]!),
  ...(a.publish ? { publishAs: a.publish } : {}),
}).catch((e: Error) => {
  // A search that cannot go on (another run in the directory, a missing state file) says why in one line.
  console.error(`search: ${e.message}`);
  Deno.exit(1);
});
console.error(`wrote ${outputs.result}`);
for (const plan of outputs.plans ?? []) console.error(`wrote ${plan}`);
if (outputs.removedPlan) {
  console.error(
    `removed ${outputs.removedPlan}: an earlier run's pick, which this run's result no longer backs`,
  );
}
if (!outputs.plans && a.publish) {
  console.error(`nothing published as '${a.publish}': the search made no pick`);
}
