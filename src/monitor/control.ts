/**
 * The control socket of a running monitor (docs/monitoring.md,
 * "Acknowledging alerts"): STATE/control.sock, a Unix socket that lets
 * `vitrine monitor alerts` and `vitrine monitor ack` work while a monitor
 * holds the state's exclusive lock. The running monitor answers from its
 * own open state, so an acknowledgement goes through the same checked,
 * checksummed transaction as when the monitor is stopped, and takes effect
 * at once (the dashboard and the next --once gate see it).
 *
 * Why a socket in the state directory rather than an HTTP endpoint on
 * --listen: it needs no --listen, is never reachable from the network, and
 * is guarded by the file system exactly as the state is (the directory is
 * mode 0700; the socket is made 0600): whoever may act on it could edit the
 * state anyway. Why not a file the monitor merges at its next poll: the
 * caller gets the answer (unknown ids refused, what is left open) now.
 *
 * Protocol: one JSON request line, one JSON answer line, then the monitor
 * closes the connection. Requests are at most 64 KiB.
 *   {"op": "alerts"}                         → {"ok": true, "alerts": [{"seq", "json", "ack"?}]}
 *   {"op": "ack", "ids": [n...] | "all", "by"} → {"ok": true, "acknowledged": [n], "unacknowledgedSecurity": n}
 *   anything refused                          → {"ok": false, "error": sentence}
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import type { Logger } from '../util/logger.js';
import { StateError, type Ack, type MonitorState } from './state.js';

export const CONTROL_SOCKET = 'control.sock';
const MAX_REQUEST = 64 * 1024;
/** The most a Unix socket path may hold on Linux (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** One alert as the socket carries it: the stored JSON text, so that the client shows it byte for byte. */
export interface WireAlert {
  seq: number;
  json: string;
  ack?: Ack;
}

export type ControlRequest = { op: 'alerts' } | { op: 'ack'; ids: number[] | 'all'; by: string };
export type ControlAnswer =
  | { ok: true; alerts: WireAlert[] }
  | { ok: true; acknowledged: number[]; unacknowledgedSecurity: number }
  | { ok: false; error: string };

/** The path to give to listen/connect: relative to the working directory when the absolute one is too long. */
function socketPath(dir: string): string {
  const full = join(dir, CONTROL_SOCKET);
  if (full.length <= MAX_SOCKET_PATH) return full;
  const rel = relative(process.cwd(), full);
  return rel.length < full.length ? rel : full;
}

function parseRequest(line: string): ControlRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new StateError('the control request is not JSON');
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new StateError('the control request is not a JSON object');
  if (o['op'] === 'alerts') return { op: 'alerts' };
  if (o['op'] === 'ack') {
    const ids = o['ids'];
    const by = o['by'];
    const okIds = ids === 'all' || (Array.isArray(ids) && ids.every((n) => Number.isSafeInteger(n) && (n as number) > 0));
    // eslint-disable-next-line no-control-regex
    if (!okIds || typeof by !== 'string' || by.trim() === '' || by.length > 200 || /[\u0000-\u001f\u007f]/.test(by)) throw new StateError('a malformed ack request');
    return { op: 'ack', ids: ids as number[] | 'all', by };
  }
  throw new StateError(`unknown control operation ${JSON.stringify(o['op'])}`);
}

/** What the monitor answers to one request, from its open state. */
export function answer(state: MonitorState, req: ControlRequest, log: Logger): ControlAnswer {
  try {
    if (req.op === 'alerts') return { ok: true, alerts: state.listAlerts().map((a) => ({ seq: a.seq, json: a.json, ...(a.ack ? { ack: a.ack } : {}) })) };
    const targets = req.ids === 'all' ? state.listAlerts().filter((a) => a.ack === undefined).map((a) => a.seq) : req.ids;
    const acknowledged = state.acknowledge(targets, req.by);
    if (acknowledged.length > 0) log('acknowledged', { ids: acknowledged, by: req.by });
    return { ok: true, acknowledged, unacknowledgedSecurity: state.unacknowledgedSecurity() };
  } catch (err) {
    if (err instanceof StateError) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * Listens on STATE/control.sock for as long as the monitor runs. The caller
 * holds the state's exclusive lock, so a socket file left there belongs to
 * a monitor that died: it is replaced. Resolves with undefined (and logs
 * why) when the socket cannot be made; the monitor runs on without it.
 */
export async function startControl(state: MonitorState, log: Logger): Promise<Server | undefined> {
  const path = socketPath(state.dir);
  try {
    unlinkSync(path);
  } catch {
    // None left over.
  }
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length <= MAX_REQUEST) return;
      socket.removeAllListeners('data');
      let reply: ControlAnswer;
      try {
        if (nl < 0) throw new StateError(`a control request is at most ${MAX_REQUEST} bytes`);
        reply = answer(state, parseRequest(buf.slice(0, nl)), log);
      } catch (err) {
        reply = { ok: false, error: err instanceof StateError ? err.message : `internal error: ${(err as Error).message}` };
      }
      socket.end(`${JSON.stringify(reply)}\n`);
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
  } catch (err) {
    server.close();
    log('control-unavailable', { socket: join(state.dir, CONTROL_SOCKET), message: `vitrine monitor alerts/ack cannot reach this monitor while it runs: ${(err as Error).message}` });
    return undefined;
  }
  log('control', { socket: join(state.dir, CONTROL_SOCKET) });
  return server;
}

/** Stops listening and removes the socket file. */
export async function stopControl(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address === 'string') {
    try {
      unlinkSync(address);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Sends one request to the monitor running on `dir`. Resolves with
 * undefined when none runs there (no socket, or one left by a monitor that
 * died), so the caller opens the state itself.
 */
export function controlRequest(dir: string, req: ControlRequest, timeoutMs = 30_000): Promise<ControlAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath(dir));
    let buf = '';
    let connected = false;
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`the monitor running on ${dir} did not answer within ${timeoutMs / 1000} s`)));
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(req)}\n`);
    });
    socket.on('data', (chunk: string) => (buf += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(err);
    });
    socket.on('close', () => {
      if (!connected) return;
      const nl = buf.indexOf('\n');
      try {
        if (nl < 0) throw new Error('no answer');
        resolve(JSON.parse(buf.slice(0, nl)) as ControlAnswer);
      } catch {
        reject(new Error(`the monitor running on ${dir} gave no valid answer on its control socket`));
      }
    });
  });
}
