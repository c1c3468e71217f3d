/**
 * A real bandwidth-limited link between two processes on this machine, for benchmarks: two
 * network namespaces joined by a veth pair, each end shaped by a tbf qdisc to the link's rate.
 * The kernel here has no netem, so the round-trip time is not put on the wire: the parties add it
 * in the transport (`receiveDelayMs`, lib/mpc/transport/delay.ts) and results say it is emulated.
 *
 * Needs root and iproute2 (`ip netns`, `tc`); says so, with the fix, when either is missing.
 *
 * @module
 */
import type { Link } from "../lib/cost/mod.ts";

/** Namespace, interface and address of each side. */
const SIDES = {
  server: { ns: "safenet-srv", dev: "sn-srv", address: "10.231.7.1" },
  client: { ns: "safenet-cli", dev: "sn-cli", address: "10.231.7.2" },
} as const;

/** A link set up by {@link openLink}: where the server listens and how to run a party in its namespace. */
export interface NetnsLink {
  readonly link: Link;
  readonly serverHost: string;
  /** The command prefix that runs a program in `role`'s namespace. */
  prefix(role: "server" | "client"): string[];
  /** What the result files record about the link. */
  readonly description: Record<string, unknown>;
  close(): Promise<void>;
}

/** Runs one `ip` or `tc` command; throws naming the step, the command and the fix. */
async function netCommand(args: string[], what: string): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(args[0], { args: args.slice(1), stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new Error(
      `${what}: cannot run ${args[0]} (${(e as Error).message}); a shaped link needs iproute2 ` +
        "(apt-get install iproute2) and root",
    );
  }
  if (!output.success) {
    const err = new TextDecoder().decode(output.stderr).trim();
    throw new Error(
      `${what} failed: \`${args.join(" ")}\`: ${err}; a shaped link needs root (ip netns, tc tbf), ` +
        "or benchmark over loopback (--link loopback)",
    );
  }
}

/** tbf's bucket: at least one scheduler tick of data at the rate, and a few full frames. */
function burstBytes(bytesPerSecond: number): number {
  return Math.max(64 * 1024, Math.ceil(bytesPerSecond * 0.004));
}

/** Sets up the two namespaces for `link` (replacing leftovers of an earlier run). */
export async function openLink(link: Link): Promise<NetnsLink> {
  if (!Number.isFinite(link.bandwidth)) {
    throw new Error(`openLink: the ${link.name} link has no bandwidth limit`);
  }
  await closeNamespaces();
  const { server, client } = SIDES;
  const rate = `${Math.round(link.bandwidth * 8)}bit`;
  const steps: [string[], string][] = [
    [["ip", "netns", "add", server.ns], "creating the server's namespace"],
    [["ip", "netns", "add", client.ns], "creating the client's namespace"],
    [["ip", "link", "add", server.dev, "type", "veth", "peer", "name", client.dev], "creating the veth pair"],
  ];
  for (const side of [server, client]) {
    steps.push(
      [["ip", "link", "set", side.dev, "netns", side.ns], `moving ${side.dev}`],
      [["ip", "-n", side.ns, "addr", "add", `${side.address}/30`, "dev", side.dev], `addressing ${side.dev}`],
      [["ip", "-n", side.ns, "link", "set", side.dev, "up"], `raising ${side.dev}`],
      [["ip", "-n", side.ns, "link", "set", "lo", "up"], `raising lo in ${side.ns}`],
      [
        [
          "tc",
          "-n",
          side.ns,
          "qdisc",
          "add",
          "dev",
          side.dev,
          "root",
          "tbf",
          "rate",
          rate,
          "burst",
          String(burstBytes(link.bandwidth)),
          "latency",
          "200ms",
        ],
        `shaping ${side.dev} to ${rate}/s`,
      ],
    );
  }
  try {
    for (const [args, what] of steps) await netCommand(args, what);
  } catch (e) {
    await closeNamespaces();
    throw e;
  }
  return {
    link,
    serverHost: server.address,
    prefix: (role) => ["ip", "netns", "exec", SIDES[role].ns],
    description: {
      name: link.name,
      bandwidth_bits_s: link.bandwidth * 8,
      rtt_ms: link.rtt * 1000,
      bandwidth_limit: "real: veth pair between two network namespaces, tbf qdisc on each end",
      delay: `emulated in the transport (each side delays what it receives by ${
        link.rtt * 500
      } ms; no netem here)`,
    },
    close: closeNamespaces,
  };
}

/** Deletes the namespaces (and with them the veth pair), if they exist. */
async function closeNamespaces(): Promise<void> {
  for (const side of Object.values(SIDES)) {
    await new Deno.Command("ip", { args: ["netns", "del", side.ns], stdout: "null", stderr: "null" }).output()
      .catch(() => {});
  }
}
