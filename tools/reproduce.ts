/**
 * `deno task reproduce [--profile quick] [--seed 0] [--only name,...] [--no-render]`
 *
 * Regenerates every registered experiment's results/ and figures/ (file names carry the profile,
 * so a smoke run leaves the quick and long results alone), then executes and renders the
 * notebooks at the same profile (`deno task render --profile`), so the shared HTML shows the same
 * numbers.
 */
import { parseArgs } from "node:util";
import { experimentByName, EXPERIMENTS } from "../lib/experiments/registry.ts";
import { parseProfile, PROFILE_DESCRIPTIONS, PROFILE_NAMES } from "../lib/experiments/profiles.ts";

const USAGE = `usage: deno task reproduce [--profile NAME] [--seed N] [--only a,b] [--no-render]

profiles:
${PROFILE_NAMES.map((p) => `  ${p.padEnd(6)} ${PROFILE_DESCRIPTIONS[p]}`).join("\n")}
experiments:
${EXPERIMENTS.map((e) => `  ${e.name.padEnd(28)} ${e.title}`).join("\n")}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      profile: { type: "string", default: "quick" },
      seed: { type: "string", default: "0" },
      only: { type: "string" },
      "no-render": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const profile = parseProfile(values.profile!);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${values.seed}'`);
  const selected = values.only ? values.only.split(",").map((n) => experimentByName(n.trim())) : EXPERIMENTS;

  console.log(`reproduce: profile ${profile} (${PROFILE_DESCRIPTIONS[profile]}), seed ${seed}`);
  for (const [i, experiment] of selected.entries()) {
    const started = performance.now();
    console.log(`[${i + 1}/${selected.length}] ${experiment.title}`);
    const result = await experiment.run({ profile, seed });
    const files = await experiment.write(result);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`    wrote ${files.join(", ")} (${seconds} s)`);
  }
  if (!values["no-render"]) {
    console.log(`rendering notebooks at profile ${profile} (deno task render --profile ${profile})`);
    const render = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./render.ts", import.meta.url).pathname, "--profile", profile],
      stdout: "inherit",
      stderr: "inherit",
    });
    const { code } = await render.output();
    if (code !== 0) throw new Error(`notebook rendering failed (exit ${code}); see its output above`);
  }
  console.log("reproduce: done");
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`reproduce: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
