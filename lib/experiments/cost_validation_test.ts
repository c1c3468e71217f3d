import assert from "node:assert/strict";
import { architecture } from "../nn/architectures.ts";
import { allReluPlan } from "../nn/plan.ts";
import { planSchedule } from "../mpc/inference/schedule.ts";
import { price } from "../cost/mod.ts";
import { toyCalibration, unit } from "../cost/testdata/toy.ts";
import { probedLinks } from "../cost/mod.ts";
import { reading, tableRows, validate } from "./cost_validation.ts";

const calibration = toyCalibration({
  "lab.session": unit(1, 800_000, 4_000),
  "lab.query": unit(0.01, 196_000),
  "lab.kernel": unit(0.001),
  "lab.product": unit(0.002),
  "lab.answer": unit(0.01, 0, 131_000),
  "plain.mac": unit(1e-9),
  "share.element": unit(0, 6),
  "gc.relu.offline": unit(2e-5, 1312, 6560),
  "gc.relu.online": unit(7e-6, 5, 656),
});

/** A bench_protocol.json entry for CNN-7 all-ReLU whose numbers are the model's, scaled. */
function benchFile(timeScale: number, byteScale: number) {
  const p = price(planSchedule(architecture("cnn7"), allReluPlan(architecture("cnn7")), 9), {
    variant: "lab",
    calibration,
  });
  const layers = Object.fromEntries(p.sections.map((s) => [s.section, {
    offline_s: s.offline.total_s * timeScale,
    online_s: s.online.total_s * timeScale,
  }]));
  return {
    fracBits: 9,
    cnn7: {
      all_relu: {
        offline_s: p.offline.total_s * timeScale,
        online_s: p.online.total_s * timeScale,
        total_s: p.total_s * timeScale,
        offline_bytes: {
          to_server: p.offline.bytes.toServer * byteScale,
          to_client: p.offline.bytes.toClient,
        },
        online_bytes: { to_server: p.online.bytes.toServer * byteScale, to_client: p.online.bytes.toClient },
        layers,
      },
    },
  };
}

Deno.test("cost validation: predictions beside runs, per layer and in total; the reading names what misses", () => {
  const exact = validate(benchFile(1, 1), calibration);
  assert.equal(exact.length, 1, "only the runs present are validated");
  assert.equal(exact[0].network, "cnn7");
  assert.equal(exact[0].link, "loopback");
  assert.ok(exact[0].layers.length >= 15, "one point per linear layer and activation site");
  assert.match(
    reading({
      config: { profile: "smoke", seed: 0 },
      calibration: "toy",
      rows: exact,
      tolerance: { time: 0.2, bytes: 0.05 },
    }),
    /All 1 runs are predicted/,
  );
  const off = validate(benchFile(1.5, 1.1), calibration);
  const text = reading({
    config: { profile: "smoke", seed: 0 },
    calibration: "toy",
    rows: off,
    tolerance: { time: 0.2, bytes: 0.05 },
  });
  assert.match(text, /cnn7 all_relu loopback total -33\.3%/);
  assert.match(text, /bytes to_server -9\.1%/);
  assert.doesNotMatch(text, /to_client/);
  const [row] = tableRows({
    config: { profile: "smoke", seed: 0 },
    calibration: "toy",
    rows: off,
    tolerance: { time: 0.2, bytes: 0.05 },
  });
  assert.equal(row["total diff"], "-33.3%");
  // Over a WAN link the same run is predicted with the link's transfer and round-trip time added.
  const [wan] = validate(benchFile(1, 1), calibration, "wan");
  assert.equal(wan.link, "wan");
  assert.ok(wan.predicted.total_s > exact[0].predicted.total_s);
  assert.deepEqual(wan.predicted.bytes, exact[0].predicted.bytes);
  assert.equal(wan.priced_link.source, "preset");
});

Deno.test("cost validation: links priced as the probe measured them", () => {
  const links = probedLinks({
    links: {
      loopback: { measured: { rtt_s: 2e-4, to_client_bytes_s: 1e9, to_server_bytes_s: 8e8 } },
      wan: { nominal: { bandwidth_bytes_s: 12.5e6, rtt_s: 0.04 } },
    },
  });
  assert.deepEqual(Object.keys(links), ["loopback"], "only probed links");
  assert.deepEqual(links.loopback, { name: "loopback", bandwidth: 8e8, rtt: 2e-4 }, "the slower direction");
  const [preset] = validate(benchFile(1, 1), calibration);
  const [probed] = validate(benchFile(1, 1), calibration, "loopback", links.loopback);
  assert.deepEqual(probed.priced_link, {
    bandwidth_bytes_s: 8e8,
    rtt_s: 2e-4,
    source: "measured (results/bench_link.json)",
  });
  assert.equal(preset.priced_link.bandwidth_bytes_s, null, "loopback's preset is unlimited");
  // Moving the bytes now costs time: at least the heavier direction's bytes at the rate.
  const bytes = Math.max(probed.predicted.bytes.to_server, probed.predicted.bytes.to_client);
  assert.ok(probed.predicted.total_s - preset.predicted.total_s >= bytes / 8e8 * 0.99);
  assert.throws(
    () =>
      probedLinks({ links: { lan: { measured: { rtt_s: 0, to_client_bytes_s: 0, to_server_bytes_s: 1 } } } }),
    /positive throughput/,
  );
});
