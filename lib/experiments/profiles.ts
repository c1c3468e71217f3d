/**
 * Run sizes. Every experiment reads its budgets (epochs, trials, images) from the profile it is
 * given, and every result file records the profile, so a number is always read with its budget.
 *
 * @module
 */

/** The named profiles, smallest first. */
export const PROFILE_NAMES = ["smoke", "quick", "long", "paper"] as const;
export type ProfileName = typeof PROFILE_NAMES[number];

/** What each profile is for, printed by `reproduce --help` and next to results. */
export const PROFILE_DESCRIPTIONS: Record<ProfileName, string> = {
  smoke: "seconds per experiment; tests and CI",
  quick: "the default: every figure and table in well under an hour on 2 cores, at reduced budgets",
  long:
    "many hours in the background on 2 cores, stopped and resumed from checkpoints; committed beside quick",
  paper: "the paper's budgets; for bigger machines",
};

/** Checks a profile name from the command line or a notebook, failing with the valid ones. */
export function parseProfile(name: string): ProfileName {
  if ((PROFILE_NAMES as readonly string[]).includes(name)) return name as ProfileName;
  throw new Error(`unknown profile '${name}': use one of ${PROFILE_NAMES.join(", ")}`);
}
