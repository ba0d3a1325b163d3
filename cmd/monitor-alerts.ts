/**
 * `vitrine monitor alerts` and `vitrine monitor ack`: read the alerts a
 * monitor state holds, and acknowledge them (docs/monitoring.md, "The
 * monitor as a CI gate"). `monitor --once` exits 1 while a security alert
 * stands unacknowledged; an acknowledgement records who and when in the
 * state, so the gate turns green only by someone's recorded decision.
 * Loaded only when one of these subcommands runs.
 */
import { hostname, userInfo } from 'node:os';
import type { Alert } from '../src/monitor/alert.js';
import { controlRequest, type ControlAnswer, type ControlRequest } from '../src/monitor/control.js';
import { MonitorState, StateError, type ListedAlert } from '../src/monitor/state.js';
import { CliError, EXIT_FAIL, EXIT_USAGE, UsageError } from './common.js';
import type { Io } from './io.js';

function openState(dir: string | undefined): MonitorState {
  if (dir === undefined) throw new UsageError('--state <dir> is required');
  try {
    return MonitorState.open(dir);
  } catch (err) {
    if (err instanceof StateError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
}

/**
 * Asks the monitor running on the state, if one does (src/monitor/control.ts);
 * undefined when none runs, and the state is then opened here.
 */
async function askRunning(dir: string | undefined, req: ControlRequest): Promise<ControlAnswer | undefined> {
  if (dir === undefined) throw new UsageError('--state <dir> is required');
  let reply: ControlAnswer | undefined;
  try {
    reply = await controlRequest(dir, req);
  } catch (err) {
    throw new CliError(`cannot reach the monitor running on ${dir}: ${(err as Error).message}`, EXIT_USAGE);
  }
  if (reply !== undefined && !reply.ok) throw new UsageError(reply.error);
  return reply;
}

function isOpen(a: ListedAlert): boolean {
  return a.alert.class === 'security' && a.ack === undefined;
}

function line(a: ListedAlert): string {
  const x = a.alert;
  const where = x.index !== undefined ? ` entry ${x.index}` : '';
  const status = a.ack !== undefined ? `acknowledged by ${a.ack.by} at ${a.ack.at}` : x.class === 'security' ? 'OPEN' : 'open (operational: does not hold the gate)';
  return `${a.seq}\t${x.at}\t${x.class}\t${x.kind}\t${x.origin}${where}\t${status}\n\t${x.message}\n`;
}

export async function listAlerts(opts: { state?: string; open?: boolean; json?: boolean }, io: Io): Promise<void> {
  let alerts: ListedAlert[];
  const reply = await askRunning(opts.state, { op: 'alerts' });
  if (reply !== undefined && 'alerts' in reply) {
    alerts = reply.alerts.map((a) => ({ seq: a.seq, key: '', json: a.json, alert: JSON.parse(a.json) as Alert, ...(a.ack ? { ack: a.ack } : {}) }));
  } else {
    const state = openState(opts.state);
    try {
      alerts = state.listAlerts();
    } finally {
      state.close();
    }
  }
  const open = alerts.filter(isOpen).length;
  if (opts.open) alerts = alerts.filter(isOpen);
  if (opts.json) {
    const out = alerts.map((a) => ({ id: a.seq, acknowledged: a.ack ?? null, alert: JSON.parse(a.json) as unknown }));
    io.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    for (const a of alerts) io.stdout.write(line(a));
    io.stderr.write(`${alerts.length} alert(s) listed, ${open} unacknowledged security alert(s)${open > 0 ? ': monitor --once exits 1 until they are acknowledged (vitrine monitor ack)' : ''}\n`);
  }
  if (open > 0) io.exitCode = EXIT_FAIL;
}

/** Who acknowledges: --by, or user@host of this process. */
function who(by: string | undefined, env: Io['env']): string {
  if (by === undefined) {
    let user: string;
    try {
      user = userInfo().username;
    } catch {
      user = env['USER'] ?? 'unknown';
    }
    return `${user}@${hostname()}`;
  }
  // eslint-disable-next-line no-control-regex
  if (by.trim() === '' || by.length > 200 || /[\u0000-\u001f\u007f]/.test(by)) throw new UsageError('--by: give a name of 1 to 200 characters without control characters');
  return by;
}

export async function ackAlerts(ids: readonly string[], opts: { state?: string; all?: boolean; by?: string; json?: boolean }, io: Io): Promise<void> {
  if (opts.all === true && ids.length > 0) throw new UsageError('give alert ids or --all, not both');
  if (opts.all !== true && ids.length === 0) throw new UsageError('give the ids of the alerts to acknowledge (see vitrine monitor alerts), or --all');
  const seqs = ids.map((id) => {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new UsageError(`${JSON.stringify(id)} is not an alert id (a positive integer, as vitrine monitor alerts lists)`);
    return Number(id);
  });
  const by = who(opts.by, io.env);
  const reply = await askRunning(opts.state, { op: 'ack', ids: opts.all === true ? 'all' : seqs, by });
  const { done, left } = reply !== undefined && 'acknowledged' in reply ? { done: reply.acknowledged, left: reply.unacknowledgedSecurity } : ackOffline(opts.state, opts.all === true ? 'all' : seqs, by);
  if (opts.json) io.stdout.write(`${JSON.stringify({ acknowledged: done, by, unacknowledgedSecurity: left })}\n`);
  else io.stdout.write(`acknowledged ${done.length} alert(s)${done.length > 0 ? ` (${done.join(', ')})` : ''} as ${by}; ${left} unacknowledged security alert(s) left\n`);
  if (left > 0) io.exitCode = EXIT_FAIL;
}

/** Acknowledges in the state itself, when no monitor runs on it. */
function ackOffline(dir: string | undefined, ids: number[] | 'all', by: string): { done: number[]; left: number } {
  const state = openState(dir);
  try {
    const targets = ids === 'all' ? state.listAlerts().filter((a) => a.ack === undefined).map((a) => a.seq) : ids;
    let done: number[];
    try {
      done = state.acknowledge(targets, by);
    } catch (err) {
      if (err instanceof StateError) throw new UsageError(err.message);
      throw err;
    }
    return { done, left: state.unacknowledgedSecurity() };
  } finally {
    state.close();
  }
}
