/**
 * The SQLite backend of `LogStorage` (better-sqlite3), the embedded default.
 * All of the log's SQLite SQL lives in this file.
 *
 * better-sqlite3 is synchronous, and the log's hot paths measured faster
 * that way (docs/performance.md): the statements run synchronously here and
 * the reader and writer only wrap their results in settled promises, so
 * the seam costs one microtask per call and no thread hop.
 *
 * Durability: WAL journal with synchronous=FULL, so a committed batch
 * survives power loss and `kill -9`; each batch is one transaction. Start-up
 * cost does not depend on the log's size: it reads one meta row, the last
 * checkpoint and (in the sequencer) the right edge of the tree.
 */
import Database from 'better-sqlite3';
import { CompactRange } from '../../../merkle/index.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import {
  StartupError, type Batch, type CheckpointRecord, type LogIdentity, type LogReader, type LogStorage, type LogWriter, type LookupField, type StoredEntry,
  type EntryRecord, type LogExport, type SubjectKey, type StoredCheckpoint, type StoredNode, type TileRecord,
} from '../storage.js';

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
  idx       INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL UNIQUE,
  data      BLOB NOT NULL,
  digest    BLOB NOT NULL,
  key_hash  BLOB NOT NULL,
  name      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_digest ON entries (digest, idx);
CREATE INDEX IF NOT EXISTS entries_key ON entries (key_hash, idx);
CREATE INDEX IF NOT EXISTS entries_name ON entries (name, idx);
-- Further (digest, name) pairs an entry is found by: an attestation's other
-- subjects. Added without a schema version: older stores just get it empty.
CREATE TABLE IF NOT EXISTS entry_subjects (
  idx    INTEGER NOT NULL,
  digest BLOB NOT NULL,
  name   TEXT
);
CREATE INDEX IF NOT EXISTS entry_subjects_digest ON entry_subjects (digest, idx);
CREATE INDEX IF NOT EXISTS entry_subjects_name ON entry_subjects (name, idx);
CREATE TABLE IF NOT EXISTS nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  data  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  size      INTEGER PRIMARY KEY,
  root_hash BLOB NOT NULL,
  note      TEXT NOT NULL,
  created   TEXT NOT NULL,
  -- The same checkpoint with the witness cosignatures that made its quorum.
  witnessed TEXT
);
`;

type Row = { idx: number; data: Buffer; leaf_hash: Buffer };

// A tree of 10^6 leaves has about 16,000 nodes at level 6 and above: the
// cache holds them all, and bounds memory (about 6 MB) for any larger log.
const CACHE_MIN_LEVEL = 6;
const NODE_CACHE_SIZE = 65536;

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export interface SqliteOptions {
  /**
   * 'full' (default): synchronous=FULL, every commit is durable. 'off' is
   * for bulk loading tools (benchmarks) only: a crash can lose the data.
   */
  durability?: 'full' | 'off';
  /** Test hook: called inside the batch transaction after the writes, before COMMIT. Throwing rolls back. */
  beforeCommit?: (batch: Batch) => void;
  /** The clock checkpoint retention reads, in milliseconds since the epoch (tests); Date.now by default. */
  now?: () => number;
  /**
   * Open an existing database for reading only (a `serve --workers` HTTP
   * worker beside the sequencing process, src/log/workers.ts): nothing is
   * created, migrated or written, and the writer must not be used.
   */
  readOnly?: boolean;
}

export class SqliteStorage implements LogStorage {
  readonly reader: LogReader;
  readonly writer: LogWriter;
  readonly #db: Database.Database;
  readonly #opts: SqliteOptions;
  readonly #stmt;
  readonly #commit: (batch: Batch) => void;
  /** Read-through cache of committed nodes at level >= CACHE_MIN_LEVEL, first-in first-out. */
  readonly #nodeCache = new Map<number, Uint8Array>();

  constructor(path: string, opts: SqliteOptions = {}) {
    this.#opts = opts;
    try {
      this.#db = new Database(path, opts.readOnly ? { readonly: true, fileMustExist: true } : {});
      if (!opts.readOnly) this.#db.pragma('journal_mode = WAL');
    } catch (err) {
      throw new StartupError(`cannot open the database ${path}: ${(err as Error).message}`);
    }
    if (!opts.readOnly) {
      this.#db.pragma(opts.durability === 'off' ? 'synchronous = OFF' : 'synchronous = FULL');
      this.#db.pragma('foreign_keys = ON');
      this.#db.exec(SCHEMA);
    }
    const version = this.#db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get('schema');
    if (version === undefined && opts.readOnly) {
      this.#db.close();
      throw new StartupError(`the database ${path} has no schema yet: its sequencing process must create it first`);
    } else if (version === undefined) {
      this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
    } else if (version.value !== SCHEMA_VERSION) {
      this.#db.close();
      throw new StartupError(`database schema version ${version.value} is not supported by this build (it expects ${SCHEMA_VERSION}); run the matching release`);
    }
    // Databases made by pre-release builds lack the witnessed column.
    const columns = this.#db.prepare<[], { name: string }>('PRAGMA table_info(checkpoints)').all();
    if (!opts.readOnly && !columns.some((c) => c.name === 'witnessed')) this.#db.exec('ALTER TABLE checkpoints ADD COLUMN witnessed TEXT');
    const db = this.#db;
    this.#stmt = {
      meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?)'),
      latest: db.prepare<[], { size: number; root_hash: Buffer; note: string }>(
        'SELECT size, root_hash, note FROM checkpoints ORDER BY size DESC LIMIT 1',
      ),
      latestForRetention: db.prepare<[], { size: number; created: string; witnessed: string | null }>(
        'SELECT size, created, witnessed FROM checkpoints ORDER BY size DESC LIMIT 1',
      ),
      dropCheckpoint: db.prepare<[number]>('DELETE FROM checkpoints WHERE size = ? AND witnessed IS NULL'),
      checkpointAt: db.prepare<[number], { size: number; root_hash: Buffer; note: string }>(
        'SELECT size, root_hash, note FROM checkpoints WHERE size = ?',
      ),
      count: db.prepare<[], { n: number | null }>('SELECT max(idx) + 1 AS n FROM entries'),
      insertEntry: db.prepare<[number, Uint8Array, Uint8Array, Uint8Array, Uint8Array, string]>(
        'INSERT INTO entries (idx, leaf_hash, data, digest, key_hash, name) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertSubject: db.prepare<[number, Uint8Array, string | null]>('INSERT INTO entry_subjects (idx, digest, name) VALUES (?, ?, ?)'),
      allSubjects: db.prepare<[], { idx: number; digest: Buffer; name: string | null }>('SELECT idx, digest, name FROM entry_subjects ORDER BY idx, rowid'),
      insertNode: db.prepare<[number, number, Uint8Array]>('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)'),
      insertTile: db.prepare<[number, number, Uint8Array]>('INSERT INTO tiles (level, idx, data) VALUES (?, ?, ?)'),
      insertCheckpoint: db.prepare<[number, Uint8Array, string, string]>(
        'INSERT INTO checkpoints (size, root_hash, note, created) VALUES (?, ?, ?, ?)',
      ),
      setWitnessed: db.prepare<[number, Uint8Array, string, string, string]>(
        `INSERT INTO checkpoints (size, root_hash, note, created, witnessed) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (size) DO UPDATE SET witnessed = excluded.witnessed`,
      ),
      latestWitnessed: db.prepare<[], { size: number; root_hash: Buffer; witnessed: string }>(
        'SELECT size, root_hash, witnessed FROM checkpoints WHERE witnessed IS NOT NULL ORDER BY size DESC LIMIT 1',
      ),
      node: db.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      level: db.prepare<[number, number, number], { hash: Buffer }>(
        'SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx',
      ),
      tile: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM tiles WHERE level = ? AND idx = ?'),
      range: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      at: db.prepare<[number], Row>('SELECT idx, data, leaf_hash FROM entries WHERE idx = ?'),
      byLeaf: db.prepare<[Uint8Array], Row>('SELECT idx, data, leaf_hash FROM entries WHERE leaf_hash = ?'),
      // Answered from the unique index on leaf_hash alone (it holds the rowid, idx): no table lookup.
      indexByLeaf: db.prepare<[Uint8Array], number>('SELECT idx FROM entries WHERE leaf_hash = ?').pluck(),
      byDigest: db.prepare<[Uint8Array, number, Uint8Array, number, number], Row>(
        'SELECT idx, data, leaf_hash FROM entries WHERE idx IN (SELECT idx FROM entries WHERE digest = ? AND idx > ? ' +
          'UNION SELECT idx FROM entry_subjects WHERE digest = ? AND idx > ?) ORDER BY idx LIMIT ?',
      ),
      byKey: db.prepare<[Uint8Array, number, number], Row>(
        'SELECT idx, data, leaf_hash FROM entries WHERE key_hash = ? AND idx > ? ORDER BY idx LIMIT ?',
      ),
      byName: db.prepare<[string, number, string, number, number], Row>(
        'SELECT idx, data, leaf_hash FROM entries WHERE idx IN (SELECT idx FROM entries WHERE name = ? AND idx > ? ' +
          'UNION SELECT idx FROM entry_subjects WHERE name = ? AND idx > ?) ORDER BY idx LIMIT ?',
      ),
    };
    const s = this.#stmt;
    this.#commit = db.transaction((batch: Batch) => {
      const previous = s.latestForRetention.get();
      const current = previous?.size ?? 0;
      if (current !== batch.fromSize) {
        throw new ConflictError(`checkpoint compare-and-swap failed: stored size ${current}, batch expects ${batch.fromSize}`, BigInt(current));
      }
      if (batch.checkpoint.size !== batch.fromSize + batch.entries.length) {
        throw new Error(`batch checkpoint size ${batch.checkpoint.size} does not cover ${batch.entries.length} entries from ${batch.fromSize}`);
      }
      for (const e of batch.entries) {
        s.insertEntry.run(e.index, e.leafHash, e.data, e.digest, e.keyHash, e.name);
        if (e.subjects) for (const x of e.subjects) s.insertSubject.run(e.index, x.digest, x.name ?? null);
      }
      for (const n of batch.nodes) s.insertNode.run(n.level, n.index, n.hash);
      for (const t of batch.tiles) s.insertTile.run(t.level, t.index, t.data);
      const created = new Date((this.#opts.now ?? Date.now)()).toISOString();
      s.insertCheckpoint.run(batch.checkpoint.size, batch.checkpoint.rootHash, batch.checkpoint.note, created);
      // Retention (storage.ts): one checkpoint per second of the clock, the last one; witnessed ones stay.
      if (previous && previous.witnessed === null && sameSecond(previous.created, created)) s.dropCheckpoint.run(previous.size);
      this.#opts.beforeCommit?.(batch);
    });
    this.reader = {
      latestCheckpoint: () => settle(() => this.latestCheckpoint()),
      checkpointAt: (size) => settle(() => this.checkpointAt(size)),
      latestWitnessed: () => settle(() => this.latestWitnessed()),
      readNodes: (ids) => settle(() => this.readNodes(ids)),
      readLevel: (level, start, count) => settle(() => this.readLevel(level, start, count)),
      fullTile: (level, index) => settle(() => this.fullTile(level, index)),
      entryRange: (start, count) => settle(() => this.entryRange(start, count)),
      entryAt: (index) => settle(() => this.entryAt(index)),
      entryByLeafHash: (leafHash) => settle(() => this.entryByLeafHash(leafHash)),
      indexOfLeafHash: (leafHash) => settle(() => this.#stmt.indexByLeaf.get(leafHash)),
      lookup: (field, value, after, limit) => settle(() => this.lookup(field, value, after, limit)),
    };
    this.writer = {
      latestCheckpoint: () => settle(() => this.latestCheckpoint()),
      entryCount: () => settle(() => this.entryCount()),
      rightEdge: (size) => settle(() => this.readNodes(CompactRange.edgeNodes(BigInt(size)).map((id) => ({ level: id.level, index: Number(id.index) })))),
      commitBatch: (batch) => settle(() => this.#commit(batch)),
      setWitnessed: (checkpoint, note) => settle(() => this.setWitnessed(checkpoint, note)),
    };
  }

  identity(): Promise<LogIdentity | undefined> {
    return settle(() => {
      const origin = this.#stmt.meta.get('origin')?.value;
      return origin === undefined ? undefined : { origin, verifierKey: this.#stmt.meta.get('vkey')?.value };
    });
  }

  setIdentity(id: LogIdentity): Promise<void> {
    return settle(() => {
      this.#db.transaction(() => {
        if (this.#stmt.meta.get('origin') === undefined) this.#stmt.setMeta.run('origin', id.origin);
        if (id.verifierKey !== undefined && this.#stmt.meta.get('vkey') === undefined) this.#stmt.setMeta.run('vkey', id.verifierKey);
      })();
    });
  }

  latestCheckpoint(): CheckpointRecord | undefined {
    const row = this.#stmt.latest.get();
    return row && { size: row.size, rootHash: bytes(row.root_hash), note: row.note };
  }

  checkpointAt(size: number): CheckpointRecord | undefined {
    const row = this.#stmt.checkpointAt.get(size);
    return row && { size: row.size, rootHash: bytes(row.root_hash), note: row.note };
  }

  setWitnessed(checkpoint: CheckpointRecord, note: string): void {
    const created = new Date((this.#opts.now ?? Date.now)()).toISOString();
    this.#stmt.setWitnessed.run(checkpoint.size, checkpoint.rootHash, checkpoint.note, created, note);
  }

  latestWitnessed(): CheckpointRecord | undefined {
    const row = this.#stmt.latestWitnessed.get();
    return row && { size: row.size, rootHash: bytes(row.root_hash), note: row.witnessed };
  }

  entryCount(): number {
    return this.#stmt.count.get()?.n ?? 0;
  }

  /** The commit, synchronously (bulk loaders). */
  commitBatchSync(batch: Batch): void {
    this.#commit(batch);
  }

  readNodes(ids: ReadonlyArray<{ level: number; index: number }>): Uint8Array[] {
    return ids.map(({ level, index }) => {
      // Nodes high in the tree are shared by most proofs; committed nodes never change.
      const cacheable = level >= CACHE_MIN_LEVEL;
      const key = cacheable ? level * 2 ** 47 + index : 0;
      if (cacheable) {
        const hit = this.#nodeCache.get(key);
        if (hit) return hit;
      }
      const row = this.#stmt.node.get(level, index);
      if (row === undefined) throw new NotFoundError(`tree node at level ${level}, index ${index} is not stored`);
      const hash = bytes(row.hash);
      if (cacheable) {
        if (this.#nodeCache.size >= NODE_CACHE_SIZE) this.#nodeCache.delete(this.#nodeCache.keys().next().value!);
        this.#nodeCache.set(key, hash);
      }
      return hash;
    });
  }

  readLevel(level: number, start: number, count: number): Uint8Array[] {
    const rows = this.#stmt.level.all(level, start, start + count);
    if (rows.length !== count) throw new NotFoundError(`tree level ${level} holds ${rows.length} of ${count} hashes from ${start}`);
    return rows.map((r) => bytes(r.hash));
  }

  fullTile(level: number, index: number): Uint8Array | undefined {
    const row = this.#stmt.tile.get(level, index);
    return row && bytes(row.data);
  }

  entryRange(start: number, count: number): Uint8Array[] {
    const rows = this.#stmt.range.all(start, start + count);
    if (rows.length !== count) throw new NotFoundError(`entries [${start}, ${start + count}) are not all stored`);
    return rows.map((r) => bytes(r.data));
  }

  entryAt(index: number): StoredEntry | undefined {
    const row = this.#stmt.at.get(index);
    return row && toEntry(row);
  }

  entryByLeafHash(leafHash: Uint8Array): StoredEntry | undefined {
    const row = this.#stmt.byLeaf.get(leafHash);
    return row && toEntry(row);
  }

  lookup(field: LookupField, value: Uint8Array | string, after: number, limit: number): StoredEntry[] {
    let rows: Row[];
    if (field === 'name') rows = this.#stmt.byName.all(String(value), after, String(value), after, limit);
    else if (typeof value === 'string') throw new TypeError(`lookup by ${field} takes bytes`);
    else if (field === 'digest') rows = this.#stmt.byDigest.all(value, after, value, after, limit);
    else rows = this.#stmt.byKey.all(value, after, limit);
    return rows.map(toEntry);
  }

  /**
   * The whole log for `vitrine migrate`, read lazily table by table in key
   * order (the caller holds the directory lock, so nothing changes meanwhile).
   */
  exportLog(identity: LogExport['identity']): LogExport {
    const db = this.#db;
    // better-sqlite3 runs no other statement while an iterator is open, so
    // the subjects (few: only attestations have them) are read first.
    const subjectsOf = new Map<number, SubjectKey[]>();
    for (const x of this.#stmt.allSubjects.all()) {
      let list = subjectsOf.get(x.idx);
      if (list === undefined) subjectsOf.set(x.idx, (list = []));
      list.push({ digest: bytes(x.digest), name: x.name ?? undefined });
    }
    return {
      identity,
      entries: (function* () {
        for (const r of db.prepare<[], { idx: number; leaf_hash: Buffer; data: Buffer; digest: Buffer; key_hash: Buffer; name: string }>(
          'SELECT idx, leaf_hash, data, digest, key_hash, name FROM entries ORDER BY idx').iterate()) {
          const subjects = subjectsOf.get(r.idx) ?? [];
          yield {
            index: r.idx, leafHash: bytes(r.leaf_hash), data: bytes(r.data), digest: bytes(r.digest), keyHash: bytes(r.key_hash), name: r.name,
            ...(subjects.length > 0 ? { subjects } : {}),
          } satisfies EntryRecord;
        }
      })(),
      nodes: (function* () {
        for (const r of db.prepare<[], { level: number; idx: number; hash: Buffer }>('SELECT level, idx, hash FROM nodes ORDER BY level, idx').iterate()) {
          yield { level: r.level, index: r.idx, hash: bytes(r.hash) } satisfies StoredNode;
        }
      })(),
      tiles: (function* () {
        for (const r of db.prepare<[], { level: number; idx: number; data: Buffer }>('SELECT level, idx, data FROM tiles ORDER BY level, idx').iterate()) {
          yield { level: r.level, index: r.idx, data: bytes(r.data) } satisfies TileRecord;
        }
      })(),
      checkpoints: (function* () {
        for (const r of db.prepare<[], { size: number; root_hash: Buffer; note: string; witnessed: string | null }>(
          'SELECT size, root_hash, note, witnessed FROM checkpoints ORDER BY size').iterate()) {
          yield { size: r.size, rootHash: bytes(r.root_hash), note: r.note, ...(r.witnessed === null ? {} : { witnessed: r.witnessed }) } satisfies StoredCheckpoint;
        }
      })(),
    };
  }

  /** Closes at once (crash tests). */
  closeSync(): void {
    if (this.#db.open) this.#db.close();
  }

  close(): Promise<void> {
    return settle(() => this.closeSync());
  }
}

/** A synchronous result as a settled promise: a throw becomes a rejection, never an exception at the call. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Whether two ISO 8601 UTC times (Date.toISOString) fall in the same second. */
function sameSecond(a: string, b: string): boolean {
  return a.slice(0, 19) === b.slice(0, 19);
}

function toEntry(row: Row): StoredEntry {
  return { index: row.idx, data: bytes(row.data), leafHash: bytes(row.leaf_hash) };
}

