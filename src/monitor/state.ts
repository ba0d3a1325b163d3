/**
 * The monitor's persistent state (ARCHITECTURE.md, monitor invariants 2
 * and 3): one SQLite file, DIR/state.db, in WAL mode with synchronous=FULL
 * and an exclusive lock (one monitor per state).
 *
 * Per log: the last verified checkpoint (full signed note), the checkpoint
 * being audited towards (the target), the audit position, the compact range
 * of the tree rebuilt up to that position, the count of entries audited,
 * where the audit started, and open operational episodes. Besides: every
 * alert raised (unique dedupe key), the outbox of webhook/exec deliveries,
 * conflicting checkpoints with their evidence, and the ranges of entries
 * that were not audited (--from-checkpoint, --tree-only).
 *
 * Every change of a log's row goes through `commit`, one transaction that
 * may also insert alerts and their outbox rows, so progress, range and the
 * alerts it produced are never out of step, whenever the process dies.
 *
 * Fails closed: a missing, truncated or corrupt file, a row whose checksum
 * does not match, a stored checkpoint that does not verify with the stored
 * key, or a range that does not fold to the verified root is a StateError;
 * the only way to a new state is `create` (--init), which never overwrites.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompactRange, EMPTY_ROOT, type Hash } from '../../merkle/index.js';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { bytesEqual, parseDecimal } from '../encoding.js';
import { VitrineError } from '../errors.js';
import { openCheckpoint, parseVerifier } from '../note/index.js';
import { alertJson, isAlertKind, type Alert, type PendingAlert } from './alert.js';
import type { SignedCheckpoint } from './tiles.js';

export class StateError extends VitrineError {
  constructor(message: string) {
    super('bad-state', message);
  }
}

const MAGIC = 'vitrine-monitor-state';
const VERSION = '1';
export const STATE_FILE = 'state.db';

/**
 * Gossip memory, added within version 1 (created on open when missing):
 * checkpoints met that could not be decided yet (larger than any tree held),
 * and the peers in a failure episode. Rows here are never trusted: a
 * pending checkpoint is opened with the log key again when rechecked.
 */
const GOSSIP_SCHEMA = `
CREATE TABLE IF NOT EXISTS pending (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  body TEXT NOT NULL,
  note TEXT NOT NULL,
  source TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  size TEXT NOT NULL,
  UNIQUE (origin, body)
) STRICT;
CREATE TABLE IF NOT EXISTS peers_down (
  peer TEXT PRIMARY KEY,
  since TEXT NOT NULL
) STRICT;
`;

/**
 * Acknowledgements (`vitrine monitor ack`), added within version 1 like the
 * gossip tables: who acknowledged which alert and when. An unacknowledged
 * security alert keeps `--once` exiting 1.
 */
const ACK_SCHEMA = `
CREATE TABLE IF NOT EXISTS acks (
  seq INTEGER PRIMARY KEY REFERENCES alerts(seq),
  by TEXT NOT NULL,
  at TEXT NOT NULL,
  sum TEXT NOT NULL
) STRICT;
`;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE logs (
  origin TEXT PRIMARY KEY,
  vkey TEXT NOT NULL,
  url TEXT NOT NULL,
  verified_note TEXT,
  verified_size INTEGER NOT NULL,
  verified_root BLOB NOT NULL,
  target_note TEXT,
  target_size INTEGER NOT NULL,
  target_root BLOB NOT NULL,
  position INTEGER NOT NULL,
  range BLOB NOT NULL,
  audited INTEGER NOT NULL,
  start_size INTEGER NOT NULL,
  episodes TEXT NOT NULL,
  sum TEXT NOT NULL
) STRICT;
CREATE TABLE alerts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  origin TEXT NOT NULL,
  kind TEXT NOT NULL,
  class TEXT NOT NULL,
  json TEXT NOT NULL,
  local_done INTEGER NOT NULL DEFAULT 0,
  sum TEXT NOT NULL
) STRICT;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  seq INTEGER NOT NULL REFERENCES alerts(seq),
  sink TEXT NOT NULL,
  target TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT
) STRICT;
CREATE TABLE conflicts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  note TEXT NOT NULL,
  against TEXT NOT NULL,
  evidence TEXT NOT NULL,
  source TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  UNIQUE (origin, note, against)
) STRICT;
CREATE TABLE gaps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  from_size INTEGER NOT NULL,
  to_size INTEGER NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
) STRICT;
${GOSSIP_SCHEMA}${ACK_SCHEMA}`;

/** Open operational conditions, so that each fires once per episode, across restarts too. */
export interface Episodes {
  /** log-unreachable since (RFC 3339). */
  unreachable?: string;
  /** rate-limited since. */
  rateLimited?: string;
  /** Behind the log since; `behindAlerted` once falling-behind fired for it. */
  behind?: string;
  behindAlerted?: boolean;
}

/** A checkpoint in the state: `note` is null only for the empty tree nothing was verified against yet. */
export interface StoredCheckpoint {
  readonly note: string | null;
  readonly size: number;
  readonly root: Uint8Array;
}

export interface LogState {
  readonly origin: string;
  readonly vkey: string;
  readonly url: string;
  /** Last checkpoint whose whole tree was rebuilt and audited. */
  readonly verified: StoredCheckpoint;
  /** The checkpoint the audit works towards: verified, or a later one proved consistent with it. */
  readonly target: StoredCheckpoint;
  /** Entries [0, position) are in the rebuilt range; [verified.size, position) are authenticated against target. */
  readonly position: number;
  readonly range: readonly Hash[];
  /** Entries audited by this state, each exactly once. */
  readonly audited: number;
  /** Entries before this index were never audited (--from-checkpoint). */
  readonly startSize: number;
  readonly episodes: Episodes;
}

export interface Gap {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly at: string;
}

/** What one commit changes; fields left out keep their value. */
export interface LogUpdate {
  position?: number;
  range?: readonly Hash[];
  auditedDelta?: number;
  target?: StoredCheckpoint;
  verified?: StoredCheckpoint;
  episodes?: Episodes;
  gap?: { from: number; to: number; reason: string };
  conflict?: { note: string; against: string; evidence: string; source: string };
}

export interface StoredAlert {
  readonly seq: number;
  readonly key: string;
  readonly alert: Alert;
  readonly json: string;
}

/** Who acknowledged an alert, and when (RFC 3339). */
export interface Ack {
  readonly by: string;
  readonly at: string;
}

/** An alert as `vitrine monitor alerts` lists it. */
export interface ListedAlert extends StoredAlert {
  readonly ack?: Ack;
}

export interface Sink {
  readonly sink: 'webhook' | 'exec';
  readonly target: string;
}

export interface OutboxRow {
  readonly id: number;
  readonly seq: number;
  readonly sink: 'webhook' | 'exec';
  readonly target: string;
  readonly attempts: number;
  readonly nextAt: number;
  readonly json: string;
  readonly key: string;
}

/** A log to add to a state: from the empty tree, or from a signed checkpoint and its authenticated edge. */
export interface NewLog {
  readonly origin: string;
  readonly vkey: string;
  readonly url: string;
  readonly start?: { readonly checkpoint: SignedCheckpoint; readonly range: readonly Hash[] };
}

interface LogRow {
  origin: string;
  vkey: string;
  url: string;
  verified_note: string | null;
  verified_size: number;
  verified_root: Buffer;
  target_note: string | null;
  target_size: number;
  target_root: Buffer;
  position: number;
  range: Buffer;
  audited: number;
  start_size: number;
  episodes: string;
  sum: string;
}

function sha256hex(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(typeof p === 'string' ? p : Buffer.from(p));
    h.update('\0');
  }
  return h.digest('hex');
}

function concat(hashes: readonly Hash[]): Buffer {
  return Buffer.concat(hashes.map((h) => Buffer.from(h)));
}

function rowSum(r: Omit<LogRow, 'sum'>): string {
  return sha256hex(
    r.origin, r.vkey, r.url, r.verified_note ?? '\u0000null', String(r.verified_size), r.verified_root,
    r.target_note ?? '\u0000null', String(r.target_size), r.target_root, String(r.position), r.range,
    String(r.audited), String(r.start_size), r.episodes,
  );
}

function alertSum(key: string, json: string, localDone: number): string {
  return sha256hex(key, json, String(localDone));
}

function ackSum(seq: number, key: string, by: string, at: string): string {
  return sha256hex('ack', String(seq), key, by, at);
}

function toRow(s: LogState): LogRow {
  const row = {
    origin: s.origin,
    vkey: s.vkey,
    url: s.url,
    verified_note: s.verified.note,
    verified_size: s.verified.size,
    verified_root: Buffer.from(s.verified.root),
    target_note: s.target.note,
    target_size: s.target.size,
    target_root: Buffer.from(s.target.root),
    position: s.position,
    range: concat(s.range),
    audited: s.audited,
    start_size: s.startSize,
    episodes: JSON.stringify(s.episodes),
  };
  return { ...row, sum: rowSum(row) };
}

function popcount(x: number): number {
  let n = 0;
  for (; x > 0; x = Math.floor(x / 2)) n += x % 2;
  return n;
}

function bad(path: string, what: string): StateError {
  return new StateError(`monitor state ${path} is corrupt: ${what}. Refusing to start; restore it from a backup, or move it away and start a new state with --init.`);
}

/** Checks a stored checkpoint against the key; returns it. */
function checkStored(path: string, origin: string, what: string, note: string | null, size: number, root: Uint8Array, vkey: string): StoredCheckpoint {
  if (note === null) {
    if (size !== 0 || !bytesEqual(root, EMPTY_ROOT)) throw bad(path, `log ${origin}: ${what} has no note but is not the empty tree`);
    return { note, size, root };
  }
  let cp;
  try {
    cp = openCheckpoint(note, parseVerifier(vkey), nodeEd25519);
  } catch (err) {
    throw bad(path, `log ${origin}: the stored ${what} does not verify with the stored log key (${(err as Error).message})`);
  }
  if (cp.size !== BigInt(size) || !bytesEqual(cp.rootHash, root)) throw bad(path, `log ${origin}: the stored ${what} does not match its size and root columns`);
  return { note, size, root };
}

function fromRow(path: string, r: LogRow): LogState {
  const { sum, ...rest } = r;
  if (rowSum(rest) !== sum) throw bad(path, `the row of log ${JSON.stringify(r.origin)} fails its checksum`);
  let vk;
  try {
    vk = parseVerifier(r.vkey);
  } catch (err) {
    throw bad(path, `log ${r.origin}: stored key does not parse (${(err as Error).message})`);
  }
  if (vk.name !== r.origin) throw bad(path, `log ${r.origin}: stored key is named ${vk.name}`);
  const verified = checkStored(path, r.origin, 'verified checkpoint', r.verified_note, r.verified_size, new Uint8Array(r.verified_root), r.vkey);
  const target = checkStored(path, r.origin, 'target checkpoint', r.target_note, r.target_size, new Uint8Array(r.target_root), r.vkey);
  if (!(r.start_size <= verified.size && verified.size <= r.position && r.position <= target.size)) {
    throw bad(path, `log ${r.origin}: positions out of order (start ${r.start_size}, verified ${verified.size}, position ${r.position}, target ${target.size})`);
  }
  if (r.range.length !== popcount(r.position) * 32) throw bad(path, `log ${r.origin}: the compact range does not fit position ${r.position}`);
  const range: Hash[] = [];
  for (let o = 0; o < r.range.length; o += 32) range.push(new Uint8Array(r.range.subarray(o, o + 32)));
  if (r.position === verified.size && !bytesEqual(new CompactRange(r.position, range).root(), verified.root)) {
    throw bad(path, `log ${r.origin}: the compact range does not fold to the verified root`);
  }
  if (r.position === target.size && !bytesEqual(new CompactRange(r.position, range).root(), target.root)) {
    throw bad(path, `log ${r.origin}: the compact range at the target size does not fold to the target root`);
  }
  let episodes: Episodes;
  try {
    episodes = JSON.parse(r.episodes) as Episodes;
  } catch {
    throw bad(path, `log ${r.origin}: episodes are not JSON`);
  }
  return { origin: r.origin, vkey: r.vkey, url: r.url, verified, target, position: r.position, range, audited: r.audited, startSize: r.start_size, episodes };
}

function asStateError(path: string, err: unknown): unknown {
  if (err instanceof StateError) return err;
  if (err instanceof Database.SqliteError) {
    if (err.code === 'SQLITE_BUSY') return new StateError(`monitor state ${path} is in use by another monitor process`);
    return bad(path, `SQLite says: ${err.message}`);
  }
  return err;
}

export class MonitorState {
  readonly dir: string;
  readonly path: string;
  readonly #db: Database.Database;
  readonly #logs = new Map<string, LogState>();
  #sinks: readonly Sink[] = [];

  private constructor(dir: string, path: string, db: Database.Database) {
    this.dir = dir;
    this.path = path;
    this.#db = db;
  }

  /** Whether DIR holds a state (or the remains of one). */
  static exists(dir: string): boolean {
    return existsSync(join(dir, STATE_FILE)) || existsSync(join(dir, `${STATE_FILE}-wal`));
  }

  /**
   * Creates a new state holding `logs` (--init), atomically: it is built
   * in a temporary file and linked into place, so a crash leaves either no
   * state or a complete one. Refuses if DIR already holds a state.
   */
  static create(dir: string, logs: readonly NewLog[]): MonitorState {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, STATE_FILE);
    if (MonitorState.exists(dir)) throw new StateError(`a monitor state already exists at ${path}; refusing to overwrite it (drop --init to use it)`);
    const tmp = join(dir, `.${STATE_FILE}.init-${process.pid}`);
    if (existsSync(tmp)) unlinkSync(tmp);
    const db = new Database(tmp);
    let ok = false;
    try {
      db.pragma('journal_mode = DELETE');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      const now = new Date().toISOString();
      const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        meta.run('magic', MAGIC);
        meta.run('version', VERSION);
        meta.run('created', now);
        for (const l of logs) insertLog(db, l, now);
      })();
      ok = true;
    } finally {
      db.close();
      if (!ok) unlinkSync(tmp);
    }
    try {
      linkSync(tmp, path);
    } catch (err) {
      unlinkSync(tmp);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new StateError(`a monitor state already exists at ${path}; refusing to overwrite it`);
      throw err;
    }
    unlinkSync(tmp);
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return MonitorState.open(dir);
  }

  /**
   * Opens an existing state, checking everything; throws StateError if it
   * is missing or damaged, or if another monitor still holds its lock after
   * `lockWaitMs` (SQLite's busy timeout: by default a monitor restarted
   * while the previous one is still exiting waits up to 5 s for it).
   */
  static open(dir: string, o: { lockWaitMs?: number } = {}): MonitorState {
    const path = join(dir, STATE_FILE);
    if (!existsSync(path)) {
      throw new StateError(`no monitor state at ${path}. The monitor never starts from scratch on its own: use --init to create a new state (it audits each log from its first entry)`);
    }
    // SQLite would take an empty file for a new database and write one: check the header first.
    const header = Buffer.alloc(16);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, header, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
    if (header.toString('latin1') !== 'SQLite format 3\0') throw bad(path, 'not an SQLite database (empty, truncated or overwritten header)');
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: true, timeout: o.lockWaitMs ?? 5000 });
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      // Take the exclusive lock now: a second monitor on this state fails here.
      db.exec('BEGIN IMMEDIATE; COMMIT');
      const check = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
      if (check.length !== 1 || check[0]!.integrity_check !== 'ok') throw bad(path, `integrity check failed: ${check.map((c) => c.integrity_check).slice(0, 3).join('; ')}`);
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
      for (const t of ['meta', 'logs', 'alerts', 'outbox', 'conflicts', 'gaps']) if (!tables.has(t)) throw bad(path, `table ${t} is missing (an empty or foreign database)`);
      const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
      if (meta.get('magic') !== MAGIC) throw bad(path, 'not a Vitrine monitor state');
      if (meta.get('version') !== VERSION) throw new StateError(`monitor state ${path} has version ${meta.get('version')}; this monitor reads version ${VERSION}`);
      // Only now, in a state known to be ours: the gossip tables added within version 1.
      db.exec(GOSSIP_SCHEMA);
      db.exec(ACK_SCHEMA);
      const state = new MonitorState(dir, path, db);
      for (const row of db.prepare('SELECT * FROM logs ORDER BY origin').all() as LogRow[]) state.#logs.set(row.origin, fromRow(path, row));
      for (const a of db.prepare('SELECT key, kind, class, json, local_done, sum FROM alerts').iterate() as IterableIterator<{ key: string; kind: string; class: string; json: string; local_done: number; sum: string }>) {
        if (alertSum(a.key, a.json, a.local_done) !== a.sum || !isAlertKind(a.kind)) throw bad(path, `alert ${JSON.stringify(a.key.slice(0, 80))} fails its checksum`);
      }
      for (const k of db.prepare('SELECT k.seq, k.by, k.at, k.sum, a.key FROM acks k LEFT JOIN alerts a ON a.seq = k.seq').iterate() as IterableIterator<{ seq: number; by: string; at: string; sum: string; key: string | null }>) {
        if (k.key === null || ackSum(k.seq, k.key, k.by, k.at) !== k.sum) throw bad(path, `the acknowledgement of alert ${k.seq} fails its checksum`);
      }
      const gaps = db.prepare('SELECT origin, SUM(to_size - from_size) AS n FROM gaps GROUP BY origin').all() as Array<{ origin: string; n: number }>;
      for (const s of state.#logs.values()) {
        const skipped = gaps.find((g) => g.origin === s.origin)?.n ?? 0;
        if (s.audited + skipped !== s.position) throw bad(path, `log ${s.origin}: ${s.audited} entries audited and ${skipped} skipped do not add up to position ${s.position}`);
      }
      return state;
    } catch (err) {
      db?.close();
      throw asStateError(path, err);
    }
  }

  /** Adds logs the state does not follow yet (--add); one transaction. */
  addLogs(logs: readonly NewLog[]): void {
    const now = new Date().toISOString();
    this.#db.transaction(() => {
      for (const l of logs) {
        if (this.#logs.has(l.origin)) throw new StateError(`the state already follows ${l.origin}`);
        insertLog(this.#db, l, now);
      }
    })();
    for (const row of this.#db.prepare('SELECT * FROM logs ORDER BY origin').all() as LogRow[]) this.#logs.set(row.origin, fromRow(this.path, row));
  }

  logs(): LogState[] {
    return [...this.#logs.values()];
  }

  log(origin: string): LogState {
    const s = this.#logs.get(origin);
    if (s === undefined) throw new Error(`state does not follow ${origin}`);
    return s;
  }

  /** The URL recorded for a log changes without a commit of progress (the operator moved it). */
  setUrl(origin: string, url: string): void {
    const s = this.log(origin);
    if (s.url !== url) this.commit(origin, {}, [], url);
  }

  gaps(origin: string): Gap[] {
    return (this.#db.prepare('SELECT from_size AS "from", to_size AS "to", reason, at FROM gaps WHERE origin = ? ORDER BY from_size').all(origin) as Gap[]);
  }

  /** The sinks of this run: each new alert gets one outbox row per sink, in the transaction that raises it. */
  setSinks(sinks: readonly Sink[]): void {
    this.#sinks = sinks;
  }

  /**
   * Applies `update` to a log and inserts `alerts`, in one transaction.
   * Alerts whose key is already stored are dropped (dedupe). Returns the
   * alerts that are new.
   */
  commit(origin: string, update: LogUpdate, alerts: readonly PendingAlert[] = [], url?: string): StoredAlert[] {
    const cur = this.log(origin);
    const next: LogState = {
      ...cur,
      url: url ?? cur.url,
      position: update.position ?? cur.position,
      range: update.range ?? cur.range,
      audited: cur.audited + (update.auditedDelta ?? 0),
      target: update.target ?? cur.target,
      verified: update.verified ?? cur.verified,
      episodes: update.episodes ?? cur.episodes,
    };
    const row = toRow(next);
    const now = Date.now();
    const created: StoredAlert[] = [];
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `UPDATE logs SET url = @url, verified_note = @verified_note, verified_size = @verified_size, verified_root = @verified_root,
             target_note = @target_note, target_size = @target_size, target_root = @target_root, position = @position, range = @range,
             audited = @audited, start_size = @start_size, episodes = @episodes, sum = @sum WHERE origin = @origin`,
        )
        .run(row);
      const insert = this.#db.prepare('INSERT OR IGNORE INTO alerts (key, origin, kind, class, json, local_done, sum) VALUES (?, ?, ?, ?, ?, 0, ?)');
      const outbox = this.#db.prepare('INSERT INTO outbox (seq, sink, target, attempts, next_at) VALUES (?, ?, ?, 0, ?)');
      for (const a of alerts) {
        const json = alertJson(a.alert);
        const info = insert.run(a.key, a.alert.origin, a.alert.kind, a.alert.class, json, alertSum(a.key, json, 0));
        if (info.changes !== 1) continue;
        const seq = Number(info.lastInsertRowid);
        for (const s of this.#sinks) outbox.run(seq, s.sink, s.target, now);
        created.push({ seq, key: a.key, alert: a.alert, json });
      }
      if (update.gap) {
        this.#db.prepare('INSERT INTO gaps (origin, from_size, to_size, reason, at) VALUES (?, ?, ?, ?, ?)').run(origin, update.gap.from, update.gap.to, update.gap.reason, new Date().toISOString());
      }
      if (update.conflict) {
        const c = update.conflict;
        this.#db
          .prepare('INSERT OR IGNORE INTO conflicts (origin, note, against, evidence, source, seen_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(origin, c.note, c.against, c.evidence, c.source, new Date().toISOString());
      }
    })();
    this.#logs.set(origin, next);
    return created;
  }

  /** The latest verified checkpoint of the log whose origin hashes (SHA-256, hex) to `originHash`. */
  checkpointFor(originHash: string): string | undefined {
    for (const s of this.#logs.values()) {
      if (createHash('sha256').update(s.origin).digest('hex') === originHash) return s.verified.note ?? undefined;
    }
    return undefined;
  }

  /** Alerts not yet written to alerts.jsonl and stdout, oldest first. */
  undeliveredLocal(): StoredAlert[] {
    return (this.#db.prepare('SELECT seq, key, json FROM alerts WHERE local_done = 0 ORDER BY seq').all() as Array<{ seq: number; key: string; json: string }>).map((r) => ({
      seq: r.seq,
      key: r.key,
      json: r.json,
      alert: JSON.parse(r.json) as Alert,
    }));
  }

  markLocal(alerts: readonly StoredAlert[]): void {
    const upd = this.#db.prepare('UPDATE alerts SET local_done = 1, sum = ? WHERE seq = ?');
    this.#db.transaction(() => {
      for (const a of alerts) upd.run(alertSum(a.key, a.json, 1), a.seq);
    })();
  }

  /** Every outbox row, oldest first. */
  outbox(): OutboxRow[] {
    return (this.#db
      .prepare('SELECT o.id, o.seq, o.sink, o.target, o.attempts, o.next_at AS nextAt, a.json, a.key FROM outbox o JOIN alerts a ON a.seq = o.seq ORDER BY o.id')
      .all() as OutboxRow[]);
  }

  outboxDone(id: number): void {
    this.#db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
  }

  outboxRetry(id: number, attempts: number, nextAt: number, error: string): void {
    this.#db.prepare('UPDATE outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?').run(attempts, nextAt, error.slice(0, 500), id);
  }

  /** Conflicting checkpoints recorded (issue 6 builds gossip on them). */
  conflicts(): Array<{ origin: string; note: string; against: string; evidence: string; source: string; seenAt: string }> {
    return this.#db.prepare('SELECT origin, note, against, evidence, source, seen_at AS seenAt FROM conflicts ORDER BY id').all() as Array<{
      origin: string; note: string; against: string; evidence: string; source: string; seenAt: string;
    }>;
  }

  /** Alerts ever raised, for tests and tools. */
  alerts(): StoredAlert[] {
    return (this.#db.prepare('SELECT seq, key, json FROM alerts ORDER BY seq').all() as Array<{ seq: number; key: string; json: string }>).map((r) => ({
      seq: r.seq,
      key: r.key,
      json: r.json,
      alert: JSON.parse(r.json) as Alert,
    }));
  }

  /** Every alert with its acknowledgement, if any, oldest first. */
  listAlerts(): ListedAlert[] {
    const rows = this.#db.prepare('SELECT a.seq, a.key, a.json, k.by, k.at FROM alerts a LEFT JOIN acks k ON k.seq = a.seq ORDER BY a.seq').all() as Array<{ seq: number; key: string; json: string; by: string | null; at: string | null }>;
    return rows.map((r) => ({
      seq: r.seq,
      key: r.key,
      json: r.json,
      alert: JSON.parse(r.json) as Alert,
      ...(r.by !== null && r.at !== null ? { ack: { by: r.by, at: r.at } } : {}),
    }));
  }

  /** Security alerts nobody has acknowledged: while there is one, `--once` exits 1. */
  unacknowledgedSecurity(): number {
    return (this.#db.prepare("SELECT COUNT(*) AS n FROM alerts a WHERE a.class = 'security' AND NOT EXISTS (SELECT 1 FROM acks k WHERE k.seq = a.seq)").get() as { n: number }).n;
  }

  /**
   * Records that `by` acknowledged the alerts `seqs` at `at`, in one
   * transaction. Alerts already acknowledged keep their first record.
   * Returns the ids newly acknowledged; throws StateError for an unknown id.
   */
  acknowledge(seqs: readonly number[], by: string, at: string = new Date().toISOString()): number[] {
    const get = this.#db.prepare('SELECT key FROM alerts WHERE seq = ?');
    const insert = this.#db.prepare('INSERT OR IGNORE INTO acks (seq, by, at, sum) VALUES (?, ?, ?, ?)');
    return this.#db.transaction(() => {
      const done: number[] = [];
      for (const seq of seqs) {
        const row = get.get(seq) as { key: string } | undefined;
        if (row === undefined) throw new StateError(`no alert with id ${seq} in ${this.path}`);
        if (insert.run(seq, by, at, ackSum(seq, row.key, by, at)).changes === 1) done.push(seq);
      }
      return done;
    })();
  }

  /** Keeps an undecided checkpoint (one row per checkpoint body); at most `max` per log, the oldest dropped. */
  pendingAdd(origin: string, p: PendingCheckpoint, max: number): void {
    this.#db.transaction(() => {
      this.#db.prepare('INSERT OR IGNORE INTO pending (origin, body, note, source, seen_at, size) VALUES (?, ?, ?, ?, ?, ?)').run(origin, p.body, p.note, p.from, p.at, p.size.toString());
      this.#db.prepare('DELETE FROM pending WHERE origin = ? AND id NOT IN (SELECT id FROM pending WHERE origin = ? ORDER BY id DESC LIMIT ?)').run(origin, origin, max);
    })();
  }

  /** Undecided checkpoints of a log, oldest first. */
  pending(origin: string): PendingCheckpoint[] {
    const rows = this.#db.prepare('SELECT body, note, source, seen_at, size FROM pending WHERE origin = ? ORDER BY id').all(origin) as Array<{ body: string; note: string; source: string; seen_at: string; size: string }>;
    return rows.flatMap((r) => {
      let size: bigint;
      try {
        size = parseDecimal(r.size, 'pending checkpoint size');
      } catch {
        return []; // Never trusted anyway: a damaged row is skipped.
      }
      return [{ body: r.body, note: r.note, from: r.source, at: r.seen_at, size }];
    });
  }

  pendingDelete(origin: string, body: string): void {
    this.#db.prepare('DELETE FROM pending WHERE origin = ? AND body = ?').run(origin, body);
  }

  /** Start of a peer's open failure episode, if any. */
  peerDownSince(peer: string): string | undefined {
    return (this.#db.prepare('SELECT since FROM peers_down WHERE peer = ?').get(peer) as { since: string } | undefined)?.since;
  }

  /**
   * Opens a peer's failure episode and raises its alert in one transaction,
   * so that across restarts each episode alerts once. Returns the new alerts.
   */
  peerDown(origin: string, peer: string, since: string, alerts: readonly PendingAlert[]): StoredAlert[] {
    return this.#db.transaction(() => {
      this.#db.prepare('INSERT OR IGNORE INTO peers_down (peer, since) VALUES (?, ?)').run(peer, since);
      return this.commit(origin, {}, alerts);
    })();
  }

  peerUp(peer: string): void {
    this.#db.prepare('DELETE FROM peers_down WHERE peer = ?').run(peer);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** A checkpoint met in gossip that no tree this monitor holds can decide yet. */
export interface PendingCheckpoint {
  /** The checkpoint body (the note's text), which names it. */
  body: string;
  note: string;
  from: string;
  at: string;
  size: bigint;
}

function insertLog(db: Database.Database, l: NewLog, now: string): void {
  const start = l.start;
  const cp: StoredCheckpoint = start ? { note: start.checkpoint.note, size: start.checkpoint.size, root: start.checkpoint.root } : { note: null, size: 0, root: EMPTY_ROOT };
  const state: LogState = {
    origin: l.origin,
    vkey: l.vkey,
    url: l.url,
    verified: cp,
    target: cp,
    position: cp.size,
    range: start ? start.range : [],
    audited: 0,
    startSize: cp.size,
    episodes: {},
  };
  const row = toRow(state);
  db.prepare(
    `INSERT INTO logs (origin, vkey, url, verified_note, verified_size, verified_root, target_note, target_size, target_root, position, range, audited, start_size, episodes, sum)
     VALUES (@origin, @vkey, @url, @verified_note, @verified_size, @verified_root, @target_note, @target_size, @target_root, @position, @range, @audited, @start_size, @episodes, @sum)`,
  ).run(row);
  if (start && cp.size > 0) {
    db.prepare('INSERT INTO gaps (origin, from_size, to_size, reason, at) VALUES (?, ?, ?, ?, ?)').run(
      l.origin, 0, cp.size, 'started with --from-checkpoint: entries before this checkpoint were not audited', now,
    );
  }
}
