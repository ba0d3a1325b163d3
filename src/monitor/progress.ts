/**
 * Catch-up progress. On a terminal (stderr is a TTY) one line, rewritten in
 * place: a bar, entries audited, rate, ETA. Otherwise a JSON log line every
 * `everyMs` (default 10 s), so logs stay machine-readable.
 */
import type { Logger } from '../util/logger.js';
import type { AuditProgress } from './auditor.js';

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const BAR = 24;

/** A fixed-width text bar for `fraction` (0..1) of the work. */
export function bar(fraction: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.floor(f * BAR);
  return `[${'#'.repeat(full)}${'.'.repeat(BAR - full)}]`;
}

export class ProgressReporter {
  readonly #tty: boolean;
  readonly #write: (s: string) => void;
  readonly #log: Logger;
  readonly #everyMs: number;
  #last = 0;
  #open = false;

  constructor(opts: { tty: boolean; write?: (s: string) => void; log: Logger; everyMs?: number }) {
    this.#tty = opts.tty;
    this.#write = opts.write ?? ((s) => process.stderr.write(s));
    this.#log = opts.log;
    this.#everyMs = opts.everyMs ?? (opts.tty ? 200 : 10_000);
  }

  update(p: AuditProgress): void {
    const now = Date.now();
    const finished = p.position >= p.to;
    if (!finished && now - this.#last < this.#everyMs) return;
    this.#last = now;
    const done = p.position - p.from;
    const total = p.to - p.from;
    const seconds = Math.max((now - p.startedAt) / 1000, 1e-3);
    const rate = done / seconds;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    if (this.#tty) {
      const fraction = total > 0 ? done / total : 1;
      const pct = (100 * fraction).toFixed(1);
      this.#write(`\r\x1b[K${p.origin} ${bar(fraction)} audited ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} entries (${pct}%), ${Math.round(rate).toLocaleString('en-US')}/s, ETA ${duration(eta)}`);
      this.#open = !finished;
      if (finished) this.#write('\n');
    } else if (!finished) {
      this.#log('audit-progress', { origin: p.origin, position: p.position, to: p.to, perSecond: Math.round(rate), etaSeconds: Math.round(eta) });
    }
  }

  /** Ends an open progress line (before other output). */
  end(): void {
    if (this.#open) this.#write('\n');
    this.#open = false;
  }
}
