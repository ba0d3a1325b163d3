/**
 * The body of `vitrine monitor` (cmd/monitor.ts holds its flags). Kept in
 * its own module so that the monitor's dependencies (express, SQLite,
 * prom-client, worker pool) load only when the command runs, and the
 * offline commands (`verify`, `sign`) start fast.
 */
import { readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Server } from 'node:http';
import { createHttpServer } from '../src/http/server.js';
import { dirname, join, resolve } from 'node:path';
import { createMonitorHandler } from '../src/http/monitor-app.js';
import { DashboardSource } from '../src/monitor/dashboard.js';
import { MonitorMetrics } from '../src/monitor/metrics.js';
import { addLogs, initState, Monitor, MonitorConfigError, type FollowedLog } from '../src/monitor/monitor.js';
import { PolicyError, PolicyFile } from '../src/monitor/policy.js';
import { ProgressReporter } from '../src/monitor/progress.js';
import { StateError } from '../src/monitor/state.js';
import { startControl, stopControl } from '../src/monitor/control.js';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { cosignerVerifier, formatVerifier, parseSigner, parseVerifier, TYPE_ED25519, type Signer, type Verifier } from '../src/note/index.js';
import { SqliteWitnessStore } from '../src/witness/sqlite-store.js';
import { Witness } from '../src/witness/witness.js';
import { jsonLogger, type Logger } from '../src/util/logger.js';
import { CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError } from './common.js';
import { listenRefusal, parseListen } from './serve.js';

export interface MonitorFlags {
  state: string;
  log: string[];
  logKey: string[];
  config?: string;
  policy?: string;
  interval: number;
  once?: boolean;
  json?: boolean;
  init?: boolean;
  add?: boolean;
  fromCheckpoint: string[];
  webhook?: string;
  exec?: string;
  listen?: string;
  maxLag: number;
  workers?: number;
  treeOnly?: boolean;
  chunkBundles?: number;
  paceMs?: number;
  deliveryTimeout: number;
  retryBaseMs?: number;
  witnessKey?: string;
  peer: string[];
  peerTimeout: number;
}

const MAX_SMALL_FILE = 1 << 20;

function readSmall(path: string, what: string): string {
  try {
    if (statSync(path).size > MAX_SMALL_FILE) throw new UsageError(`${what}: ${path} is larger than 1 MiB`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** A log key given as a vkey, or as the path of a file holding one. */
function readLogKey(value: string, where: string): Verifier {
  let v: Verifier;
  try {
    v = parseVerifier(value);
  } catch (direct) {
    let text: string;
    try {
      text = readSmall(value, where);
    } catch {
      throw new UsageError(`${where}: ${JSON.stringify(value.slice(0, 100))} is neither a valid vkey (${(direct as Error).message}) nor a readable key file`);
    }
    try {
      v = parseVerifier(text.trim());
    } catch (err) {
      throw new UsageError(`${where}: ${value} does not hold a valid vkey: ${(err as Error).message}`);
    }
  }
  if (v.type !== TYPE_ED25519) throw new UsageError(`${where}: must be an Ed25519 (type 0x01) log key`);
  return v;
}

function checkUrl(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${where}: ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${where}: must be an http or https URL`);
  return url;
}

/** The config file: {"logs": [{"url": "...", "key": "<vkey or key file>"}], "policy": "<file>"}, paths relative to it. */
function readConfig(path: string): { logs: FollowedLog[]; policy?: string } {
  let value: unknown;
  try {
    value = JSON.parse(readSmall(path, '--config'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--config: ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const o = value as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`--config: ${path} must hold a JSON object`);
  for (const k of Object.keys(o)) if (k !== 'logs' && k !== 'policy') throw new UsageError(`--config: unknown field ${JSON.stringify(k)} (allowed: logs, policy)`);
  const base = dirname(resolve(path));
  if (!Array.isArray(o['logs'])) throw new UsageError('--config: "logs" must be an array of {"url", "key"}');
  const logs = (o['logs'] as unknown[]).map((l, i) => {
    const e = l as Record<string, unknown>;
    const where = `--config logs[${i}]`;
    if (typeof e !== 'object' || e === null || typeof e['url'] !== 'string' || typeof e['key'] !== 'string' || Object.keys(e).some((k) => k !== 'url' && k !== 'key')) {
      throw new UsageError(`${where}: must be {"url": "...", "key": "<vkey or key file>"}`);
    }
    const key = e['key'] as string;
    const logKey = key.includes('+') ? readLogKey(key, where) : readLogKey(resolve(base, key), where);
    return { url: checkUrl(e['url'] as string, where), logKey };
  });
  const policy = o['policy'];
  if (policy !== undefined && typeof policy !== 'string') throw new UsageError('--config: "policy" must be a file path');
  return policy === undefined ? { logs } : { logs, policy: resolve(base, policy) };
}

function followed(flags: MonitorFlags): { logs: FollowedLog[]; policy?: string } {
  if (flags.log.length !== flags.logKey.length) throw new UsageError(`give one --log-key per --log (got ${flags.log.length} --log and ${flags.logKey.length} --log-key)`);
  const fromConfig = flags.config !== undefined ? readConfig(flags.config) : { logs: [] as FollowedLog[] };
  const logs = [
    ...fromConfig.logs,
    ...flags.log.map((url, i) => ({ url: checkUrl(url, '--log'), logKey: readLogKey(flags.logKey[i]!, '--log-key') })),
  ];
  if (logs.length === 0) throw new UsageError('no log to follow: give --log URL --log-key VKEY (repeat for more logs), or --config FILE');
  const policy = flags.policy ?? fromConfig.policy;
  return policy === undefined ? { logs } : { logs, policy };
}

/** Start-up problems that are the operator's to fix: exit 2 with the message. */
export function asStartupError(err: unknown): unknown {
  if (err instanceof StateError || err instanceof MonitorConfigError || err instanceof PolicyError) return new CliError(err.message, EXIT_USAGE);
  return err;
}

/** The witness skey: a file of mode 0600 (refused if group or others can read it), holding one Ed25519 skey. */
function readWitnessKey(path: string): Signer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new UsageError(`--witness-key: cannot read ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) throw new CliError(`refusing to start: the witness key ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`, EXIT_USAGE);
  try {
    return parseSigner(readSmall(path, '--witness-key').trim(), nodeEd25519);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--witness-key: ${path} does not hold a valid skey: ${(err as Error).message}`);
  }
}

interface WitnessMode {
  witness: Witness;
  store: SqliteWitnessStore;
  db: Database.Database;
}

/** DIR/witness.db, apart from the checksummed state.db (WAL, synchronous=FULL: cosigned means on disk). */
function openWitness(dir: string, signer: Signer, logs: readonly FollowedLog[]): WitnessMode {
  let db: Database.Database | undefined;
  try {
    db = new Database(join(dir, 'witness.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const store = new SqliteWitnessStore(db);
    return { witness: new Witness({ signer, logs: logs.map((l) => l.logKey), store, ed: nodeEd25519 }), store, db };
  } catch (err) {
    db?.close();
    throw new CliError(`cannot open the witness database ${join(dir, 'witness.db')}: ${(err as Error).message}`, EXIT_USAGE);
  }
}

async function listen(value: string, monitor: Monitor, log: Logger, witness: Witness | undefined): Promise<Server> {
  const { host, port } = parseListen(value);
  const dashboard = new DashboardSource({ state: monitor.state, gossip: monitor.gossip, ...(witness ? { witness } : {}) });
  const app = createMonitorHandler({
    checkpoint: (h) => monitor.state.checkpointFor(h),
    registry: monitor.metrics.registry,
    log,
    gossip: monitor.gossip,
    ...(witness ? { witness } : {}),
    status: () => dashboard.status(),
  });
  const server = createHttpServer(app);
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolveListen());
    });
  } catch (err) {
    const refusal = listenRefusal(err, host, port);
    throw refusal === undefined ? err : new CliError(refusal);
  }
  const address = server.address();
  log('listen', { listen: `${host}:${typeof address === 'object' && address ? address.port : port}` });
  return server;
}

export async function run(flags: MonitorFlags): Promise<void> {
  if (flags.json && !flags.once) throw new UsageError('--json applies to --once; a running monitor prints its alerts as JSON lines already');
  if (flags.init && flags.add) throw new UsageError('--init creates a new state and --add extends an existing one: give only one');
  if (flags.fromCheckpoint.length > 0 && !flags.init && !flags.add) throw new UsageError('--from-checkpoint applies when a log is first added: use it with --init or --add');
  const { logs, policy: policyPath } = followed(flags);
  if (flags.witnessKey !== undefined && flags.listen === undefined) throw new UsageError('--witness-key needs --listen: the witness answers POST /add-checkpoint there');
  const peers = flags.peer.map((p) => checkUrl(p, '--peer'));
  const witnessSigner = flags.witnessKey !== undefined ? readWitnessKey(flags.witnessKey) : undefined;
  const tty = process.stderr.isTTY === true;
  const baseLog = jsonLogger();
  const reporter = new ProgressReporter({ tty, log: baseLog });
  // A log line first ends an open progress line.
  const log: Logger = (event, fields) => {
    reporter.end();
    baseLog(event, fields);
  };
  const fromNotes = flags.fromCheckpoint.map((f) => readSmall(f, '--from-checkpoint'));
  try {
    if (flags.init) {
      await initState(flags.state, logs, fromNotes);
      log('state-created', { state: flags.state, logs: logs.map((l) => l.logKey.name), fromCheckpoint: fromNotes.length > 0 });
    } else if (flags.add) {
      const added = await addLogs(flags.state, logs, fromNotes);
      log('logs-added', { state: flags.state, logs: added });
    }
  } catch (err) {
    throw asStartupError(err);
  }

  let wm: WitnessMode | undefined;
  if (witnessSigner !== undefined) {
    wm = openWitness(flags.state, witnessSigner, logs);
    const vkey = formatVerifier(cosignerVerifier(witnessSigner));
    log('witness-key', { name: witnessSigner.name, vkey, message: `this monitor cosigns as ${vkey}; give that vkey to log operators (serve --witness URL=VKEY) and verifiers (verify --witness VKEY)` });
  }
  const witnessStore = wm?.store;
  const self = flags.listen !== undefined ? `monitor ${witnessSigner?.name ?? flags.listen}` : 'monitor';

  const controller = new AbortController();
  // --once --json: the alerts printed during the run go into the one document printed at its end.
  const printed: unknown[] = [];
  const collectAlerts = (text: string) => {
    for (const l of text.split('\n')) if (l !== '') printed.push(JSON.parse(l) as unknown);
  };
  let monitor: Monitor;
  try {
    monitor = Monitor.open({
      dir: flags.state,
      logs,
      ...(policyPath !== undefined ? { policy: new PolicyFile(policyPath) } : {}),
      log,
      metrics: new MonitorMetrics({ processMetrics: true }),
      ...(flags.webhook !== undefined ? { webhook: checkUrl(flags.webhook, '--webhook') } : {}),
      ...(flags.exec !== undefined ? { exec: flags.exec } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      treeOnly: flags.treeOnly === true,
      ...(flags.chunkBundles !== undefined ? { chunkBundles: flags.chunkBundles } : {}),
      ...(flags.paceMs !== undefined ? { paceMs: flags.paceMs } : {}),
      ...(flags.retryBaseMs !== undefined ? { retryBaseMs: flags.retryBaseMs } : {}),
      maxLagSeconds: flags.maxLag,
      once: flags.once === true,
      ...(flags.json ? { stdout: collectAlerts } : {}),
      onProgress: (p) => reporter.update(p),
      signal: controller.signal,
      peers,
      self,
      peerTimeoutMs: flags.peerTimeout * 1000,
      ...(witnessStore
        ? {
            cosigned: (origin: string) => witnessStore.latest(origin)?.note,
            recordWitnessConflict: (origin: string, note: string, reason: string) => witnessStore.recordConflict(origin, note, reason),
          }
        : {}),
    });
  } catch (err) {
    wm?.db.close();
    throw asStartupError(err);
  }
  let server: Server | undefined;
  // vitrine monitor alerts/ack reach this monitor here while it holds the state's lock.
  const control = await startControl(monitor.state, log);
  let signalled = false;
  const stop = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log('stopping', { signal });
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  let code = EXIT_OK;
  try {
    if (flags.listen !== undefined) server = await listen(flags.listen, monitor, log, wm?.witness);
    log('monitor-start', { state: flags.state, logs: logs.map((l) => ({ origin: l.logKey.name, url: l.url })), policy: policyPath, once: flags.once === true, peers, witness: wm !== undefined, pid: process.pid });
    if (flags.once) {
      const summary = await monitor.runOnce();
      const left = await monitor.drain(Date.now() + flags.deliveryTimeout * 1000);
      if (left > 0) log('deliveries-pending', { count: left, message: `${left} webhook/exec deliveries are still pending; the next run retries them` });
      // The gate stays red while a security alert stands unacknowledged, not only on the run that raised it.
      code = summary.security > 0 || summary.unacknowledged > 0 ? EXIT_FAIL : summary.operational > 0 || left > 0 || signalled ? EXIT_USAGE : EXIT_OK;
      if (summary.unacknowledged > 0) {
        log('unacknowledged', {
          count: summary.unacknowledged,
          message: `${summary.unacknowledged} security alert(s) not acknowledged: list them with vitrine monitor alerts --state ${flags.state}, then vitrine monitor ack --state ${flags.state} ID|--all`,
        });
      }
      const done = { security: summary.security, operational: summary.operational, unacknowledged: summary.unacknowledged, audited: summary.audited, undelivered: left, exitCode: code };
      log('done', done);
      if (flags.json) process.stdout.write(`${JSON.stringify({ alerts: printed, ...done })}\n`);
    } else {
      await monitor.runForever(flags.interval, controller.signal);
    }
  } catch (err) {
    if (err instanceof PolicyError) {
      log('policy-error', { message: err.message });
      throw new CliError(`stopping: ${err.message}`, EXIT_USAGE);
    }
    throw err;
  } finally {
    reporter.end();
    server?.closeAllConnections();
    server?.close();
    await stopControl(control);
    await monitor.close();
    if (wm) {
      await wm.store.durable().catch(() => {});
      wm.db.close();
    }
  }
  process.exit(code);
}

