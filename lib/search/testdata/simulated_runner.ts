/**
 * A SIMULATED trial runner, for tests of the searchers only. Nothing is trained: a trial's
 * validation accuracy is a made-up smooth function of its plan and of how long its "weights" have
 * fine-tuned, plus seeded noise. It is not a model of real training and says nothing about how
 * the searchers fare on real networks.
 *
 * The landscape: site t with setting (alpha, beta) costs accuracy L_t = s_t x alpha^3 x d(beta),
 * with per-site sensitivities s_t (they differ between sites, so mixed per-site settings pay) and
 * d(3) = 0.6, d(2) = 1, d(0) = 2.5. A trial's weights carry, per site, the damage A_t they have
 * adapted to; training for k images moves A_t towards L_t by a factor 1 - exp(-k / tau), and a
 * site keeps only a share `RESIDUAL` of its adapted damage: accuracy = base - sum_t (RESIDUAL x L_t
 * + (1 - RESIDUAL) x max(0, L_t - A_t)) + noise, rounded to a 5,000-image validation subset.
 * Weights copied to a trial with another plan keep their adaptation (changing a site's degree
 * halves it), so PBT's small steps from good weights pay, as they do in practice.
 *
 * @module
 */
import type { Graph } from "../../nn/graph.ts";
import { activationSites } from "../../nn/graph.ts";
import { validatePlan } from "../../nn/plan.ts";
import { mixSeeds } from "../../data/random.ts";
import { SearchRng } from "../rng.ts";
import type { TrialConfig, TrialId, TrialRunner } from "../types.ts";

const DEGREE_DAMAGE: Record<number, number> = { 0: 2.5, 2: 1, 3: 0.6 };
const RESIDUAL = 0.3;
const VALIDATION_IMAGES = 5000;

/** Options of the simulation. */
export interface SimulationOptions {
  readonly graph: Graph;
  readonly seed: number;
  /** Training images the search may use. */
  readonly budget: number;
  /** All-ReLU validation accuracy (default 0.85). */
  readonly baseAccuracy?: number;
  /** Per-site sensitivities s_t (default: a seeded spread in [0.004, 0.06]). */
  readonly sensitivities?: readonly number[];
  /** Images for adaptation to reach 1 - 1/e of the damage (default 2,000). */
  readonly tau?: number;
  /** Standard deviation of the accuracy noise (default 0.002). */
  readonly noise?: number;
}

/** One call the runner received, for checking that two searches made the same calls. */
export type RunnerCall =
  | { kind: "start"; stage: string; configs: TrialConfig[]; from?: TrialId; trials: TrialId[] }
  | { kind: "train"; trials: TrialId[]; images: number; accuracies: number[] }
  | { kind: "exploit"; target: TrialId; source: TrialId; config: TrialConfig }
  | { kind: "stop"; trials: TrialId[] };

interface SimTrial {
  config: TrialConfig;
  /** Adapted damage per site. */
  adapted: number[];
  stopped: boolean;
  trainCalls: number;
}

/** A simulated {@link TrialRunner} (see the module comment). */
export class SimulatedRunner implements TrialRunner {
  readonly calls: RunnerCall[] = [];
  readonly sensitivities: readonly number[];
  readonly #trials = new Map<TrialId, SimTrial>();
  readonly #options: Required<Omit<SimulationOptions, "sensitivities">>;
  #left: number;

  constructor(options: SimulationOptions) {
    this.#options = { baseAccuracy: 0.85, tau: 2000, noise: 0.002, ...options };
    this.#left = options.budget;
    const sites = activationSites(options.graph).length;
    const rng = new SearchRng(mixSeeds(options.seed, 0x5e45));
    this.sensitivities = options.sensitivities ??
      Array.from({ length: sites }, () => 0.004 + 0.056 * rng.float() ** 2);
  }

  start(stage: string, configs: readonly TrialConfig[], from?: TrialId): Promise<TrialId[]> {
    const source = from === undefined ? undefined : this.#get(from);
    const trials = configs.map((config) => {
      validatePlan(this.#options.graph, config.plan);
      const id = `t${this.#trials.size}`;
      const adapted = source ? this.#carry(source, config) : config.plan.sites.map(() => 0);
      this.#trials.set(id, { config, adapted, stopped: false, trainCalls: 0 });
      return id;
    });
    this.calls.push({ kind: "start", stage, configs: [...configs], from, trials });
    return Promise.resolve(trials);
  }

  train(trials: readonly TrialId[], images: number): Promise<number[]> {
    if (trials.length * images > this.#left) {
      throw new Error(`simulation: ${trials.length} x ${images} images asked, ${this.#left} left`);
    }
    this.#left -= trials.length * images;
    const accuracies = trials.map((id) => {
      const t = this.#get(id);
      if (t.stopped) throw new Error(`simulation: trial ${id} is stopped`);
      const damage = this.#damage(t.config);
      const keep = Math.exp(-images / this.#options.tau);
      t.adapted = damage.map((d, s) => d - (d - Math.min(d, t.adapted[s])) * keep);
      const loss = damage.reduce(
        (a, d, s) => a + RESIDUAL * d + (1 - RESIDUAL) * Math.max(0, d - t.adapted[s]),
        0,
      );
      const noise = new SearchRng(mixSeeds(this.#options.seed, Number(id.slice(1)), t.trainCalls++)).normal();
      const accuracy = this.#options.baseAccuracy - loss + this.#options.noise * noise;
      return Math.round(Math.min(1, Math.max(0, accuracy)) * VALIDATION_IMAGES) / VALIDATION_IMAGES;
    });
    this.calls.push({ kind: "train", trials: [...trials], images, accuracies });
    return Promise.resolve(accuracies);
  }

  exploit(target: TrialId, source: TrialId, config: TrialConfig): Promise<void> {
    validatePlan(this.#options.graph, config.plan);
    const t = this.#get(target);
    t.adapted = this.#carry(this.#get(source), config);
    t.config = config;
    this.calls.push({ kind: "exploit", target, source, config });
    return Promise.resolve();
  }

  stop(trials: readonly TrialId[]): Promise<void> {
    for (const id of trials) this.#get(id).stopped = true;
    this.calls.push({ kind: "stop", trials: [...trials] });
    return Promise.resolve();
  }

  budgetLeft(): number {
    return this.#left;
  }

  #get(id: TrialId): SimTrial {
    const t = this.#trials.get(id);
    if (!t) throw new Error(`simulation: no trial ${id}`);
    return t;
  }

  #damage(config: TrialConfig): number[] {
    return config.plan.sites.map((s, i) => this.sensitivities[i] * s.alpha ** 3 * DEGREE_DAMAGE[s.beta]);
  }

  /** A source's adaptation carried to weights running `config` (a degree change halves it). */
  #carry(source: SimTrial, config: TrialConfig): number[] {
    return source.adapted.map((a, s) =>
      config.plan.sites[s].beta === source.config.plan.sites[s].beta ? a : a / 2
    );
  }
}
