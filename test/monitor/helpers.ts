/**
 * Helpers for the monitor tests: run the monitor in-process for one round
 * (what --once does) collecting the alerts it prints, run the built CLI as
 * a child process, and read a state directory back.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../../src/monitor/alert.js';
import { initState, Monitor, type MonitorOptions, type RunSummary } from '../../src/monitor/monitor.js';
import { PolicyFile } from '../../src/monitor/policy.js';
import { MonitorState } from '../../src/monitor/state.js';
import { parseVerifier } from '../../src/note/index.js';

export const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');

export interface LogRef {
  url: string;
  vkey: string;
}

export interface OnceResult {
  summary: RunSummary;
  /** Alerts printed on stdout during the round. */
  alerts: Alert[];
}

/** One in-process round over `logs`; with `init`, creates the state first. Audits in the main thread unless `workers` is set. */
export async function runOnce(dir: string, logs: LogRef[], opts: { init?: boolean; policy?: string; from?: string[] } & Partial<Omit<MonitorOptions, 'policy'>> = {}): Promise<OnceResult> {
  const followed = logs.map((l) => ({ url: l.url, logKey: parseVerifier(l.vkey) }));
  if (opts.init) await initState(dir, followed, opts.from ?? []);
  const printed: string[] = [];
  const { init: _i, policy, from: _f, ...rest } = opts;
  const monitor = Monitor.open({
    dir,
    logs: followed,
    workers: 0,
    once: true,
    stdout: (t) => printed.push(t),
    clientOptions: { maxTries: 1, timeoutMs: 5000 },
    ...(policy !== undefined ? { policy: new PolicyFile(policy) } : {}),
    ...rest,
  });
  try {
    const summary = await monitor.runOnce();
    await monitor.drain(Date.now() + 5000);
    const alerts = printed.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Alert);
    return { summary, alerts };
  } finally {
    await monitor.close();
  }
}

/** Reads a state directory back (opening it fails closed, as the monitor would). */
export function readState(dir: string): { logs: ReturnType<MonitorState['logs']>; alerts: Alert[]; conflicts: ReturnType<MonitorState['conflicts']>; outbox: number } {
  const s = MonitorState.open(dir);
  try {
    return { logs: s.logs(), alerts: s.alerts().map((a) => a.alert), conflicts: s.conflicts(), outbox: s.outbox().length };
  } finally {
    s.close();
  }
}

/**
 * The alerts in DIR/alerts.jsonl: complete lines only, since a running
 * monitor may be halfway through appending (or was killed there).
 */
export function jsonlAlerts(dir: string): Alert[] {
  const path = join(dir, 'alerts.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Alert);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion. */
export function cli(args: string[], opts: { timeout?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 60_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export function cliSync(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** Alerts of a kind, sorted by index. */
export function ofKind(alerts: readonly Alert[], kind: string): Alert[] {
  return alerts.filter((a) => a.kind === kind).sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
}
