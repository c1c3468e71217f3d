/**
 * A search's history: trains a cycle through the runner, scores every result and records it, so
 * that every searcher keeps the same per-cycle record (results/fig4_*.json's `history`).
 *
 * @module
 */
import { scoreTrial, type SearchProblem } from "./score.ts";
import type {
  CycleRecord,
  ExploitRecord,
  SearcherName,
  SearchOutcome,
  TreeRecord,
  TrialConfig,
  TrialId,
  TrialResult,
  TrialRunner,
} from "./types.ts";

/** Records one search's cycles; one per search, created before its first runner call. */
export class SearchRecorder {
  readonly #history: CycleRecord[] = [];
  readonly #budgetImages: number;
  #cycle = 0;

  constructor(readonly runner: TrialRunner, readonly problem: SearchProblem) {
    this.#budgetImages = runner.budgetLeft();
    if (!(Number.isSafeInteger(this.#budgetImages) && this.#budgetImages >= 0)) {
      throw new Error(`runner.budgetLeft() must be a non-negative integer, got ${this.#budgetImages}`);
    }
  }

  /** Training images at the start of the search. */
  get budgetImages(): number {
    return this.#budgetImages;
  }

  /** Training images used so far. */
  get imagesUsed(): number {
    return this.#budgetImages - this.runner.budgetLeft();
  }

  /** Trains `trials` (running `configs`) for `images` each, then scores and records their results. */
  async trainCycle(
    stage: string,
    trials: readonly TrialId[],
    configs: readonly TrialConfig[],
    images: number,
  ): Promise<TrialResult[]> {
    const accuracies = await this.runner.train(trials, images);
    if (accuracies.length !== trials.length) {
      throw new Error(`runner.train returned ${accuracies.length} accuracies for ${trials.length} trials`);
    }
    const cycle = this.#cycle++;
    const imagesUsed = this.imagesUsed;
    const results = trials.map((trial, i) =>
      scoreTrial(this.problem, { trial, stage, cycle, config: configs[i], imagesUsed }, accuracies[i])
    );
    this.#history.push({ stage, cycle, imagesUsed, results, exploits: [] });
    return results;
  }

  /** Notes the exploits made after the latest cycle. */
  recordExploits(exploits: readonly ExploitRecord[]): void {
    const last = this.#history.at(-1);
    if (!last) throw new Error("recordExploits before any cycle");
    last.exploits.push(...exploits);
  }

  /** The search's outcome with everything recorded. */
  outcome(searcher: SearcherName, final: TrialResult | null, tree?: TreeRecord): SearchOutcome {
    return {
      searcher,
      model: this.problem.graph.name,
      threshold: this.problem.threshold,
      reduction: this.problem.pricing.label,
      budgetImages: this.#budgetImages,
      imagesUsed: this.imagesUsed,
      history: this.#history,
      final,
      ...(tree ? { tree } : {}),
    };
  }
}
