/**
 * A terminal progress line for training: label, bar, step/steps, loss, accuracy, images/s and
 * ETA. On a terminal it redraws in place (carriage return, erase to end of line, at most ~10
 * times a second); otherwise (a log file under nohup) it prints a plain line every `every`
 * seconds and at the end, so logs stay readable.
 *
 * @module
 */

/** Where progress goes and how it is drawn. */
export interface ProgressOptions {
  /** Receives text; default: standard error. */
  write?: (text: string) => void;
  /** Redraw in place; default: whether standard error is a terminal. */
  tty?: boolean;
  /** Seconds between plain lines when not a terminal; default 60. */
  every?: number;
  /** Clock in milliseconds; default `performance.now`. */
  now?: () => number;
}

/** Figures shown after the bar. */
export interface ProgressFigures {
  loss?: number;
  /** Accuracy in [0, 1]. */
  accuracy?: number;
  /** Images per second. */
  rate?: number;
  /** Extra text appended (e.g. the learning rate). */
  note?: string;
}

/** Formats seconds as h:mm:ss or m:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

const encoder = new TextEncoder();

/** One progress line over `total` steps. */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #start: number;
  readonly #startDone: number;
  #lastDraw = -Infinity;
  #line = "";

  /** A progress line labelled `label`; `done` steps may already be behind (a resumed epoch). */
  constructor(label: string, total: number, options: ProgressOptions = {}, done = 0) {
    this.#label = label;
    this.#total = total;
    this.#write = options.write ?? ((t) => Deno.stderr.writeSync(encoder.encode(t)));
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#everyMs = (options.every ?? 60) * 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#startDone = done;
  }

  /** The line for `done` steps (without drawing it). */
  format(done: number, figures: ProgressFigures = {}): string {
    const width = 20;
    const filled = Math.round((width * done) / Math.max(1, this.#total));
    const bar = "#".repeat(filled) + ".".repeat(width - filled);
    const elapsed = (this.#now() - this.#start) / 1000;
    const stepsHere = done - this.#startDone;
    const eta = stepsHere > 0 ? (elapsed / stepsHere) * (this.#total - done) : NaN;
    const parts = [`${this.#label} [${bar}] ${done}/${this.#total}`];
    if (figures.loss !== undefined) parts.push(`loss ${figures.loss.toFixed(4)}`);
    if (figures.accuracy !== undefined) parts.push(`acc ${(100 * figures.accuracy).toFixed(2)}%`);
    if (figures.rate !== undefined) parts.push(`${figures.rate.toFixed(1)} img/s`);
    parts.push(done >= this.#total ? `took ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`);
    if (figures.note) parts.push(figures.note);
    return parts.join("  ");
  }

  /** Reports `done` steps; draws when due (always for the last step). */
  update(done: number, figures: ProgressFigures = {}): void {
    const now = this.#now();
    const last = done >= this.#total;
    const interval = this.#tty ? 100 : this.#everyMs;
    if (!last && now - this.#lastDraw < interval) return;
    this.#lastDraw = now;
    this.#line = this.format(done, figures);
    this.#write(this.#tty ? `\r${this.#line}\x1b[K` : `${this.#line}\n`);
  }

  /** Ends the line on a terminal (plain output already ends each line). */
  finish(): void {
    if (this.#tty && this.#line) this.#write("\n");
    this.#line = "";
  }
}
