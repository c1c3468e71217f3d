/**
 * Learning-rate schedules as plain JSON values, evaluated per optimisation step.
 *
 * A schedule is data (it is recorded in a run's config and checked on resume), and the rate is
 * a pure function of the global step, so a resumed run sees exactly the rates it would have seen.
 *
 * @module
 */

/** Constant rate. */
export interface ConstantSchedule {
  readonly kind: "constant";
  readonly lr: number;
}

/** Linear warm-up from 0 to `peak` over `warmupEpochs`, then cosine decay to `final`. */
export interface CosineSchedule {
  readonly kind: "cosine";
  readonly peak: number;
  readonly warmupEpochs: number;
  /** Rate at the last step; default 0. */
  readonly final?: number;
}

/**
 * One-cycle (Smith): cosine rise from peak/divFactor to `peak` over the first `pctStart` of
 * training, then cosine fall to peak/(divFactor*finalDivFactor).
 */
export interface OneCycleSchedule {
  readonly kind: "onecycle";
  readonly peak: number;
  /** Fraction of all steps spent rising; default 0.3. */
  readonly pctStart?: number;
  /** Default 25. */
  readonly divFactor?: number;
  /** Default 1e4. */
  readonly finalDivFactor?: number;
}

/** Piecewise constant: `lr` times `gamma` for every milestone epoch already reached. */
export interface StepSchedule {
  readonly kind: "step";
  readonly lr: number;
  readonly milestones: readonly number[];
  readonly gamma: number;
}

/** Any learning-rate schedule. */
export type Schedule = ConstantSchedule | CosineSchedule | OneCycleSchedule | StepSchedule;

function cosineBetween(from: number, to: number, t: number): number {
  return to + (from - to) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))));
}

/**
 * The learning rate for global step `step` (0-based) of a run of `totalSteps` steps with
 * `stepsPerEpoch` steps per epoch.
 */
export function learningRate(
  schedule: Schedule,
  step: number,
  stepsPerEpoch: number,
  totalSteps: number,
): number {
  if (!(stepsPerEpoch > 0) || !(totalSteps > 0)) {
    throw new Error(
      `learningRate: stepsPerEpoch (${stepsPerEpoch}) and totalSteps (${totalSteps}) must be positive`,
    );
  }
  switch (schedule.kind) {
    case "constant":
      return schedule.lr;
    case "cosine": {
      const warmup = Math.round(schedule.warmupEpochs * stepsPerEpoch);
      // Step s of the warm-up trains with (s+1)/warmup of the peak, so no step is wasted at 0.
      if (step < warmup) return schedule.peak * (step + 1) / warmup;
      const span = Math.max(1, totalSteps - 1 - warmup);
      return cosineBetween(schedule.peak, schedule.final ?? 0, (step - warmup) / span);
    }
    case "onecycle": {
      const start = schedule.peak / (schedule.divFactor ?? 25);
      const end = start / (schedule.finalDivFactor ?? 1e4);
      const rise = Math.max(1, Math.round((schedule.pctStart ?? 0.3) * totalSteps));
      if (step < rise) return cosineBetween(start, schedule.peak, step / rise);
      return cosineBetween(schedule.peak, end, (step - rise) / Math.max(1, totalSteps - 1 - rise));
    }
    case "step": {
      const epoch = step / stepsPerEpoch;
      const passed = schedule.milestones.filter((m) => epoch >= m).length;
      return schedule.lr * schedule.gamma ** passed;
    }
  }
}

/**
 * Parses a schedule from the command line: `cosine:PEAK[:WARMUP_EPOCHS[:FINAL]]`,
 * `onecycle:PEAK[:PCT_START]`, `constant:LR`, `step:LR:GAMMA:E1,E2,...`.
 */
export function parseSchedule(text: string): Schedule {
  const [kind, ...rest] = text.split(":");
  const nums = rest.map((r, i) => {
    if (kind === "step" && i === 2) return NaN; // milestone list, parsed below
    const v = Number(r);
    if (!Number.isFinite(v)) throw new Error(`schedule '${text}': '${r}' is not a number`);
    return v;
  });
  const need = (n: number, usage: string) => {
    if (rest.length < n) throw new Error(`schedule '${text}': expected ${usage}`);
  };
  switch (kind) {
    case "constant":
      need(1, "constant:LR");
      return { kind, lr: nums[0] };
    case "cosine":
      need(1, "cosine:PEAK[:WARMUP_EPOCHS[:FINAL]]");
      return { kind, peak: nums[0], warmupEpochs: nums[1] ?? 0, final: nums[2] ?? 0 };
    case "onecycle":
      need(1, "onecycle:PEAK[:PCT_START]");
      return { kind, peak: nums[0], pctStart: nums[1] ?? 0.3 };
    case "step": {
      need(3, "step:LR:GAMMA:E1,E2,...");
      const milestones = rest[2].split(",").map(Number);
      if (milestones.some((m) => !Number.isFinite(m))) {
        throw new Error(`schedule '${text}': bad milestone list`);
      }
      return { kind, lr: nums[0], gamma: nums[1], milestones };
    }
    default:
      throw new Error(`schedule '${text}': unknown kind '${kind}' (use constant, cosine, onecycle or step)`);
  }
}
