/**
 * Long-running `vitrine` child processes for the witness and gossip tests:
 * start one, wait for a JSON log event on stderr (e.g. the listen address),
 * stop it with a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BIN } from './helpers.js';

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the first stderr JSON event named `event` (and matching `pred`). */
  waitEvent(event: string, timeoutMs?: number, pred?: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startProc(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const waiters: Array<() => void> = [];
  child.stderr!.on('data', (d) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    for (const w of waiters.splice(0)) w();
    resolve(code);
  }));
  const find = (event: string, pred?: (e: Record<string, unknown>) => boolean) => {
    for (const line of err.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const e = JSON.parse(line) as Record<string, unknown>;
        if (e['event'] === event && (pred === undefined || pred(e))) return e;
      } catch {
        // partial line
      }
    }
    return undefined;
  };
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    async waitEvent(event, timeoutMs = 15_000, pred) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const e = find(event, pred);
        if (e) return e;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${event} event (exit ${child.exitCode}); stderr:\n${err.slice(-3000)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 200);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The port in a `listen`/`start` event's "host:port". */
export function portOf(e: Record<string, unknown>): number {
  return Number(String(e['listen']).split(':').pop());
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, stepMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A port free right now on 127.0.0.1 (for processes that must know each other's address before starting). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
