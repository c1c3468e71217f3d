/**
 * The DRL comparator of Figure 4: HAQ's DDPG agent (ddpg.ts) choosing each activation site's
 * setting in turn. One episode walks the sites 0..T-1; at site t the state is the producing
 * layer's description (index, c_in, c_out, stride, kernel, #weights, input h x w; each column
 * min-max normalised over the network's layers, a constant column left as it is, as HAQ does)
 * followed by the previous site's action (zeros at t = 0); the action, in [0, 1] per dimension,
 * maps to alpha_t (21 equal bins over the grid) and, when several degrees are searched, beta_t
 * (equal bins over the degrees). The episode's plan is fine-tuned from the all-ReLU network for
 * `episodeImages` images and evaluated through the runner; every transition of the episode gets
 * the ranked score (eq. 4 minus the problem's threshold penalty) as its reward.
 *
 * Exploration as HAQ: the first `warmupEpisodes` episodes take uniformly random actions and do not
 * update; later episodes take the actor's action perturbed by truncated-normal noise on [0, 1]
 * with sigma = 0.5 x 0.99^(episode - warmup), and make one update per step (T per episode). HAQ's
 * lowering of actions to meet a resource budget has no counterpart here: the threshold is on
 * accuracy, which the penalty handles. Budget: floor(budget / episodeImages) episodes.
 *
 * @module
 */
import type { Degree } from "../nn/approximation.ts";
import { inferShapes } from "../nn/graph.ts";
import { checkDegrees, checkInteger, checkRange } from "./options.ts";
import { Ddpg, HAQ_DDPG } from "./ddpg.ts";
import { SearchRecorder } from "./record.ts";
import type { SearchRng } from "./rng.ts";
import { bestAboveThreshold, rank, type SearchProblem } from "./score.ts";
import { ALPHA_GRID, SEARCH_DEGREES } from "./space.ts";
import type { SearchOutcome, TrialConfig, TrialResult, TrialRunner } from "./types.ts";

/** Options of {@link searchDrl}; the DDPG settings default to HAQ's. */
export interface DrlSearchOptions {
  readonly problem: SearchProblem;
  /** Fine-tuning images of one episode's plan. */
  readonly episodeImages: number;
  /** beta's choices (default {@link SEARCH_DEGREES}); with one, the agent chooses alpha only. */
  readonly degrees?: readonly Degree[];
  /** Default 20. */
  readonly warmupEpisodes?: number;
  /** Initial exploration sigma (default 0.5) and its decay per episode (default 0.99). */
  readonly sigma?: number;
  readonly sigmaDecay?: number;
  /** Hidden width of actor and critic (default 300). */
  readonly hidden?: number;
  readonly actorLr?: number;
  readonly criticLr?: number;
  readonly tau?: number;
  readonly batchSize?: number;
  /** Replay buffer per layer (default 128: 128 x T transitions). */
  readonly bufferPerLayer?: number;
}

/**
 * Per-site features of the layer producing it: index, c_in, c_out, stride, kernel, #weights, input
 * h x w (HAQ's embedding, a dense layer as HAQ writes it: stride 0, kernel 1), min-max normalised
 * per column over the sites.
 */
export function layerFeatures(problem: SearchProblem): number[][] {
  const { graph, sites } = problem;
  const shapes = inferShapes(graph);
  const ops = new Map(graph.ops.map((op) => [op.id, op]));
  const raw = sites.map((site) => {
    const op = ops.get(site.producer)!;
    const [h, w, c] = shapes.get(op.inputs[0])!;
    if (op.kind === "conv") {
      return [site.index, c, site.channels, op.stride, op.kernel, op.kernel ** 2 * c * site.channels, h * w];
    }
    const inputs = h * w * c;
    return [site.index, inputs, site.channels, 0, 1, inputs * site.channels, h * w];
  });
  const columns = raw[0].length;
  for (let j = 0; j < columns; j++) {
    const column = raw.map((r) => r[j]);
    const low = Math.min(...column), high = Math.max(...column);
    if (high > low) { for (const r of raw) r[j] = (r[j] - low) / (high - low); }
  }
  return raw;
}

/** The bin of [0, 1] that `action` falls in, of `count` equal bins. */
function bin(action: number, count: number): number {
  return Math.min(count - 1, Math.floor(action * count));
}

/** HAQ's DDPG search (see the module comment); the final pick is the best episode above the threshold. */
export async function searchDrl(
  runner: TrialRunner,
  options: DrlSearchOptions,
  rng: SearchRng,
): Promise<SearchOutcome> {
  const where = "drl";
  const { problem } = options;
  const episodeImages = checkInteger(where, "episodeImages", options.episodeImages);
  const degrees = checkDegrees(where, options.degrees ?? SEARCH_DEGREES);
  const warmup = checkInteger(where, "warmupEpisodes", options.warmupEpisodes ?? 20, 0);
  const sigma = checkRange(where, "sigma", options.sigma ?? 0.5, Number.EPSILON, 1);
  const sigmaDecay = checkRange(where, "sigmaDecay", options.sigmaDecay ?? 0.99, Number.EPSILON, 1);
  const layers = problem.sites.length;
  const settings = {
    hidden: checkInteger(where, "hidden", options.hidden ?? HAQ_DDPG.hidden),
    actorLr: checkRange(where, "actorLr", options.actorLr ?? HAQ_DDPG.actorLr, 0, 1),
    criticLr: checkRange(where, "criticLr", options.criticLr ?? HAQ_DDPG.criticLr, 0, 1),
    tau: checkRange(where, "tau", options.tau ?? HAQ_DDPG.tau, 0, 1),
    batchSize: checkInteger(where, "batchSize", options.batchSize ?? HAQ_DDPG.batchSize),
    discount: HAQ_DDPG.discount,
    baselineWeight: HAQ_DDPG.baselineWeight,
    bufferSize: layers * checkInteger(where, "bufferPerLayer", options.bufferPerLayer ?? 128),
  };
  const recorder = new SearchRecorder(runner, problem);
  const episodes = Math.floor(recorder.budgetImages / episodeImages);
  if (episodes < 1) {
    throw new Error(
      `${where}: ${recorder.budgetImages} training images do not fit one episode of ${episodeImages}`,
    );
  }

  const features = layerFeatures(problem);
  const actions = degrees.length > 1 ? 2 : 1;
  const agent = new Ddpg(features[0].length + actions, actions, settings, rng);
  const results: TrialResult[] = [];
  for (let episode = 0; episode < episodes; episode++) {
    const states: Float64Array[] = [];
    const chosen: Float64Array[] = [];
    let previous = new Float64Array(actions);
    for (let t = 0; t < layers; t++) {
      const state = Float64Array.from([...features[t], ...previous]);
      const action = episode < warmup
        ? Float64Array.from({ length: actions }, () => rng.float())
        : agent.act(state).map(
          (mu) => rng.truncatedNormal(mu, sigma * sigmaDecay ** (episode - warmup), 0, 1),
        );
      states.push(state);
      chosen.push(action);
      previous = action;
    }
    const config: TrialConfig = {
      plan: {
        model: problem.graph.name,
        sites: chosen.map((a) => ({
          alpha: ALPHA_GRID[bin(a[0], ALPHA_GRID.length)],
          beta: actions > 1 ? degrees[bin(a[1], degrees.length)] : degrees[0],
        })),
      },
    };
    const trials = await runner.start(where, [config]);
    const [result] = await recorder.trainCycle(where, trials, [config], episodeImages);
    await runner.stop(trials);
    results.push(result);
    const reward = rank(problem, result);
    for (let t = 0; t < layers; t++) {
      const last = t === layers - 1;
      agent.observe({
        state: states[t],
        action: chosen[t],
        reward,
        next: states[last ? t : t + 1],
        done: last,
      });
      if (episode >= warmup) agent.update(rng);
    }
  }
  return recorder.outcome(where, bestAboveThreshold(results));
}
