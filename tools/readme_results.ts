/**
 * `deno task readme` — rewrites the README's results section from the files in results/ and the
 * shipped model's summary, so the README never states a number that results/ does not hold.
 * Paper numbers are quoted from the paper and labelled as such; ours carry machine and commit.
 */
import { LINKS } from "../lib/cost/mod.ts";
import { costPricing } from "../lib/search/cost_source.ts";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { architecture, MODEL_NAMES } from "../lib/nn/architectures.ts";
import {
  reading as validationReading,
  tableRows as validationRows,
} from "../lib/experiments/cost_validation.ts";
import { reading as fig1Reading, tableRows as fig1Rows } from "../lib/experiments/fig1_delphi_layers.ts";
import { FIG4_SEARCHERS, run as fig4Run } from "../lib/experiments/fig4_search_curves.ts";
import { type Fig5Result, reading as fig5Reading } from "../lib/experiments/fig5_ablation.ts";
import type { ProfileName } from "../lib/experiments/profiles.ts";
import { allReluPlan, type Plan, uniformPlan } from "../lib/nn/plan.ts";
import { DEFAULT_FRAC_BITS } from "../lib/mpc/fixed.ts";
import { FLOOD_STATISTICAL_BITS } from "../lib/mpc/he/answer.ts";
import { planSchedule, SCHEDULE_HE_DEGREE } from "../lib/mpc/inference/schedule.ts";
import {
  DEFAULT_ACTIVATION_BOUND,
  heStatisticalDistance,
  inferenceStatisticalDistance,
} from "../lib/mpc/inference/security.ts";
import {
  DELPHI_PUBLISHED_RELU,
  PAPER_CNN7_FIRST_LAYER_SHARE,
  PAPER_FIG1,
  PAPER_FIG4,
  PAPER_LATENCY_TABLES,
  PAPER_THRESHOLD_DROP_POINTS,
  PAPER_UNIT_COSTS_US,
} from "../lib/paper.ts";

const START = "<!-- results:start -->";
const END = "<!-- results:end -->";

// Result files are read loosely: each section checks the fields it shows.
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function readJson(path: string): Promise<Json | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/${path}`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`${path}: ${e instanceof Error ? e.message : e}`);
  }
}

const fmt = (x: unknown, digits = 1): string =>
  typeof x === "number" && Number.isFinite(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: digits })
    : "—";

function provenance(file: Json): string {
  const meta = file.meta ?? {};
  const machine = file.machine ?? meta.machine ?? {};
  const full = String(file.commit ?? meta.commit ?? "unknown");
  const commit = full.slice(0, 12) + (full.endsWith("-dirty") ? " (uncommitted changes)" : "");
  return `_${machine.cpu ?? "unknown CPU"}, ${machine.cores ?? "?"} cores; profile ${meta.profile ?? "?"}; ` +
    `commit ${commit}; ${meta.timestamp ?? ""}_`;
}

function table(header: string[], rows: unknown[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** What replacing every layer does to this project's protocol (measured calibration), if priced. */
function labProtocolNote(points: Json[]): string {
  const [first, last] = [points[0].measuredModel, points[points.length - 1].measuredModel];
  if (!first || !last) return "";
  return `On this project's protocol (cost model, measured calibration) the total goes from ${
    fmt(first.total)
  } s ` +
    `with every ReLU to ${
      fmt(last.total)
    } s with none: its polynomial correlations cost about as much offline ` +
    `as the garbled ReLUs they replace (one HE exchange per prime of its ring), while online activation time ` +
    `falls from ${fmt(first.onlineActivation)} s to ${fmt(last.onlineActivation)} s.`;
}

/** Figure 1 from its result file: latency per k from the cost model, accuracy per fine-tuned network. */
function fig1Section(file: Json): string {
  const result = { config: { profile: file.meta.profile, seed: file.meta.seed }, ...file.data };
  const rows = fig1Rows(result);
  const columns = Object.keys(rows[0] ?? {});
  return `### Figure 1: Delphi replacing the last k ReLU layers of CNN-7 by degree-2 polynomials\n\n` +
    table(columns, rows.map((r) => columns.map((c) => String(r[c] ?? "—")))) +
    `\n\n${fig1Reading(result)} ${
      labProtocolNote(file.data.points)
    } Each network fine-tuned for 5 epochs from the shipped CNN-7 ` +
    `(\`data/pretrained/cnn7-delphi<k>/training.json\` holds its command); test accuracy on the 10,000 test images. ` +
    `See \`notebooks/fig1_delphi_layers.ipynb\`. ${provenance(file)}`;
}

function fig2Section(file: Json): string {
  const cnn7 = file.data.networks.find((n: Json) => n.model === "cnn7");
  const rows = file.data.networks.map((n: Json) => {
    const first = n.layers[0];
    return [n.displayName, n.layers.length, fmt(n.totalRelus, 0), `${fmt(first.share * 100)}%`];
  });
  return `### Figure 2: ReLU units per activation layer\n\n` +
    table(["network", "activation layers", "ReLUs", "first layer's share"], rows) +
    `\n\nThe paper says CNN-7's first layer holds more than ${fmt(PAPER_CNN7_FIRST_LAYER_SHARE * 100, 0)}% ` +
    `of its ReLUs; with MiniONN's "same" ` +
    `padding we count ${fmt(cnn7.layers[0].share * 100)}% (the first two layers together hold ` +
    `${fmt((cnn7.layers[0].share + cnn7.layers[1].share) * 100)}%). ` +
    `See \`notebooks/fig2_relu_distribution.ipynb\`. ${provenance(file)}`;
}

function trainSection(bench: Json | undefined, model: Json | undefined, plan80: Json | undefined): string {
  const parts = ["### Training speed and the pretrained CNN-7"];
  if (bench) {
    const names: [string, string][] = [
      ["cnn7", "CNN-7"],
      ["cnn7_masked", "CNN-7, masked (α 0.5, degree 2)"],
      [
        "resnet32",
        "ResNet-32",
      ],
      ["vgg16", "VGG-16"],
    ];
    const vsPeer = (k: string, key: "train" | "infer") =>
      bench[k][`peer_${key}_img_s`]
        ? `${fmt(bench[k][`peer_${key}_img_s`])} (×${fmt(bench[k][`${key}_vs_peer`], 2)})`
        : "—";
    const rows = names.filter(([k]) => bench[k]).map(([k, label]) => [
      label,
      bench[k].workers ?? "—",
      fmt(bench[k].train_img_s),
      fmt(bench[k].infer_img_s),
      vsPeer(k, "train"),
      vsPeer(k, "infer"),
      bench[k].peak_memory_mib !== undefined ? fmt(bench[k].peak_memory_mib, 0) : "—",
    ]);
    const cKernels: string[] = bench.native?.cKernels ?? [];
    const kernels = bench.native
      ? `native ${bench.native.library} convolutions${cKernels.length ? `; C ${cKernels.join(", ")}` : ""}`
      : "wasm + SIMD";
    parts.push(
      table([
        `model (batch 64, ${kernels})`,
        "workers",
        "train img/s",
        "inference img/s",
        `PyTorch${bench.peer ? ` ${bench.peer.torch}, ${bench.peer.threads} threads` : ""} train (ours ×)`,
        "PyTorch inference (ours ×)",
        "peak memory, MiB (training process)",
      ], rows),
      `Targets on these 2 cores: training and inference at least PyTorch's speed (first bar ×0.8), masked ` +
        `overhead ≤ 15%. ` +
        (bench.rounds > 1
          ? `Each figure is the median of ${bench.rounds} rounds (ours, then PyTorch's, in turn), each ratio ` +
            `the median of the rounds' own ratios. `
          : "") +
        `Measured: masked overhead ${fmt(bench.summary?.masked_train_overhead * 100)}%${
          bench.summary?.masked_train_overhead < 0
            ? " (the masked run was the faster: within run-to-run noise)"
            : ""
        }, ` +
        workerComparison(bench, names) +
        (bench.summary?.conv_gflop_s
          ? `For scale: a CNN-7 training image is ` +
            `${
              fmt(bench.summary.cnn7_train_flop_per_image / 1e6, 0)
            } MFLOP (forward and both gradients), and the ` +
            `forward convolution on CNN-7's largest layer (3×3, 64 → 64 channels, 32×32) runs at ` +
            `${fmt(bench.summary.conv_gflop_s)} GFLOP/s per thread, so two workers doing nothing but that ` +
            `arithmetic would reach ${
              fmt(bench.summary.cnn7_train_img_s_at_conv_rate)
            } img/s; training runs at ` +
            `${
              fmt(bench.cnn7?.train_gflop_s_per_core ?? bench.cnn7?.train_gflop_s_per_worker)
            } GFLOP/s per ` +
            `core, and 130 img/s needs ${fmt(130 * bench.summary.cnn7_train_flop_per_image / (2 * 1e9))}. `
          : "") +
        `From \`results/bench_train.json\`; ${provenance(bench)}`,
    );
    const profiled = names.filter(([k]) => bench[k]?.step_profile);
    if (profiled.length > 0) {
      parts.push(
        "Where one worker's training step goes (its share of a batch, forward, backward and update, timed per " +
          "tfjs kernel on one thread):\n\n" +
          profiled.map(([k, label]) => {
            const p = bench[k].step_profile;
            return `- ${label} (${p.images} images, ${fmt(p.wall_ms, 0)} ms): ` +
              p.kernels.map((c: Json) => `${c.kernel} ${fmt(100 * c.share, 0)}%`).join(", ");
          }).join("\n"),
      );
    }
  } else parts.push("`results/bench_train.json` is not there yet: run `tools/deno task bench:train`.");
  if (model) {
    parts.push(
      `Shipped all-ReLU CNN-7 (\`data/pretrained/cnn7/\`): test accuracy **${
        fmt(model.testAccuracy * 100, 2)
      }%** ` +
        `on CIFAR-10 test_batch (the paper's all-ReLU model: ${PAPER_FIG1.allReluAccuracy}%), ${model.epochs} epochs, seed ${model.config?.seed}, ` +
        `${model.workers} workers, commit ${model.commit} (command and schedule in \`training.json\`, log in \`log.jsonl\`); ` +
        `its training loop ran at a median ${
          fmt(model.medianImagesPerSecond)
        } img/s over the epochs (wall clock, ` +
        `data preparation and checkpoints included; the benchmark above times steps alone).`,
    );
  } else {
    parts.push(
      "No pretrained CNN-7 is shipped yet: its training run (`tools/deno task train --model cnn7 ...`) " +
        "is in progress and resumes from its checkpoints.",
    );
  }
  if (plan80) {
    parts.push(
      `Shipped CNN-7 with a replacement plan (\`data/pretrained/cnn7-plan80/\`, for the secure-inference benchmark): ` +
        `${describePlan(plan80.recipe?.plan)} (not a plan found by search), applied to ` +
        `\`${
          plan80.recipe?.init ?? "freshly initialised weights"
        }\` and fine-tuned ${plan80.epochs} epochs: ` +
        `test accuracy **${
          fmt(plan80.testAccuracy * 100, 2)
        }%**, commit ${plan80.commit} (command in \`training.json\`).`,
    );
  }
  return parts.join("\n\n");
}

/** A plan in words: uniform plans by their ratio and degree, others per layer. */
function describePlan(plan: Json | undefined): string {
  const sites: { alpha: number; beta: number }[] = plan?.sites ?? [];
  if (sites.length === 0) return "an unrecorded plan";
  const [first] = sites;
  if (sites.every((s) => s.alpha === first.alpha && s.beta === first.beta)) {
    return `at every activation layer a fraction ${first.alpha} of the channels (rounded down) replaced by ` +
      `degree-${first.beta} polynomials`;
  }
  return `per layer (ratio, degree): ${sites.map((s) => `(${s.alpha}, ${s.beta})`).join(", ")}`;
}

function gcSection(gc: Json): string {
  const us = gc.perReluMicroseconds;
  const bytes = gc.bytesPerRelu;
  return `### Garbled ReLU (per ReLU, single thread)\n\n` +
    table(["", "ours", "target", "Delphi (published)"], [
      ["garble", `${fmt(us.garble.wallMedian)} µs`, "≤ 17 µs", `~${DELPHI_PUBLISHED_RELU.garbleUs} µs`],
      ["evaluate", `${fmt(us.evaluate.wallMedian)} µs`, "≤ 12 µs", `~${DELPHI_PUBLISHED_RELU.evaluateUs} µs`],
      [
        "offline bytes",
        fmt(bytes.offline, 0),
        "≤ 11 KB",
        `${fmt(DELPHI_PUBLISHED_RELU.offlineGcBytes, 0)} + ${fmt(DELPHI_PUBLISHED_RELU.offlineOtBytes, 0)}`,
      ],
      ["online bytes", fmt(bytes.online, 0), "≤ 0.7 KB", fmt(DELPHI_PUBLISHED_RELU.onlineBytes, 0)],
    ]) +
    `\n\n${gc.circuit.ands} AND gates per ReLU (truncation by ${gc.params.shift} bits inside the circuit); ` +
    `from \`results/bench_gc.json\`; ${provenance(gc)}`;
}

/** A weights directory, or what seeded random weights are good for. */
function weightsLabel(weights: string): string {
  return weights.startsWith("random:") ? "random (timing only)" : `\`${weights}\``;
}

function protocolSection(bench: Json, bheJson: Json | undefined): string {
  const rows = MODEL_NAMES.filter((m) => bench[m]).flatMap((model) => {
    const entry = bench[model], paper = PAPER_LATENCY_TABLES[model].rows;
    const row = (plan: "all_relu" | "plan80", label: string, paperTotal: string) => {
      const r = entry[plan];
      return r
        ? [
          architecture(model).name,
          label,
          fmt(r.offline_s, 2),
          fmt(r.online_s, 2),
          fmt(r.total_s, 2),
          fmt(r.bytes / 2 ** 20, 0),
          weightsLabel(plan === "plan80" ? entry.plan80Weights : entry.weights),
          paperTotal,
        ]
        : [];
    };
    return [
      row("all_relu", "all ReLU", `${fmt(paper.delphi.total)} s (Delphi, its plan)`),
      row(
        "plan80",
        `${fmt((entry.plan80?.fraction_replaced ?? 0.8) * 100, 0)}% of ReLUs replaced`,
        `${fmt(paper.safenet.total)} s (SAFENet, its plan)`,
      ),
    ].filter((r) => r.length);
  });
  const answer = bheJson?.answer;
  return `### Secure inference end to end (two processes over loopback TCP, one thread each)\n\n` +
    table(
      [
        "network",
        "plan",
        "offline s",
        "online s",
        "total s",
        "MiB",
        "weights",
        "paper's total (their machine)",
      ],
      rows,
    ) +
    `\n\nEach time is the median over ${
      bench.cnn7?.all_relu?.runs_total_s?.length ?? "the"
    } runs, so offline + online need not add up to the total. ` +
    (answer
      ? `Circuit privacy (re-randomising and flooding every HE answer) costs ${
        fmt(answer.privateMsPerAnswer - answer.bareMsPerAnswer, 1)
      } ms per answer ciphertext (${fmt(answer.privateMsPerAnswer, 1)} ms against ${
        fmt(answer.bareMsPerAnswer, 1)
      } ms for a bare switch to one prime, \`results/bench_he.json\`), times the answers per inference in the ` +
        `security table below. `
      : "") +
    `Per element: ReLU garble ${fmt(bench.relu?.garble_us)} µs, evaluate ${fmt(bench.relu?.eval_us)} µs, ` +
    `${fmt(bench.relu?.offline_bytes, 0)} B offline, ${fmt(bench.relu?.online_bytes, 0)} B online; ` +
    `degree-2 polynomial online ${fmt(bench.poly2?.online_us, 3)} µs, degree-3 ${
      fmt(bench.poly3?.online_us, 3)
    } µs ` +
    `(both parties' online work on one thread; target ≤ 0.2 µs; the paper's amortised figures: ` +
    `ReLU ${PAPER_UNIT_COSTS_US.relu} µs, degree-3 ${PAPER_UNIT_COSTS_US.degree3} µs); as the server's wall time with the parties in two processes over loopback TCP, ` +
    `8,192-element batches, round trip included: degree 2 ${fmt(bench.poly2?.tcp_server_wall_us, 3)} µs, ` +
    `degree 3 ${fmt(bench.poly3?.tcp_server_wall_us, 3)} µs. ` +
    `Fixed point ${bench.fracBits} fractional bits. The paper's totals are for its own plans and machines ` +
    `(Tables 2-4). From \`results/bench_protocol.json\`; ${provenance(bench)}`;
}

const PLAN_LABELS: Record<string, string> = { all_relu: "all ReLU", plan80: "80% of ReLUs replaced" };

/**
 * Agreement of secure and fixed-point inference with float inference, per plan: from
 * results/agreement_cnn7_<plan>.json (`bench:protocol --agreement-only`) where present, else from
 * the agreement the full bench:protocol run records.
 */
function agreementSection(
  files: Record<string, Json | undefined>,
  bench: Json | undefined,
): string | undefined {
  const rows: unknown[][] = [], sources: string[] = [], disagreements: string[] = [];
  for (const plan of Object.keys(PLAN_LABELS)) {
    const own = files[plan];
    const [file, a] = own?.agreement?.[plan]
      ? [own, own.agreement[plan]]
      : [bench, bench?.cnn7?.[plan]?.agreement];
    if (!file || !a) continue;
    const pct = (x: number | null) => (x === null ? "—" : `${fmt(x * 100)}%`);
    rows.push([
      PLAN_LABELS[plan],
      file.plan80Weights && plan === "plan80" ? file.plan80Weights : file.weights,
      `${a.fixed_vs_float_same_class} / ${a.images}`,
      `${pct(a.float_top1)} / ${pct(a.fixed_top1)}`,
      `${a.secure_same_class_as_float} / ${a.secure_images}`,
      `${a.secure_same_class_as_reference} / ${a.secure_images}`,
      `${a.secure_bit_exact} / ${a.secure_images}`,
      a.secure_max_logit_diff_vs_reference ?? "—",
      a.max_poly_activation ?? "—",
    ]);
    for (const d of a.secure_disagreements ?? []) {
      disagreements.push(
        `${
          PLAN_LABELS[plan]
        }, image ${d.image} (label ${d.label}): secure ${d.secure}, reference ${d.reference}, ` +
          `float ${d.float}, largest logit difference from the reference ${d.max_logit_diff_vs_reference}`,
      );
    }
    sources.push(`${PLAN_LABELS[plan]}: ${provenance(file)}`);
  }
  if (rows.length === 0) return undefined;
  return `### Secure inference agrees with plaintext (CNN-7, CIFAR-10 test images)\n\n` +
    table([
      "plan",
      "weights",
      "fixed point = float (argmax)",
      "top-1 float / fixed",
      "secure = float (argmax)",
      "secure = fixed reference",
      "secure bit-exact",
      "max logit diff secure vs reference",
      "largest polynomial activation",
    ], rows) +
    `\n\nThe first test images of test_batch; "secure" runs the real two-party protocol on them. ` +
    `The last column is the largest |output| of a polynomial neuron over the images: the polynomial ` +
    `protocol's statistical distance per inference (next section) assumes it below ${
      fmt(DEFAULT_ACTIVATION_BOUND, 0)
    }. ` +
    (disagreements.length
      ? `Secure runs whose class differs from the reference's or the float network's: ${
        disagreements.join("; ")
      }. `
      : "") +
    `${sources.join("; ")}`;
}

/** How the validation priced each link, e.g. "Links priced as measured: loopback 15.4 Gbit/s ...". */
function pricedLinks(rows: Json[]): string {
  const links = new Map<string, Json>();
  for (const r of rows) links.set(r.link, r.priced_link);
  const parts = [...links].map(([name, l]) => {
    const rate = l.bandwidth_bytes_s === null
      ? "unlimited"
      : `${(l.bandwidth_bytes_s * 8 / 1e6).toFixed(0)} Mbit/s`;
    return `${name} ${rate}, round trip ${(l.rtt_s * 1000).toFixed(2)} ms (${l.source})`;
  });
  return `Links as priced: ${parts.join("; ")}.`;
}

/** The cost model against the real runs (lib/experiments/cost_validation.ts's result file). */
function validationSection(file: Json): string {
  const result = { config: { profile: file.meta.profile, seed: file.meta.seed }, ...file.data };
  const rows = validationRows(result);
  const columns = Object.keys(rows[0] ?? {});
  const links = [...new Set((file.data.rows as Json[]).map((r) => r.link))].join(", ");
  return `### Cost model against the real protocol (measured calibration; links: ${links})\n\n` +
    table(columns, rows.map((r) => columns.map((c) => String(r[c])))) +
    `\n\n${
      validationReading(result)
    } Predicted / measured seconds; bytes as the relative difference of the ` +
    `prediction. ${
      pricedLinks(file.data.rows)
    } The polynomial protocol's offline HE is priced per ciphertext ` +
    `chunk and each sub-protocol's round trips as it makes them (both checked against counted traffic by tests). ` +
    `Where time still falls short: the unit costs come from in-process microbenchmarks (bench:he, bench:gc), ` +
    `which miss some of the two processes' per-message work; online, partial plans leave few and small garbling ` +
    `batches whose fixed costs the per-ReLU figure does not carry; over the LAN the all-ReLU online phase is ` +
    `over-predicted because its garbling batches are pipelined (transfer overlaps evaluation; the model adds ` +
    `them). See \`notebooks/cost_validation.ipynb\`; ${provenance(file)}`;
}

/**
 * The round trips the link probe measured (results/bench_link.json), which is what the runs met: the
 * emulated delay waits on timers that cannot go much below 2 ms a side, so the LAN's is not 0.5 ms.
 */
function probedRoundTrips(probe: Json | undefined): string {
  const measured = ["lan", "wan"].flatMap((l) => {
    const m = probe?.links?.[l]?.measured;
    if (!m) return [];
    return `${l.toUpperCase()} ${fmt(m.rtt_s * 1000, 1)} ms and ${
      fmt(m.to_client_bytes_s * 8 / 1e6, 0)
    } Mbit/s`;
  });
  return measured.length === 0
    ? ""
    : `As measured between the two processes (\`bench:protocol --probe-links\`): ` +
      `${
        measured.join(", ")
      }; the emulated delay waits on timers that do not go much below 2 ms a side, so the ` +
      `LAN runs met a longer round trip than the preset's. `;
}

/** The end-to-end runs over the shaped LAN and WAN links (bench:protocol --link), where run. */
function linksSection(files: Json[], probe: Json | undefined): string {
  const rows = files.flatMap((file) =>
    MODEL_NAMES.filter((m) => file[m]).flatMap((model) =>
      (["all_relu", "plan80"] as const).filter((p) => file[model][p]).map((plan) => {
        const r = file[model][plan];
        return [
          file.link.name.toUpperCase(),
          architecture(model).name,
          plan === "all_relu" ? "all ReLU" : "80% plan",
          fmt(r.offline_s, 1),
          fmt(r.online_s, 1),
          fmt(r.total_s, 1),
          fmt(r.bytes / 2 ** 20, 0),
        ];
      })
    )
  );
  return `### Secure inference over shaped links (bench:protocol --link)\n\n` +
    table(["link", "network", "plan", "offline s", "online s", "total s", "MiB"], rows) +
    `\n\nLAN: ${fmt(LINKS.lan.bandwidth * 8 / 1e9, 0)} Gbit/s, ${fmt(LINKS.lan.rtt * 1000, 1)} ms; WAN: ` +
    `${fmt(LINKS.wan.bandwidth * 8 / 1e6, 0)} Mbit/s, ${
      fmt(LINKS.wan.rtt * 1000, 0)
    } ms round trip. Bandwidth is ` +
    "limited for real (a veth pair between two network namespaces, a tbf qdisc on each end); the round trip is " +
    "emulated in the transport (each side delays what it receives by half of it; this kernel has no netem). " +
    `${probedRoundTrips(probe)}Same weights as the loopback runs; one run each. ${
      files.map(provenance).join(" ")
    }`;
}

/** The protocol's statistical distances per inference, computed (not measured) from the schedules. */
function securitySection(): string {
  const rows = MODEL_NAMES.flatMap((model) => {
    const graph = architecture(model);
    return [["all ReLU", allReluPlan(graph)], ["80% of channels, degree 2", uniformPlan(graph, 0.8, 2)]].map(
      ([label, plan]) => {
        const he = heStatisticalDistance(planSchedule(graph, plan as Plan));
        const poly = inferenceStatisticalDistance(graph, plan as Plan, DEFAULT_FRAC_BITS);
        return [
          graph.name,
          label as string,
          fmt(he.answers, 0),
          `2^${fmt(he.log2, 1)}`,
          fmt(poly.polyNeurons, 0),
          poly.polyNeurons ? `2^${fmt(poly.log2, 1)}` : "0",
        ];
      },
    );
  });
  return `### Statistical security per inference\n\n` +
    table([
      "network",
      "plan",
      "HE answer ciphertexts",
      "HE answers vs weights",
      "polynomial neurons",
      "polynomial protocol vs input",
    ], rows) +
    `\n\nBounds on the statistical distance of one party's view from one independent of the other's ` +
    `secret, summed over an inference: the client's decryptions of the server's flooded HE answers ` +
    `(2^${Math.log2(SCHEDULE_HE_DEGREE) - (FLOOD_STATISTICAL_BITS + 1)} per answer ciphertext, ` +
    `\`lib/mpc/he/answer.ts\`) and the server's view of the polynomial protocol for activations below ` +
    `${fmt(DEFAULT_ACTIVATION_BOUND, 0)} (\`lib/mpc/inference/security.ts\`); computed from the schedules ` +
    `at f = ${DEFAULT_FRAC_BITS}, not measured.`;
}

/**
 * Figure 4's data at a profile whose figure is not written yet (the long searches finish one
 * after another, over sessions): whichever searches have finished, with the first one's provenance.
 */
async function searchesSoFar(profile: ProfileName): Promise<Json | undefined> {
  const files = await Promise.all(
    FIG4_SEARCHERS.map((s) => readJson(`results/search_${s}_cnn7_${profile}.json`)),
  );
  const first = files.find((f) => f !== undefined);
  if (!first) return undefined;
  const data = await fig4Run({
    profile,
    seed: first.meta.seed,
    readOnly: true,
    resultsDir: `${REPO_ROOT}/results`,
  });
  return { meta: first.meta, data };
}

/** Where searches of the quick profile on other seeds than reproduce's are kept (one folder per seed). */
const SEED_RESULTS = "results/seeds";

/**
 * The quick profile's searches over every seed run: reproduce's (results/) and the extra ones
 * (results/seeds/s<N>/, run with `--results-dir` and `--plans-dir` there), as one line per searcher with the mean. One
 * seed of a budget this small is luck as much as method, so the target is read on the mean too.
 */
async function seedsLine(profile: string): Promise<string | undefined> {
  const dirs = ["results"];
  try {
    for await (const e of Deno.readDir(`${REPO_ROOT}/${SEED_RESULTS}`)) {
      if (e.isDirectory && /^s\d+$/.test(e.name)) dirs.push(`${SEED_RESULTS}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (dirs.length === 1) return undefined;
  const means: Record<string, number> = {};
  const lines: string[] = [];
  let seeds: number[] = [];
  for (const s of FIG4_SEARCHERS) {
    const runs = (await Promise.all(dirs.map((d) => readJson(`${d}/search_${s}_cnn7_${profile}.json`))))
      .filter((f): f is Json => f !== undefined)
      .map((f) => ({ seed: f.data.seed as number, share: f.data.final?.replacedShare ?? 0 }))
      .sort((a, b) => a.seed - b.seed);
    if (runs.length < 2) return undefined;
    seeds = runs.map((r) => r.seed);
    means[s] = runs.reduce((t, r) => t + r.share, 0) / runs.length;
    lines.push(
      `${s.toUpperCase()} ${fmt(100 * means[s])}% (${runs.map((r) => `${fmt(100 * r.share)}%`).join(", ")})`,
    );
  }
  const target = SEARCH_TARGETS[profile];
  const ahead = ["pbt", "drl"].filter((s) => means.btpbt > means[s]).map((s) => s.toUpperCase());
  return `**${profile}, seeds ${
    seeds.join(", ")
  }** (share replaced at the threshold, mean and per seed; a search ` +
    `without a pick counts 0): ${lines.join("; ")}. On the mean, BTPBT ${
      means.btpbt >= target ? "meets" : "misses"
    } the ${fmt(100 * target, 0)}% target and is ${
      ahead.length === 2
        ? "ahead of PBT and DRL"
        : ahead.length
        ? `ahead of ${ahead[0]} only`
        : "ahead of neither"
    }. Extra seeds: \`deno task search --searcher S --profile ${profile} --seed N --results-dir ${SEED_RESULTS}/sN --plans-dir ${SEED_RESULTS}/sN\`.`;
}

/**
 * SAFENet's plan run end to end by this project's protocol (bench:protocol --plans safenet) beside
 * the all-ReLU run, or "" before it ran.
 */
function safenetRun(run: Json | undefined, allRelu: Json | undefined): string {
  if (!run || !allRelu) return "";
  const s = (x: number) => `${fmt(x, 1)} s`;
  // Why the total can rise while the paper's falls: the search prices activations with the paper's costs.
  const why = run.total_s > allRelu.total_s
    ? "; the total rises because this project's garbled ReLU is cheap (Figure 1's note) and the plan's " +
      "polynomials' offline correlations here cost more than the ReLUs they replace, while the search's " +
      "score prices removed activations with the paper's unit costs"
    : "";
  return ` Run end to end by this project's protocol over loopback (\`bench:protocol --models cnn7 ` +
    `--plans safenet --out results/bench_protocol_safenet.json\`, median of ${run.runs_total_s.length} runs): ` +
    `${s(run.total_s)} in all, ${s(run.offline_s)} offline and ${s(run.online_s)} online, against the ` +
    `all-ReLU network's ${s(allRelu.total_s)} (${s(allRelu.offline_s)} and ${s(allRelu.online_s)})${why}.`;
}

/** Results of BTPBT searches priced by this protocol's cost model (`search --cost lab-LINK`). */
const PRICED_RESULT = /^search_btpbt-lab-(loopback|lan|wan)_cnn7_(\w+)\.json$/;

/**
 * Searches scored with this protocol's own prices (`search --cost lab-LINK`), one line each: the
 * pick's share replaced and activation cost removed as priced, its accuracy, and where the pick
 * was published as safenet-lab-LINK and run end to end over that link beside the all-ReLU network
 * (and SAFENet's paper-priced plan) in the same invocation, the measured totals.
 */
async function pricedSearchLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const e of Deno.readDir(`${REPO_ROOT}/results`)) {
    const m = e.name.match(PRICED_RESULT);
    if (!m) continue;
    const [, link, profile] = m;
    const file = (await readJson(`results/${e.name}`))!;
    const d = file.data, f = d.final;
    const pick = f
      ? `its pick replaces ${fmt(100 * f.replacedShare)}% of the ReLUs (${
        f.config.plan.sites.map((x: { alpha: number; beta: number }) =>
          `${fmt(100 * x.alpha, 0)}% deg ${x.beta}`
        )
          .join(", ")
      }) and removes ${
        fmt(100 * f.removedCost)
      }% of the activation cost as the model prices it, at validation ${
        (100 * f.validationAccuracy).toFixed(2)
      }%, test ${d.finalTestAccuracy != null ? (100 * d.finalTestAccuracy).toFixed(2) + "%" : "—"}${
        f.removedCost < 0
          ? " — dearer than all ReLUs as priced, so over this link the all-ReLU network stays the better plan"
          : ""
      }`
      : "no pick reached the threshold";
    // The paper-priced search of the same profile and seed, priced this way: does pricing change the pick?
    const paperPick = (await readJson(`results/search_btpbt_cnn7_${profile}.json`))?.data;
    const paperPlan = paperPick?.seed === d.seed ? paperPick.final?.config.plan : undefined;
    const versus = paperPlan
      ? `; the paper-priced BTPBT search's pick (same profile and seed, ${
        fmt(100 * paperPick.final.replacedShare)
      }% replaced) removes ${
        fmt(
          100 * (await costPricing(`lab-${link}` as "lab-lan")).removedCost(architecture("cnn7"), paperPlan),
        )
      }% priced the same way`
      : "";
    const name = `safenet-lab-${link}`;
    const bench = (await readJson(`results/bench_protocol_${name}.json`))?.cnn7;
    const s = (x: number) => `${fmt(x, 1)} s`;
    const others = [["all_relu", "the all-ReLU network"], ["safenet", "SAFENet's paper-priced plan"]]
      .filter(([k]) => bench?.[k])
      .map(([k, what]) =>
        `${what}'s ${s(bench[k].total_s)} (${s(bench[k].offline_s)}, ${s(bench[k].online_s)})`
      );
    const run = bench?.[name] && others.length > 0
      ? ` Published as \`data/plans/cnn7_${name}.json\` and run end to end over ${link} in one invocation with ` +
        `the plans it is compared with (\`bench:protocol --models cnn7${
          link === "loopback" ? "" : ` --link ${link}`
        } ` +
        `--plans ${
          ["all_relu", "safenet", name].filter((k) => bench[k]).join(",")
        } --out results/bench_protocol_${name}.json\`, ` +
        `medians of ${bench[name].runs_total_s.length}): ${s(bench[name].total_s)} (${
          s(bench[name].offline_s)
        } offline, ` +
        `${s(bench[name].online_s)} online) against ${others.join(" and ")}.`
      : "";
    lines.push(
      `**Scored with this protocol's prices** (${profile}, \`deno task search --searcher btpbt --cost lab-${link} ` +
        `--profile ${profile} --seed ${d.seed}\`): instead of the paper's unit costs, each plan's activation cost is the ${d.reduction}; ${pick}${versus}.${run} ` +
        provenance(file),
    );
  }
  return lines.sort();
}

/**
 * Training speed of two data-parallel workers (one oneDNN thread each) against one worker with
 * both cores' threads, per model measured both ways; each table row is the faster.
 */
function workerComparison(bench: Json, names: [string, string][]): string {
  const ratios = names.filter(([k]) => bench[k]?.by_workers?.["1"] && bench[k]?.by_workers?.["2"])
    .map(([k, label]) =>
      `${label} ×${fmt(bench[k].by_workers["2"].train_img_s / bench[k].by_workers["1"].train_img_s, 2)}`
    );
  return ratios.length
    ? `two workers (one oneDNN thread each) against one worker with both threads, training: ${
      ratios.join(", ")
    }; each row above is the faster configuration. `
    : "";
}

/** The search targets of issue 13, per profile: BTPBT's share replaced at the threshold. */
const SEARCH_TARGETS: Record<string, number> = { quick: 0.5, long: PAPER_FIG4.btpbtReplacedShare };

/**
 * PBT's and DRL's picks against the test threshold: the searches pick on validation accuracy, so
 * a pick may pass there and fall short on the test set.
 */
function othersOnTest(finals: Record<string, Json | null>, testThreshold: number): string {
  const tested = ["pbt", "drl"].filter((s) => finals[s]?.test_accuracy != null);
  if (tested.length === 0) return "";
  const parts = tested.map((s) =>
    `${s.toUpperCase()}'s ${fmt(100 * finals[s]!.test_accuracy, 2)}% ` +
    `(${finals[s]!.test_accuracy >= testThreshold ? "above" : "below"} it)`
  );
  return `; ${parts.join(", ")}`;
}

/**
 * Figures 4 and 5 per profile: each searcher's final pick (share replaced, validation and test
 * accuracy) against the targets, stated as met or not.
 */
function searchSection(
  fig4: Record<string, Json | undefined>,
  fig5: Json | undefined,
  relu: Json | undefined,
  safenet: Json | undefined,
  seeds: string[],
  run: Json | undefined,
  allRelu: Json | undefined,
  priced: string[],
): string {
  const testThreshold = relu ? relu.testAccuracy - PAPER_THRESHOLD_DROP_POINTS / 100 : undefined;
  const rows: unknown[][] = [];
  const verdicts: string[] = [];
  for (const [profile, file] of Object.entries(fig4)) {
    if (!file) continue;
    const d = file.data;
    const finals: Record<string, Json | null> = {};
    for (const s of ["btpbt", "pbt", "drl"]) {
      const f = d.searchers[s]?.final ?? null;
      finals[s] = f;
      rows.push([
        profile,
        fmt(d.budget_images, 0),
        s,
        f ? `${fmt(100 * f.replaced_share)}%` : d.searchers[s] ? "no pick" : "not run yet",
        f ? `${(100 * f.val_accuracy).toFixed(2)}%` : "—",
        f?.test_accuracy != null ? `${(100 * f.test_accuracy).toFixed(2)}%` : "—",
      ]);
    }
    const target = SEARCH_TARGETS[profile];
    if (target === undefined) continue;
    const b = finals.btpbt;
    const share = b?.replaced_share ?? 0;
    const standing = ["pbt", "drl"].map((s) =>
      !d.searchers[s]
        ? `${s.toUpperCase()} not run yet at this profile`
        : `${share > (finals[s]?.replaced_share ?? 0) ? "ahead of" : "not ahead of"} ${s.toUpperCase()}`
    ).join(", ");
    const onTest = profile === "long" && testThreshold !== undefined
      ? ` Its test accuracy is ${
        b?.test_accuracy != null ? fmt(100 * b.test_accuracy, 2) + "%" : "—"
      } against ` +
        `a test threshold of ${
          fmt(100 * testThreshold, 2)
        }% (the shipped all-ReLU CNN-7's minus ${PAPER_THRESHOLD_DROP_POINTS} points)${
          othersOnTest(finals, testThreshold)
        }.`
      : "";
    verdicts.push(
      `**${profile}** (target: BTPBT replaces at least ${
        fmt(100 * target, 0)
      }% at the threshold, ahead of PBT and DRL): ` +
        `BTPBT ${b ? `replaces ${fmt(100 * share)}%` : "has no pick"}: target ${
          share >= target ? "met" : "not met"
        }; ` +
        `${standing}.${onTest} ${provenance(file)}`,
    );
  }
  if (rows.length === 0) return "";
  const parts = [
    "### Plan search on CNN-7 (Figures 4 and 5)",
    table([
      "profile",
      "training images per searcher",
      "searcher",
      "ReLUs replaced",
      "validation acc.",
      "test acc.",
    ], rows),
    "Each search's final pick at the threshold (the all-ReLU network's validation accuracy minus " +
    `${PAPER_THRESHOLD_DROP_POINTS} points), fine-tuned only as far as the search went. The paper's BTPBT replaces ` +
    `~${
      fmt(100 * PAPER_FIG4.btpbtReplacedShare, 0)
    }% after ${PAPER_FIG4.epochs} epochs with ${PAPER_FIG4.workers} workers, ` +
    `PBT and DRL under ${
      fmt(100 * PAPER_FIG4.baselinesReplacedBelow, 0)
    }%. Trials fine-tune from the shipped ` +
    "CNN-7 with distillation from it, batch-norm's moving statistics frozen and gradients clipped: with " +
    "batch statistics, networks with most channels polynomial diverged within a few dozen steps at any " +
    "learning rate (`lib/train/replica.ts` says why), which had capped earlier searches near 30%.",
    ...verdicts,
    ...seeds,
  ];
  if (safenet) {
    const p = safenet.provenance;
    const sites = (safenet.sites as { alpha: number; beta: number }[])
      .map((site, i) => `act${i + 1} ${fmt(100 * site.alpha, 0)}% deg ${site.beta}`).join(", ");
    parts.push(
      `**SAFENet's plan**, \`data/plans/cnn7_safenet.json\` (the ${p.profile} ${p.searcher.toUpperCase()} ` +
        `search's pick, \`${p.command}\`): ${fmt(100 * p.replacedShare)}% of CNN-7's ReLUs replaced ` +
        `(${sites}), validation ${(100 * p.validationAccuracy).toFixed(2)}%, test ${
          p.testAccuracy != null ? (100 * p.testAccuracy).toFixed(2) + "%" : "—"
        }${
          p.weights ? `; its weights are \`${p.weights}\` (\`deno task eval ${p.weights}\`)` : ""
        }. Table 2 prices SAFENet's row with it.${safenetRun(run, allRelu)}`,
    );
  }
  parts.push(...priced);
  if (fig5) {
    const result = {
      config: { profile: fig5.meta.profile, seed: fig5.meta.seed },
      ...fig5.data,
    } as Fig5Result;
    parts.push(
      `Figure 5 ablation: ${fig5Reading(result)} See \`notebooks/fig4_search_curves.ipynb\` and ` +
        `\`notebooks/fig5_ablation.ipynb\`. ${provenance(fig5)}`,
    );
  }
  return parts.join("\n\n");
}

async function main(): Promise<void> {
  const sections = [
    "## Results",
    "Every number below is read from `results/` (regenerate with the tasks named).",
  ];
  const fig1 = await readJson("results/fig1_delphi_layers_quick.json");
  if (fig1) sections.push(fig1Section(fig1));
  const fig2 = await readJson("results/fig2_relu_distribution_quick.json");
  if (fig2) sections.push(fig2Section(fig2));
  sections.push(
    trainSection(
      await readJson("results/bench_train.json"),
      await readJson("data/pretrained/cnn7/training.json"),
      await readJson("data/pretrained/cnn7-plan80/training.json"),
    ),
  );
  const gc = await readJson("results/bench_gc.json");
  if (gc) sections.push(gcSection(gc));
  const protocol = await readJson("results/bench_protocol.json");
  if (protocol) sections.push(protocolSection(protocol, await readJson("results/bench_he.json")));
  const agreement = agreementSection({
    all_relu: await readJson("results/agreement_cnn7_all_relu.json"),
    plan80: await readJson("results/agreement_cnn7_plan80.json"),
  }, protocol);
  if (agreement) sections.push(agreement);
  const linkFiles = [
    await readJson("results/bench_protocol_lan.json"),
    await readJson("results/bench_protocol_wan.json"),
  ]
    .filter((f): f is Json => f !== undefined);
  if (linkFiles.length > 0) sections.push(linksSection(linkFiles, await readJson("results/bench_link.json")));
  const search = searchSection(
    {
      quick: await readJson("results/fig4_search_quick.json"),
      long: await readJson("results/fig4_search_long.json") ?? await searchesSoFar("long"),
    },
    await readJson("results/fig5_ablation_quick.json"),
    await readJson("data/pretrained/cnn7/training.json"),
    await readJson("data/plans/cnn7_safenet.json"),
    [await seedsLine("quick")].filter((l): l is string => l !== undefined),
    (await readJson("results/bench_protocol_safenet.json"))?.cnn7?.safenet,
    protocol?.cnn7?.all_relu,
    await pricedSearchLines(),
  );
  if (search) sections.push(search);
  const validation = await readJson("results/cost_validation_quick.json");
  if (validation) sections.push(validationSection(validation));
  sections.push(securitySection());

  const readmePath = `${REPO_ROOT}/README.md`;
  const readme = await Deno.readTextFile(readmePath);
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
  const next = readme.slice(0, start + START.length) + "\n" + sections.join("\n\n") + "\n" +
    readme.slice(end);
  await Deno.writeTextFile(readmePath, next);
  console.log("README.md results section updated");
}

const USAGE = `usage: deno task readme

Rewrites README.md's results section (between ${START} and ${END}) from the files in results/
and the shipped models' training records.`;

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) console.log(USAGE);
  else if (Deno.args.length) {
    console.error(`readme: unexpected arguments ${Deno.args.join(" ")}\n\n${USAGE}`);
    Deno.exit(2);
  } else await main();
}
