/**
 * Alert delivery (docs/formats.md §12). An alert is first committed to the state
 * (in the transaction of the audit step that raised it, with one outbox row
 * per webhook/exec sink); only then is it delivered:
 *
 * - Local sinks, alerts.jsonl then stdout: the line is appended to
 *   DIR/alerts.jsonl and fsynced, the alert is marked written in the state,
 *   then the line goes to stdout. After a crash, alerts committed but not
 *   marked are looked up in the tail of alerts.jsonl by their exact text
 *   (a cut last line is removed first): found ones are only marked, missing
 *   ones are written and printed. So alerts.jsonl holds each alert exactly
 *   once, and stdout never repeats one; a crash in the instant between the
 *   fsync and the stdout write loses that alert on stdout only (it is in
 *   alerts.jsonl and goes to the webhook/exec sinks).
 * - Outbox sinks, webhook (POST of the JSON line) and exec (a shell command
 *   with VITRINE_ALERT_* variables): retried with exponential backoff, the
 *   attempts and next try persisted, so a restart goes on where it stopped.
 *   At least once: a crash between a successful delivery and its removal
 *   from the outbox delivers again; webhook requests carry an
 *   `Idempotency-Key` header (stable per alert) for receivers that dedupe.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { Alert } from './alert.js';
import type { MonitorState, OutboxRow, Sink, StoredAlert } from './state.js';

export const ALERTS_FILE = 'alerts.jsonl';

export interface DeliveryOptions {
  state: MonitorState;
  dir: string;
  log: Logger;
  webhook?: string;
  exec?: string;
  /** Where stdout lines go (default process.stdout). */
  stdout?: (text: string) => void;
  /** First retry delay; doubles per attempt up to retryMaxMs (defaults 1 s, 5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  webhookTimeoutMs?: number;
  execTimeoutMs?: number;
  onDelivered?: (sink: 'webhook' | 'exec', ok: boolean) => void;
}

/** A stable per-alert identifier for webhook receivers. */
export function idempotencyKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Environment variables of an exec sink: VITRINE_ALERT_* for each field that applies. */
export function alertEnv(alert: Alert, file: string): Record<string, string> {
  const env: Record<string, string> = {
    VITRINE_ALERT_KIND: alert.kind,
    VITRINE_ALERT_CLASS: alert.class,
    VITRINE_ALERT_ORIGIN: alert.origin,
    VITRINE_ALERT_MESSAGE: alert.message,
    VITRINE_ALERT_AT: alert.at,
    VITRINE_ALERT_FILE: file,
  };
  if (alert.index !== undefined) env['VITRINE_ALERT_INDEX'] = String(alert.index);
  if (alert.name !== undefined) env['VITRINE_ALERT_NAME'] = alert.name;
  if (alert.digest !== undefined) env['VITRINE_ALERT_DIGEST'] = alert.digest;
  if (alert.keyHash !== undefined) env['VITRINE_ALERT_KEY_HASH'] = alert.keyHash;
  if (alert.checkpoint !== undefined) env['VITRINE_ALERT_CHECKPOINT'] = alert.checkpoint;
  return env;
}

export class AlertDelivery {
  readonly #o: Required<Omit<DeliveryOptions, 'webhook' | 'exec' | 'onDelivered'>> & Pick<DeliveryOptions, 'webhook' | 'exec' | 'onDelivered'>;
  readonly #fd: number;
  readonly #skipped = new Set<number>();
  #pumping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: DeliveryOptions) {
    this.#o = {
      stdout: (t) => process.stdout.write(t),
      retryBaseMs: 1000,
      retryMaxMs: 300_000,
      webhookTimeoutMs: 10_000,
      execTimeoutMs: 60_000,
      ...opts,
    };
    this.#fd = openSync(join(opts.dir, ALERTS_FILE), 'a+', 0o600);
  }

  /** The outbox sinks of this run. */
  get sinks(): Sink[] {
    const out: Sink[] = [];
    if (this.#o.webhook !== undefined) out.push({ sink: 'webhook', target: this.#o.webhook });
    if (this.#o.exec !== undefined) out.push({ sink: 'exec', target: this.#o.exec });
    return out;
  }

  /** Writes alerts to alerts.jsonl (durably), marks them, then prints them. */
  deliverLocal(alerts: readonly StoredAlert[]): void {
    if (alerts.length === 0) return;
    const buf = Buffer.from(alerts.map((a) => `${a.json}\n`).join(''));
    for (let o = 0; o < buf.length; ) o += writeSync(this.#fd, buf, o, buf.length - o);
    fsyncSync(this.#fd);
    this.#o.state.markLocal(alerts);
    this.#o.stdout(buf.toString());
  }

  /**
   * Finishes the local delivery of alerts committed before a crash. Returns
   * the alerts that were printed now (they had not reached alerts.jsonl).
   */
  recover(): StoredAlert[] {
    const pending = this.#o.state.undeliveredLocal();
    if (pending.length === 0) return [];
    // A cut last line can only belong to an unmarked alert: drop it, it is written again below.
    let size = fstatSync(this.#fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.#fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        const tail = readTail(this.#fd, size, Math.min(size, 1 << 20));
        const nl = tail.lastIndexOf(0x0a);
        size = nl < 0 ? size - tail.length : size - tail.length + nl + 1;
        ftruncateSync(this.#fd, size);
        fsyncSync(this.#fd);
      }
    }
    const want = pending.reduce((n, a) => n + Buffer.byteLength(a.json) + 1, 0);
    const lines = new Set(readTail(this.#fd, size, Math.min(size, want + 1)).toString().split('\n'));
    const written = pending.filter((a) => lines.has(a.json));
    const missing = pending.filter((a) => !lines.has(a.json));
    this.#o.state.markLocal(written);
    this.deliverLocal(missing);
    return missing;
  }

  #configured(row: OutboxRow): boolean {
    return this.sinks.some((s) => s.sink === row.sink && s.target === row.target);
  }

  /** Outbox rows this run can deliver. */
  pending(): OutboxRow[] {
    const rows = this.#o.state.outbox();
    for (const r of rows) {
      if (!this.#configured(r) && !this.#skipped.has(r.id)) {
        this.#skipped.add(r.id);
        this.#o.log('outbox-skipped', { sink: r.sink, seq: r.seq, message: `delivery to ${r.sink} ${r.sink === 'webhook' ? r.target : ''} is pending but that sink is not configured in this run` });
      }
    }
    return rows.filter((r) => this.#configured(r));
  }

  /** Attempts every due delivery once, in order. */
  pump(): Promise<void> {
    this.#pumping ??= this.#pump().finally(() => (this.#pumping = undefined));
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    for (const row of this.pending()) {
      if (row.nextAt > Date.now()) continue;
      let error: string | undefined;
      try {
        if (row.sink === 'webhook') await this.#webhook(row);
        else await this.#exec(row);
      } catch (err) {
        error = (err as Error).message;
      }
      this.#o.onDelivered?.(row.sink, error === undefined);
      if (error === undefined) {
        this.#o.state.outboxDone(row.id);
        this.#o.log('alert-delivered', { sink: row.sink, seq: row.seq, attempts: row.attempts + 1 });
      } else {
        const attempts = row.attempts + 1;
        const delay = Math.min(this.#o.retryBaseMs * 2 ** Math.min(attempts - 1, 30), this.#o.retryMaxMs);
        this.#o.state.outboxRetry(row.id, attempts, Date.now() + delay, error);
        this.#o.log('alert-delivery-failed', { sink: row.sink, seq: row.seq, attempts, retryInMs: delay, message: error });
      }
    }
  }

  /** When the next delivery is due (ms epoch), or undefined if nothing is pending. */
  nextDue(): number | undefined {
    const rows = this.pending();
    return rows.length === 0 ? undefined : Math.min(...rows.map((r) => r.nextAt));
  }

  /** Delivers until the outbox is empty or `deadline` (ms epoch) passes. Returns the deliveries left. */
  async drain(deadline: number): Promise<number> {
    for (;;) {
      await this.pump();
      const due = this.nextDue();
      if (due === undefined) return 0;
      if (due > deadline) return this.pending().length;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
  }

  /** Keeps pumping in the background (continuous mode). */
  start(everyMs = 1000): void {
    this.#timer ??= setInterval(() => void this.pump(), everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pumping;
  }

  close(): void {
    closeSync(this.#fd);
  }

  async #webhook(row: OutboxRow): Promise<void> {
    let res: Response;
    try {
      res = await fetch(row.target, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey(row.key) },
        body: row.json,
        signal: AbortSignal.timeout(this.#o.webhookTimeoutMs),
      });
      await res.arrayBuffer();
    } catch (err) {
      throw new Error(`webhook unreachable: ${(err as Error).message}`);
    }
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered ${res.status}`);
  }

  async #exec(row: OutboxRow): Promise<void> {
    const alert = JSON.parse(row.json) as Alert;
    const dir = join(this.#o.dir, 'exec');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `alert-${row.seq}.json`);
    writeFileSync(file, `${row.json}\n`, { mode: 0o600 });
    const env: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VITRINE_ALERT_')) env[k] = v;
    Object.assign(env, alertEnv(alert, file));
    try {
      await new Promise<void>((resolve, reject) => {
        // The command's output goes to stderr: stdout carries only alerts.
        const child = spawn(row.target, { shell: true, env, stdio: ['ignore', 2, 2] });
        const timer = setTimeout(() => child.kill('SIGKILL'), this.#o.execTimeoutMs);
        child.on('error', (err) => {
          clearTimeout(timer);
          reject(new Error(`exec failed to start: ${err.message}`));
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`exec command exited with ${signal ?? `code ${code}`}`));
        });
      });
    } finally {
      rmSync(file, { force: true });
    }
  }
}

function readTail(fd: number, size: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, buf, got, n - got, size - n + got);
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}
