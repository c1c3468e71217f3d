/**
 * Fits the cost model's `paper` calibration to the paper's Tables 2-4 and writes it, with the
 * fit's residuals, to lib/cost/calibrations/paper.json (lib/cost/paper_fit.ts explains the fit).
 *
 * ```
 * deno task calibrate
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "../lib/data/atomic.ts";
import { fitPaperCalibration } from "../lib/cost/paper_fit.ts";
import { PAPER_CALIBRATION_PATH } from "../lib/cost/mod.ts";

const USAGE = `usage: deno task calibrate
  Fits the cost model's 'paper' calibration to the paper's Tables 2-4 and writes
  lib/cost/calibrations/paper.json with the fit's residuals.`;

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (Deno.args.length) {
    console.error(`calibrate: unexpected arguments ${Deno.args.join(" ")}\n\n${USAGE}`);
    Deno.exit(2);
  }
  const calibration = fitPaperCalibration();
  await writeFileAtomic(PAPER_CALIBRATION_PATH, JSON.stringify(calibration, null, 2) + "\n");
  for (const r of calibration.residuals ?? []) {
    console.log(
      `${r.observation.padEnd(42)} paper ${r.value.toFixed(1).padStart(6)} s  fit ${
        r.fitted.toFixed(1).padStart(6)
      } s  ${(100 * r.relative).toFixed(1).padStart(6)}%`,
    );
  }
  console.log(`wrote ${PAPER_CALIBRATION_PATH}`);
}
