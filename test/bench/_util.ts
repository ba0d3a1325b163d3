/** Small helpers shared by the benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** node:crypto Ed25519 verifications per second on this (one) core, for `seconds`. */
export function ed25519VerifyRate(seconds = 1): number {
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv);
  const msg = Buffer.alloc(200, 1);
  const sig = sign(null, msg, priv);
  return rate(() => verify(null, msg, pub, sig), seconds);
}

/** Calls `fn` in a loop for about `seconds`; returns calls per second. */
export function rate(fn: () => unknown, seconds = 1): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export interface Served {
  child: ChildProcess;
  url: string;
  vkey: string;
  startupMs: number;
}

const children = new Set<ChildProcess>();
// A benchmark that dies (Ctrl-C, a closed pipe) must not leave servers behind.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGPIPE', 'SIGHUP'] as const) process.on(sig, () => process.exit(1));

/** Starts `vitrine serve` on 127.0.0.1:0 and resolves when it logs "start". */
/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // utime and stime are fields 14 and 15 of stat(5), here 11 and 12 after the comm field.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a process and of its live children (the HTTP workers of `serve --workers`). */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSecondsOf(pid);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      // ppid is field 4 of stat(5), here 1 after the comm field.
      if (Number(fields[1]) === pid) total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** Resident MiB of a process and its live children. */
export function treeRss(pid: number): number {
  let total = rssOf(pid).rss;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      if (Number(fields[1]) === pid) total += rssOf(Number(d)).rss;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** The 1-minute load average, printed beside figures measured on a shared machine. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
}

/** Starts `vitrine serve` on `dir` (SQLite), or on the storage flags `store` (e.g. --storage URL --key FILE) when given. */
export function startServe(dir: string, origin: string, extra: string[] = [], store?: string[]): Promise<Served> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(process.env['BENCH_SERVE_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== ''), BIN, 'serve', ...(store ?? ['--data', dir]), '--origin', origin, '--listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /"event":"start".*?"listen":"127\.0\.0\.1:(\d+)".*?"verifierKey":"([^"]+)"/.exec(err);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}`, vkey: m[2]!, startupMs: performance.now() - t0 });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}${out}`)));
  });
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * Best rates of `fn` and of its bound, measured in alternating rounds so
 * that both see the same machine state (other load, frequency scaling).
 */
export function alternatingRates(
  fn: () => unknown,
  bound: () => unknown,
  o: { rounds: number; roundMs: number; batch: number; warmup: number },
): [number, number] {
  const round = (f: () => unknown): number => {
    let n = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(o.roundMs) * 1_000_000n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < o.batch; i++) f();
      n += o.batch;
      now = process.hrtime.bigint();
    }
    return n / (Number(now - start) / 1e9);
  };
  for (let i = 0; i < o.warmup; i++) {
    fn();
    bound();
  }
  let a = 0;
  let b = 0;
  for (let r = 0; r < o.rounds; r++) {
    a = Math.max(a, round(fn));
    b = Math.max(b, round(bound));
  }
  return [a, b];
}
