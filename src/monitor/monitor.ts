/**
 * `vitrine monitor` without the command line: follows one or more logs
 * from one state directory, polls each in turn, reloads the policy when it
 * changes, and hands alerts to the sinks. `runOnce` is one round (what
 * --once does), `runForever` polls every interval until stopped.
 *
 * Starting is fail-closed (ARCHITECTURE.md, monitor invariant 2): the
 * state must exist and check out, every configured log must already be
 * in it with the same key, and the policy must parse. New states and new
 * logs come only from `initState` / `addLogs` (--init / --add), which
 * audit from the first entry unless given a signed checkpoint to start
 * from, in which case the state records the entries that were skipped.
 */
import { CompactRange, tileHashReader } from '../../merkle/index.js';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { bytesEqual } from '../encoding.js';
import { VitrineError } from '../errors.js';
import { formatVerifier, openCheckpoint, type Verifier } from '../note/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { classOf } from './alert.js';
import { LogAuditor, type AuditProgress } from './auditor.js';
import { OperationalFailure, SecurityFailure } from './failures.js';
import { MonitorMetrics } from './metrics.js';
import type { PolicyFile } from './policy.js';
import { createPool, type AuditPool } from './pool.js';
import { AlertDelivery } from './sinks.js';
import { MonitorState, StateError, type NewLog, type StoredAlert } from './state.js';
import { HttpGet, type HttpGetOptions } from './http-get.js';
import { TileSource, type SignedCheckpoint } from './tiles.js';
import { Gossip, type GossipLog } from './gossip.js';

/** A log on the command line or in the config file. */
export interface FollowedLog {
  readonly url: string;
  readonly logKey: Verifier;
}

/** A configuration mistake found at start (exit 2). */
export class MonitorConfigError extends VitrineError {
  constructor(message: string) {
    super('bad-config', message);
  }
}

export interface MonitorOptions {
  dir: string;
  logs: readonly FollowedLog[];
  policy?: PolicyFile;
  log?: Logger;
  metrics?: MonitorMetrics;
  webhook?: string;
  exec?: string;
  stdout?: (text: string) => void;
  /** Audit worker threads (default: one per core, none for treeOnly; 0 = in the main thread). */
  workers?: number;
  treeOnly?: boolean;
  chunkBundles?: number;
  /** Requests in flight per log (default 8). */
  concurrency?: number;
  /** Continuous mode: raise falling-behind when a catch-up lasts longer (default 300 s). */
  maxLagSeconds?: number;
  /** --once: no falling-behind alerts. */
  once?: boolean;
  paceMs?: number;
  retryBaseMs?: number;
  clientOptions?: HttpGetOptions;
  onProgress?: (p: AuditProgress) => void;
  /** Stops a catch-up at its next commit (shutdown). */
  signal?: AbortSignal;
  /** Gossip peers (monitor URLs): each round pushes our checkpoints and pulls theirs. */
  peers?: readonly string[];
  /** How this monitor names itself in evidence `observed` entries (default "monitor"). */
  self?: string;
  /** Witness mode: the latest checkpoint the witness cosigned for an origin. */
  cosigned?: (origin: string) => string | undefined;
  /** Witness mode: keep a conflicting checkpoint in the witness store too. */
  recordWitnessConflict?: (origin: string, note: string, reason: string) => void;
  /** Timeout of one gossip request (default 10 s). */
  peerTimeoutMs?: number;
}

export interface RunSummary {
  /** Security alerts this run raised or finished delivering, plus blocking security conditions met. */
  security: number;
  /** Operational failures met (log unreachable, rate limited). */
  operational: number;
  audited: number;
  /** Security alerts in the state that nobody has acknowledged (`vitrine monitor ack`), after this round. */
  unacknowledged: number;
}

function client(url: string, opts: HttpGetOptions | undefined): HttpGet {
  // Pushback is retried a little, then reported (rate-limited / log-unreachable) and retried next poll.
  return new HttpGet(url, opts);
}

/**
 * Where to start auditing a log from a signed checkpoint: its right edge,
 * read from the tiles and checked to fold to the signed root.
 */
export async function startFromCheckpoint(log: FollowedLog, note: string, clientOptions?: HttpGetOptions): Promise<NonNullable<NewLog['start']>> {
  let cp;
  try {
    cp = openCheckpoint(note, log.logKey, nodeEd25519);
  } catch (err) {
    throw new MonitorConfigError(`--from-checkpoint: not a checkpoint signed by the key of ${log.logKey.name}: ${(err as Error).message}`);
  }
  if (cp.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new MonitorConfigError('--from-checkpoint: size beyond 2^53-1');
  const checkpoint: SignedCheckpoint = { note, size: Number(cp.size), root: cp.rootHash };
  if (checkpoint.size === 0) return { checkpoint, range: [] };
  const http = client(log.url, clientOptions);
  const source = new TileSource(http);
  let hashes;
  try {
    const read = tileHashReader(checkpoint.size, (tiles) => Promise.all(tiles.map((t) => source.hashTile(t, checkpoint.size, note))));
    hashes = await read(CompactRange.edgeNodes(checkpoint.size));
  } catch (err) {
    if (err instanceof OperationalFailure || err instanceof SecurityFailure) throw new MonitorConfigError(`--from-checkpoint: cannot read the tree's edge from ${log.url}: ${err.message}`);
    throw err;
  } finally {
    http.close();
  }
  const range = hashes.map((h) => h.slice());
  if (!bytesEqual(new CompactRange(checkpoint.size, range).root(), checkpoint.root)) {
    throw new MonitorConfigError(`--from-checkpoint: the tiles ${log.url} serves do not hash to the root of the given checkpoint (size ${checkpoint.size})`);
  }
  return { checkpoint, range };
}

/** The checkpoint notes given with --from-checkpoint, matched to logs by origin. */
async function newLogs(logs: readonly FollowedLog[], fromNotes: readonly string[], clientOptions?: HttpGetOptions): Promise<NewLog[]> {
  const byOrigin = new Map<string, string>();
  for (const note of fromNotes) {
    const origin = note.slice(0, note.indexOf('\n'));
    if (!logs.some((l) => l.logKey.name === origin)) throw new MonitorConfigError(`--from-checkpoint: the checkpoint is for ${JSON.stringify(origin)}, which is not a configured log`);
    if (byOrigin.has(origin)) throw new MonitorConfigError(`--from-checkpoint: two checkpoints for ${origin}`);
    byOrigin.set(origin, note);
  }
  const out: NewLog[] = [];
  for (const l of logs) {
    const note = byOrigin.get(l.logKey.name);
    const base = { origin: l.logKey.name, vkey: formatVerifier(l.logKey), url: l.url };
    out.push(note === undefined ? base : { ...base, start: await startFromCheckpoint(l, note, clientOptions) });
  }
  return out;
}

function checkUnique(logs: readonly FollowedLog[]): void {
  const seen = new Set<string>();
  for (const l of logs) {
    if (seen.has(l.logKey.name)) throw new MonitorConfigError(`log ${l.logKey.name} is configured twice`);
    seen.add(l.logKey.name);
  }
}

/** --init: creates a new state following `logs` (refuses an existing one). */
export async function initState(dir: string, logs: readonly FollowedLog[], fromNotes: readonly string[] = [], clientOptions?: HttpGetOptions): Promise<void> {
  checkUnique(logs);
  if (MonitorState.exists(dir)) throw new StateError(`a monitor state already exists in ${dir}; refusing to overwrite it (drop --init to use it)`);
  MonitorState.create(dir, await newLogs(logs, fromNotes, clientOptions)).close();
}

/** --add: adds the configured logs an existing state does not follow yet. Returns their origins. */
export async function addLogs(dir: string, logs: readonly FollowedLog[], fromNotes: readonly string[] = [], clientOptions?: HttpGetOptions): Promise<string[]> {
  checkUnique(logs);
  const state = MonitorState.open(dir);
  try {
    const known = new Set(state.logs().map((l) => l.origin));
    const fresh = logs.filter((l) => !known.has(l.logKey.name));
    const notes = fromNotes.filter((n) => fresh.some((l) => n.startsWith(`${l.logKey.name}\n`)));
    if (fresh.length > 0) state.addLogs(await newLogs(fresh, notes, clientOptions));
    return fresh.map((l) => l.logKey.name);
  } finally {
    state.close();
  }
}

export class Monitor {
  readonly state: MonitorState;
  readonly metrics: MonitorMetrics;
  readonly #o: MonitorOptions;
  readonly #log: Logger;
  readonly #pool: AuditPool;
  readonly #delivery: AlertDelivery;
  readonly #auditors: LogAuditor[];
  readonly #clients: HttpGet[] = [];
  readonly gossip: Gossip;
  #policyVersion = -1;
  #security = 0;

  private constructor(opts: MonitorOptions, state: MonitorState) {
    this.#o = opts;
    this.state = state;
    this.#log = opts.log ?? silentLogger;
    this.metrics = opts.metrics ?? new MonitorMetrics();
    this.#delivery = new AlertDelivery({
      state,
      dir: opts.dir,
      log: this.#log,
      ...(opts.webhook !== undefined ? { webhook: opts.webhook } : {}),
      ...(opts.exec !== undefined ? { exec: opts.exec } : {}),
      ...(opts.stdout !== undefined ? { stdout: opts.stdout } : {}),
      ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
      onDelivered: (sink, ok) => this.metrics.deliveries.inc({ sink, outcome: ok ? 'delivered' : 'failed' }),
    });
    state.setSinks(this.#delivery.sinks);
    // Tree-only work is two hashes per entry: handing it to threads costs about what it saves.
    this.#pool = createPool(opts.workers ?? (opts.treeOnly ? 0 : undefined));
    const gossipLogs = new Map<string, GossipLog>();
    this.#auditors = opts.logs.map((l) => {
      const origin = l.logKey.name;
      const http = client(l.url, opts.clientOptions);
      this.#clients.push(http);
      const source = new TileSource(http, {
        concurrency: opts.concurrency ?? 8,
        onFetchError: (reason) => this.metrics.fetchErrors.inc({ origin, reason }),
      });
      gossipLogs.set(origin, { logKey: l.logKey, source });
      return new LogAuditor({
        state,
        origin,
        logKey: l.logKey,
        source,
        pool: this.#pool,
        log: this.#log,
        metrics: this.metrics,
        onAlerts: (alerts) => this.#deliver(alerts),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        treeOnly: opts.treeOnly === true,
        ...(opts.chunkBundles !== undefined ? { chunkBundles: opts.chunkBundles } : {}),
        ...(opts.once ? {} : { maxLagMs: (opts.maxLagSeconds ?? 300) * 1000 }),
        ...(opts.paceMs !== undefined ? { paceMs: opts.paceMs } : {}),
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      });
    });
    this.gossip = new Gossip({
      state,
      logs: gossipLogs,
      peers: opts.peers ?? [],
      self: opts.self ?? 'monitor',
      log: this.#log,
      deliver: (alerts) => this.#deliver(alerts),
      ...(opts.cosigned ? { cosigned: opts.cosigned } : {}),
      ...(opts.recordWitnessConflict ? { recordWitnessConflict: opts.recordWitnessConflict } : {}),
      ...(opts.peerTimeoutMs !== undefined ? { timeoutMs: opts.peerTimeoutMs } : {}),
    });
  }

  /** Opens the state and checks it against the configuration. Throws StateError, MonitorConfigError or PolicyError. */
  static open(opts: MonitorOptions): Monitor {
    checkUnique(opts.logs);
    if (opts.logs.length === 0) throw new MonitorConfigError('no log to follow: give --log URL --log-key VKEY (or --config FILE)');
    const state = MonitorState.open(opts.dir);
    let monitor: Monitor | undefined;
    try {
      const log = opts.log ?? silentLogger;
      for (const l of opts.logs) {
        const origin = l.logKey.name;
        const known = state.logs().find((s) => s.origin === origin);
        if (known === undefined) throw new MonitorConfigError(`the state in ${opts.dir} does not follow ${origin}; add it with --add (it is then audited from its first entry)`);
        if (known.vkey !== formatVerifier(l.logKey)) throw new MonitorConfigError(`the state follows ${origin} with key ${known.vkey}, not ${formatVerifier(l.logKey)}`);
        state.setUrl(origin, l.url);
      }
      for (const s of state.logs()) {
        if (!opts.logs.some((l) => l.logKey.name === s.origin)) log('log-not-configured', { origin: s.origin, message: `the state follows ${s.origin}, which is not configured in this run: it is not audited` });
      }
      for (const s of state.logs()) {
        for (const g of state.gaps(s.origin)) {
          log('NOT-AUDITED', { origin: s.origin, from: g.from, to: g.to, reason: g.reason, message: `entries ${g.from}..${g.to - 1} of ${s.origin} were NOT audited: ${g.reason}` });
        }
      }
      opts.policy?.refresh();
      monitor = new Monitor(opts, state);
      monitor.#installPolicy();
      const recovered = monitor.#delivery.recover();
      monitor.#count(recovered);
      for (const a of recovered) log('alert-recovered', { kind: a.alert.kind, origin: a.alert.origin, seq: a.seq });
      return monitor;
    } catch (err) {
      if (monitor) void monitor.close();
      else state.close();
      throw err;
    }
  }

  #installPolicy(): void {
    const p = this.#o.policy;
    if (p === undefined || p.version === this.#policyVersion) return;
    this.#pool.setPolicy(p.spec);
    if (this.#policyVersion !== -1) this.#log('policy-reloaded', { policy: p.path, version: p.version });
    this.#policyVersion = p.version;
  }

  #count(alerts: readonly StoredAlert[]): void {
    for (const a of alerts) if (classOf(a.alert.kind) === 'security') this.#security++;
  }

  #deliver(alerts: StoredAlert[]): void {
    this.#delivery.deliverLocal(alerts);
    this.#count(alerts);
    for (const a of alerts) {
      this.metrics.alerts.inc({ origin: a.alert.origin, kind: a.alert.kind, class: a.alert.class });
      this.#log('alert', { kind: a.alert.kind, class: a.alert.class, origin: a.alert.origin, index: a.alert.index });
    }
    if (this.#delivery.sinks.length > 0) void this.#delivery.pump();
  }

  /** One round: reload the policy if it changed, then poll every log once. Throws PolicyError on a bad policy. */
  async runOnce(): Promise<RunSummary> {
    this.#o.policy?.refresh();
    this.#installPolicy();
    const summary: RunSummary = { security: 0, operational: 0, audited: 0, unacknowledged: 0 };
    for (const a of this.#auditors) {
      if (this.#o.signal?.aborted) break;
      const r = await a.poll();
      summary.security += r.security;
      summary.operational += r.operational;
      summary.audited += r.audited;
    }
    // Gossip after the audit: peers get our newest verified checkpoints; peer failures never stop the audit.
    if (!this.#o.signal?.aborted) {
      try {
        await this.gossip.round(this.#o.signal);
      } catch (err) {
        this.#log('gossip-failed', { message: (err as Error).message });
      }
    }
    summary.security += this.#security;
    this.#security = 0;
    summary.unacknowledged = this.state.unacknowledgedSecurity();
    return summary;
  }

  /** Delivers pending webhook/exec alerts until done or `deadline` (ms epoch); returns how many are left. */
  drain(deadline: number): Promise<number> {
    return this.#delivery.drain(deadline);
  }

  /** Polls every `intervalSeconds` until `signal` aborts. */
  async runForever(intervalSeconds: number, signal: AbortSignal): Promise<void> {
    this.#delivery.start();
    while (!signal.aborted) {
      await this.runOnce();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalSeconds * 1000);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }

  async close(): Promise<void> {
    await this.#delivery.stop();
    await this.#pool.close();
    for (const c of this.#clients) c.close();
    this.#delivery.close();
    this.state.close();
  }
}
