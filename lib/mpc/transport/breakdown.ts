/**
 * How a channel's statistics read in a terminal: the per-section x per-phase table of time,
 * bytes and round trips that `serve` and `client` print after a session, and the units it uses.
 *
 * @module
 */

import type { Phase } from "../channel.ts";
import type { TrafficCounts, TrafficStats } from "./accounting.ts";

/** Bytes in binary units: "812 B", "4.0 KiB", "12.3 MiB", "1.25 GiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 && unit >= 1 ? 2 : 1)} ${units[unit]}`;
}

/** A duration: "0.42 ms", "12.3 ms", "4.56 s", "2.5 min". */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

const PHASES: readonly Phase[] = ["offline", "online"];
const COLUMNS = ["time", "sent", "received", "rounds"] as const;

function phaseCells(counts: TrafficCounts | undefined): string[] {
  if (!counts) return COLUMNS.map(() => "-");
  return [
    formatDuration(counts.timeMs),
    formatBytes(counts.bytesSent),
    formatBytes(counts.bytesReceived),
    String(counts.roundTrips),
  ];
}

/**
 * A plain-text table of time, bytes sent, bytes received and round trips per section (rows,
 * in first-seen order, then a total) and phase (column groups), as seen by one side. Bytes
 * include frame headers. `side` (e.g. "server") goes in the title.
 */
export function formatBreakdown(stats: TrafficStats, side: string): string {
  const sections = [...new Set(stats.sections.map((cell) => cell.section))];
  const rows = sections.map((section) => [
    section,
    ...PHASES.flatMap((phase) =>
      phaseCells(stats.sections.find((cell) => cell.section === section && cell.phase === phase))
    ),
  ]);
  rows.push(["total", ...PHASES.flatMap((phase) => phaseCells(stats.phases[phase]))]);
  const header = ["section", ...PHASES.flatMap(() => COLUMNS)];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  // Column 0 is the label; each phase group starts after a bar.
  const startsGroup = (column: number) => (column - 1) % COLUMNS.length === 0;
  const join = (cells: string[], bar: string, gap: string) =>
    cells.reduce((text, cell, column) => text + (startsGroup(column) ? bar : gap) + cell);
  const line = (cells: string[]) =>
    join(
      cells.map((cell, column) => column === 0 ? cell.padEnd(widths[0]) : cell.padStart(widths[column])),
      " | ",
      "  ",
    );
  const rule = join(widths.map((width) => "-".repeat(width)), "-+-", "--");
  const groupWidth = COLUMNS.reduce((sum, _, i) => sum + widths[1 + i], 2 * (COLUMNS.length - 1));
  const centred = (title: string) =>
    title.padStart(Math.floor((groupWidth + title.length) / 2)).padEnd(groupWidth);
  const groups = " ".repeat(widths[0]) + PHASES.map((phase) => " | " + centred(phase)).join("");
  const total = stats.total;
  return [
    `${side}: ${formatBytes(total.bytesSent)} sent, ${formatBytes(total.bytesReceived)} received, ` +
    `${total.messagesSent + total.messagesReceived} messages, ${formatDuration(total.timeMs)}`,
    groups.trimEnd(),
    line(header),
    rule,
    ...rows.slice(0, -1).map(line),
    rule,
    line(rows[rows.length - 1]),
  ].join("\n");
}
