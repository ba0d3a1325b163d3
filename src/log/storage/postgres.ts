/**
 * The PostgreSQL backend of `LogStorage` (the `postgres` client; README
 * "Dependencies" says why that one). All of the log's PostgreSQL SQL lives
 * in this file.
 *
 * - Schema: created and migrated by the log itself under a transaction-scoped
 *   advisory lock (two nodes starting at once do not race), with its version
 *   in meta; a newer schema than this build knows is refused.
 * - Durability: every connection runs with synchronous_commit = on, and a
 *   batch is one transaction: commitBatch resolves only after COMMIT
 *   returned, so no answer is sent before its batch is durable.
 * - One writer: the writer's connection holds a session advisory lock
 *   (WRITER_LOCK). Every commit transaction checks, on its own connection,
 *   that the lock is still held (or takes it again after a reconnect), so a
 *   writer whose session was lost can never commit over another's. A second
 *   `vitrine serve` on the same database is refused at start-up. A store opened
 *   with `shared` takes no lock: its commits are fenced by the lease epoch
 *   (the `lease` table, src/log/leadership.ts) instead, checked with FOR
 *   UPDATE inside each commit transaction.
 * - An outage: queries fail, the sequencer answers 503, and the client
 *   reconnects on the next query: nothing needs a restart.
 */
import postgres from 'postgres';
import { CompactRange } from '../../../merkle/index.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { Logger } from '../../util/logger.js';
import {
  StartupError, type Batch, type CheckpointRecord, type LogIdentity, type LogReader, type LogStorage, type LogWriter, type LookupField, type StoredEntry,
  type LogExport, type EntryRecord,
} from '../storage.js';

/** Schema migrations, in order; the schema version is their count. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (
     key   text PRIMARY KEY,
     value text NOT NULL
   );
   CREATE TABLE entries (
     idx       bigint PRIMARY KEY,
     leaf_hash bytea NOT NULL UNIQUE,
     data      bytea NOT NULL,
     digest    bytea NOT NULL,
     key_hash  bytea NOT NULL,
     name      text NOT NULL
   );
   CREATE INDEX entries_digest ON entries (digest, idx);
   CREATE INDEX entries_key ON entries (key_hash, idx);
   CREATE INDEX entries_name ON entries (name, idx);
   CREATE TABLE nodes (
     level integer NOT NULL,
     idx   bigint NOT NULL,
     hash  bytea NOT NULL,
     PRIMARY KEY (level, idx)
   );
   CREATE TABLE tiles (
     level integer NOT NULL,
     idx   bigint NOT NULL,
     data  bytea NOT NULL,
     PRIMARY KEY (level, idx)
   );
   CREATE TABLE checkpoints (
     size      bigint PRIMARY KEY,
     root_hash bytea NOT NULL,
     note      text NOT NULL,
     created   timestamptz NOT NULL DEFAULT now(),
     witnessed text
   );`,
  // The sequencer lease (src/log/leadership.ts): one row, its epoch bumped on every change of holder.
  `CREATE TABLE lease (
     id      integer PRIMARY KEY CHECK (id = 1),
     epoch   bigint NOT NULL,
     holder  text NOT NULL,
     url     text NOT NULL,
     expires timestamptz NOT NULL
   );`,
  // Further (digest, name) pairs an entry is found by: an attestation's other subjects.
  `CREATE TABLE entry_subjects (
     idx    bigint NOT NULL,
     digest bytea NOT NULL,
     name   text
   );
   CREATE INDEX entry_subjects_digest ON entry_subjects (digest, idx);
   CREATE INDEX entry_subjects_name ON entry_subjects (name, idx);`,
];
const SCHEMA_VERSION = MIGRATIONS.length;

/** Advisory lock keys (pg_advisory_lock(int, int)): "vitrine" in the first, the purpose in the second. */
const LOCK_SPACE = 0x76697472;
const MIGRATE_LOCK = 1;
const WRITER_LOCK = 2;

// Postgres OIDs for typed array parameters.
const INT8 = 20;
const BYTEA = 17;
const TEXT = 25;

// As in the SQLite backend: nodes high in the tree are shared by most proofs and never change.
const CACHE_MIN_LEVEL = 6;
const NODE_CACHE_SIZE = 65536;

type Sql = postgres.Sql<Record<string, never>>;
type Row = { idx: number; data: Buffer; leaf_hash: Buffer };

export interface PostgresOptions {
  log?: Logger;
  /** Connections for reads (default 8); the writer has one of its own. */
  readConnections?: number;
  /** Test hook: called inside the batch transaction after the writes, before COMMIT. Throwing rolls back. */
  beforeCommit?: (batch: Batch) => void;
  /**
   * Several nodes share this database (docs/operations.md "Running several
   * nodes on PostgreSQL"): no writer advisory lock is taken at start-up;
   * commits are fenced by the lease epoch given to `fence` instead, and
   * refused until one is given.
   */
  shared?: boolean;
  /** The clock checkpoint retention reads, in milliseconds since the epoch (tests); Date.now by default. */
  now?: () => number;
  /**
   * The longest wait before a lost connection is tried again
   * (`--db-retry-max-ms`; default 5000, below the driver's own 20 s). See connect().
   */
  retryMaxMs?: number;
}

/** The default cap on the wait before reconnecting (postgres.js 3.4's own is 20 s). */
export const DEFAULT_RETRY_MAX_MS = 5_000;

/** The sequencer lease as stored: who holds it, under which epoch, until when (database clock). */
export interface LeaseRow {
  epoch: number;
  holder: string;
  url: string;
  /** True while the lease has not expired by the database's clock. */
  live: boolean;
}

/**
 * A connection pool. After a connection error the driver waits before it
 * connects again: 3^n/100 s after the n-th error in a row (times a random
 * 0.5 to 1), counted over the whole pool until a connection succeeds: an outage of a few seconds, with
 * every query failing at once, pushes the wait to its cap. That cap bounds
 * how long a node still answers 503 after the database is back, so it is
 * `retryMaxMs` here; the formula below is the driver's own (postgres.js 3.4
 * `backoff`). The default cap is 5 s, not the driver's 20 s: a log that
 * answers 503 for 20 s after its database is back looks down to every
 * client, and an attempt per connection every few seconds costs the
 * database nothing.
 */
function connect(url: string, max: number, retryMaxMs = DEFAULT_RETRY_MAX_MS): Sql {
  return postgres(url, {
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, retryMaxMs / 1000),
    max,
    onnotice: () => {},
    // int8 values are sizes and indexes: numbers (every entry point checks they stay below 2^53).
    types: { bigint: { to: INT8, from: [INT8], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
    // Durability does not rest on the server's default.
    connection: { synchronous_commit: 'on', application_name: 'vitrine' },
    connect_timeout: 10,
  }) as unknown as Sql;
}

/**
 * Runs `fn` in a transaction on `sql`, as `sql.begin(fn)` does, except when
 * the connection closes under it.
 *
 * postgres.js 3.4 (porsager/postgres#1154, #1208; fixed only by the 4.x
 * rewrite) answers any failure of `fn` with a ROLLBACK on the transaction's
 * connection. When the failure is that the connection closed, that
 * connection has no socket any more: the driver writes to null from a
 * setImmediate, which no caller can catch, and the process dies. Worse, if
 * the exception is swallowed, the connection keeps a half-written buffer
 * and never connects again. So a query that failed because the connection
 * closed leaves `fn` pending: `begin()` then skips the ROLLBACK and rejects
 * through its own close handler, which the driver calls right after it
 * failed the query. PostgreSQL rolls back a transaction whose connection
 * is gone. Any other error rolls back as usual.
 * test/log/pg-connection-loss.test.ts injects the fault with a TCP proxy.
 */
async function transaction<T>(sql: Sql, fn: (tx: postgres.TransactionSql<Record<string, never>>) => Promise<T>): Promise<T> {
  return (await sql.begin((tx) => fn(tx).catch((err: unknown) => {
    if (connectionClosed(err)) return new Promise<never>(() => {});
    throw err;
  }))) as T;
}

/** The driver failed a query because its connection closed (a clean close, or a socket error). */
function connectionClosed(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; syscall?: unknown };
  return e.code === 'CONNECTION_CLOSED' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string');
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function toEntry(row: Row): StoredEntry {
  return { index: row.idx, data: bytes(row.data), leafHash: bytes(row.leaf_hash) };
}

/**
 * Opens a log database: connects, creates or migrates the schema, and takes
 * the writer lock. Rejects with StartupError when another node holds it or
 * the schema is newer than this build.
 */
export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<PostgresStorage> {
  const reads = connect(url, opts.readConnections ?? 8, opts.retryMaxMs);
  const writes = connect(url, 1, opts.retryMaxMs);
  try {
    await migrate(writes);
    if (opts.shared) return new PostgresStorage(reads, writes, opts, url);
    const [got] = await writes.unsafe<Array<{ ok: boolean }>>('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', [LOCK_SPACE, WRITER_LOCK]);
    if (!got?.ok) {
      const holder = await writes.unsafe<Array<{ pid: number; addr: string | null }>>(
        `SELECT l.pid, a.client_addr::text AS addr FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.granted`,
        [LOCK_SPACE, WRITER_LOCK],
      );
      const who = holder[0] ? `server process ${holder[0].pid}${holder[0].addr ? ` (client ${holder[0].addr})` : ''}` : 'another session';
      throw new StartupError(`another vitrine serve is the writer of this database (${who}); stop it first: one node per database is supported for now`);
    }
  } catch (err) {
    await Promise.all([reads.end({ timeout: 1 }), writes.end({ timeout: 1 })]);
    throw err;
  }
  return new PostgresStorage(reads, writes, opts);
}

async function migrate(sql: Sql): Promise<void> {
  await transaction(sql, async (tx) => {
    await tx.unsafe('SELECT pg_advisory_xact_lock($1::int, $2::int)', [LOCK_SPACE, MIGRATE_LOCK]);
    const [meta] = await tx.unsafe<Array<{ t: string | null }>>("SELECT to_regclass('meta')::text AS t");
    let version = 0;
    if (meta?.t) {
      const [row] = await tx.unsafe<Array<{ value: string }>>("SELECT value FROM meta WHERE key = 'schema'");
      version = row ? Number(row.value) : 0;
    }
    if (!Number.isSafeInteger(version) || version > SCHEMA_VERSION) {
      throw new StartupError(`database schema version ${version} is not supported by this build (it expects ${SCHEMA_VERSION}); run the matching release`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) await tx.unsafe(MIGRATIONS[v]!);
    if (version < SCHEMA_VERSION) {
      await tx.unsafe("INSERT INTO meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [String(SCHEMA_VERSION)]);
    }
  });
}

export class PostgresStorage implements LogStorage {
  readonly reader: LogReader;
  readonly writer: LogWriter;
  readonly #reads: Sql;
  readonly #writes: Sql;
  readonly #opts: PostgresOptions;
  /**
   * The lease's own connection (opened on first use): a renewal never
   * queues behind a large batch's commit on the writer's connection, where
   * it could arrive after the lease ran out.
   */
  #leaseSql: Sql | undefined;
  readonly #url: string | undefined;
  readonly #nodeCache = new Map<number, Uint8Array>();
  /** The lease epoch every commit must still hold (shared databases only). */
  #epoch: number | undefined;

  constructor(reads: Sql, writes: Sql, opts: PostgresOptions, url?: string) {
    this.#url = url;
    this.#reads = reads;
    this.#writes = writes;
    this.#opts = opts;
    this.reader = {
      latestCheckpoint: () => this.#latest(this.#reads),
      checkpointAt: async (size) => {
        const [row] = await this.#reads.unsafe<Array<{ size: number; root_hash: Buffer; note: string }>>(
          'SELECT size, root_hash, note FROM checkpoints WHERE size = $1', [size], { prepare: true });
        return row && { size: row.size, rootHash: bytes(row.root_hash), note: row.note };
      },
      latestWitnessed: async () => {
        const [row] = await this.#reads.unsafe<Array<{ size: number; root_hash: Buffer; witnessed: string }>>(
          'SELECT size, root_hash, witnessed FROM checkpoints WHERE witnessed IS NOT NULL ORDER BY size DESC LIMIT 1', [], { prepare: true });
        return row && { size: row.size, rootHash: bytes(row.root_hash), note: row.witnessed };
      },
      readNodes: (ids) => this.#readNodes(this.#reads, ids),
      readLevel: async (level, start, count) => {
        const rows = await this.#reads.unsafe<Array<{ hash: Buffer }>>(
          'SELECT hash FROM nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx', [level, start, start + count], { prepare: true });
        if (rows.length !== count) throw new NotFoundError(`tree level ${level} holds ${rows.length} of ${count} hashes from ${start}`);
        return rows.map((r) => bytes(r.hash));
      },
      fullTile: async (level, index) => {
        const [row] = await this.#reads.unsafe<Array<{ data: Buffer }>>('SELECT data FROM tiles WHERE level = $1 AND idx = $2', [level, index], { prepare: true });
        return row && bytes(row.data);
      },
      entryRange: async (start, count) => {
        const rows = await this.#reads.unsafe<Array<{ data: Buffer }>>(
          'SELECT data FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx', [start, start + count], { prepare: true });
        if (rows.length !== count) throw new NotFoundError(`entries [${start}, ${start + count}) are not all stored`);
        return rows.map((r) => bytes(r.data));
      },
      entryAt: async (index) => {
        const [row] = await this.#reads.unsafe<Row[]>('SELECT idx, data, leaf_hash FROM entries WHERE idx = $1', [index], { prepare: true });
        return row && toEntry(row);
      },
      entryByLeafHash: async (leafHash) => {
        const [row] = await this.#reads.unsafe<Row[]>('SELECT idx, data, leaf_hash FROM entries WHERE leaf_hash = $1', [Buffer.from(leafHash)], { prepare: true });
        return row && toEntry(row);
      },
      indexOfLeafHash: async (leafHash) => {
        const [row] = await this.#reads.unsafe<Array<{ idx: number }>>('SELECT idx FROM entries WHERE leaf_hash = $1', [Buffer.from(leafHash)], { prepare: true });
        return row?.idx;
      },
      lookup: async (field: LookupField, value, after, limit) => {
        if (field !== 'name' && typeof value === 'string') throw new TypeError(`lookup by ${field} takes bytes`);
        const column = field === 'name' ? 'name' : field === 'digest' ? 'digest' : 'key_hash';
        const param = typeof value === 'string' ? value : Buffer.from(value);
        const sql = field === 'key'
          ? `SELECT idx, data, leaf_hash FROM entries WHERE ${column} = $1 AND idx > $2 ORDER BY idx LIMIT $3`
          : `SELECT idx, data, leaf_hash FROM entries WHERE idx IN (SELECT idx FROM entries WHERE ${column} = $1 AND idx > $2
               UNION SELECT idx FROM entry_subjects WHERE ${column} = $1 AND idx > $2) ORDER BY idx LIMIT $3`;
        const rows = await this.#reads.unsafe<Row[]>(sql, [param, after, limit], { prepare: true });
        return rows.map(toEntry);
      },
    };
    this.writer = {
      latestCheckpoint: () => this.#latest(this.#writes),
      entryCount: async () => {
        const [row] = await this.#writes.unsafe<Array<{ n: number | null }>>('SELECT max(idx) + 1 AS n FROM entries');
        return row?.n ?? 0;
      },
      rightEdge: (size) => this.#readNodes(this.#writes, CompactRange.edgeNodes(BigInt(size)).map((id) => ({ level: id.level, index: Number(id.index) }))),
      commitBatch: (batch) => this.#commit(batch),
      setWitnessed: async (checkpoint, note) => {
        // Stored again if retention dropped it while its cosigning was in flight.
        await this.#writes.unsafe(
          `INSERT INTO checkpoints (size, root_hash, note, created, witnessed) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (size) DO UPDATE SET witnessed = EXCLUDED.witnessed`,
          [checkpoint.size, Buffer.from(checkpoint.rootHash), checkpoint.note, new Date((this.#opts.now ?? Date.now)()), note]);
      },
    };
  }

  async identity(): Promise<LogIdentity | undefined> {
    const rows = await this.#writes.unsafe<Array<{ key: string; value: string }>>("SELECT key, value FROM meta WHERE key IN ('origin', 'vkey')");
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    const origin = get('origin');
    return origin === undefined ? undefined : { origin, verifierKey: get('vkey') };
  }

  async setIdentity(id: LogIdentity): Promise<void> {
    await transaction(this.#writes, async (tx) => {
      await tx.unsafe("INSERT INTO meta (key, value) VALUES ('origin', $1) ON CONFLICT (key) DO NOTHING", [id.origin]);
      if (id.verifierKey !== undefined) await tx.unsafe("INSERT INTO meta (key, value) VALUES ('vkey', $1) ON CONFLICT (key) DO NOTHING", [id.verifierKey]);
    });
  }

  /**
   * Loads a whole log into this empty database in ONE transaction (vitrine
   * migrate): entries, nodes, tiles, checkpoints with their witness state,
   * then the identity. `verify` runs inside the transaction with the right
   * edge of the copied tree, after everything was written; if it throws,
   * nothing was copied. Rows go in chunks of `chunk` per statement.
   */
  async importLog(src: LogExport, verify: (size: number, edge: Uint8Array[]) => void, chunk = 2000): Promise<number> {
    let copied = 0;
    await transaction(this.#writes, async (tx) => {
      const [used] = await tx.unsafe<Array<{ n: number }>>("SELECT (SELECT count(*) FROM checkpoints) + (SELECT count(*) FROM meta WHERE key <> 'schema') AS n");
      if ((used?.n ?? 0) > 0) throw new StartupError('the target database already holds a log: migrate only into a new, empty database');
      const flush = async <T>(rows: T[], insert: (rows: T[]) => Promise<unknown>) => {
        if (rows.length > 0) await insert(rows.splice(0));
      };
      const each = async <T>(items: Iterable<T>, insert: (rows: T[]) => Promise<unknown>) => {
        const rows: T[] = [];
        for (const item of items) {
          rows.push(item);
          if (rows.length >= chunk) await flush(rows, insert);
        }
        await flush(rows, insert);
      };
      await each(src.entries, (e) => {
        copied += e.length;
        return tx.unsafe(
          'INSERT INTO entries (idx, leaf_hash, data, digest, key_hash, name) SELECT * FROM unnest($1::int8[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[])',
          [tx.array(e.map((x) => x.index), INT8), tx.array(e.map((x) => Buffer.from(x.leafHash)), BYTEA), tx.array(e.map((x) => Buffer.from(x.data)), BYTEA),
            tx.array(e.map((x) => Buffer.from(x.digest)), BYTEA), tx.array(e.map((x) => Buffer.from(x.keyHash)), BYTEA), tx.array(e.map((x) => x.name), TEXT)])
          .then(() => insertSubjects(tx, e));
      });
      await each(src.nodes, (n) => tx.unsafe('INSERT INTO nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::int8[], $3::bytea[])',
        [tx.array(n.map((x) => x.level), 23), tx.array(n.map((x) => x.index), INT8), tx.array(n.map((x) => Buffer.from(x.hash)), BYTEA)]));
      await each(src.tiles, (t) => tx.unsafe('INSERT INTO tiles (level, idx, data) SELECT * FROM unnest($1::int[], $2::int8[], $3::bytea[])',
        [tx.array(t.map((x) => x.level), 23), tx.array(t.map((x) => x.index), INT8), tx.array(t.map((x) => Buffer.from(x.data)), BYTEA)]));
      await each(src.checkpoints, (c) => tx.unsafe('INSERT INTO checkpoints (size, root_hash, note, witnessed) SELECT * FROM unnest($1::int8[], $2::bytea[], $3::text[], $4::text[])',
        [tx.array(c.map((x) => x.size), INT8), tx.array(c.map((x) => Buffer.from(x.rootHash)), BYTEA), tx.array(c.map((x) => x.note), TEXT),
          tx.array(c.map((x) => x.witnessed ?? null) as string[], TEXT)]));
      const [head] = await tx.unsafe<Array<{ size: number | null }>>('SELECT max(size) AS size FROM checkpoints');
      const size = head?.size ?? 0;
      verify(size, await this.#readNodes(tx as unknown as Sql, CompactRange.edgeNodes(BigInt(size)).map((id) => ({ level: id.level, index: Number(id.index) }))));
      await tx.unsafe("INSERT INTO meta (key, value) VALUES ('origin', $1)", [src.identity.origin]);
      if (src.identity.verifierKey !== undefined) await tx.unsafe("INSERT INTO meta (key, value) VALUES ('vkey', $1)", [src.identity.verifierKey]);
    });
    return copied;
  }

  /**
   * Takes the sequencer lease for `ms` milliseconds if nobody holds a live
   * one, bumping its epoch; resolves to the new epoch, or undefined when
   * another holder's lease is live. The database's clock decides expiry,
   * so the nodes' clocks never have to agree.
   */
  async acquireLease(holder: string, url: string, ms: number): Promise<number | undefined> {
    // Locking the row first waits for a commit in flight under the old epoch
    // (it holds FOR KEY SHARE, see #commit), so none lands after the new epoch began.
    const [row] = await transaction(this.#leases, async (tx) => {
      await tx.unsafe('SELECT 1 FROM lease WHERE id = 1 FOR UPDATE');
      return tx.unsafe<Array<{ epoch: number }>>(
      `INSERT INTO lease (id, epoch, holder, url, expires) VALUES (1, 1, $1, $2, clock_timestamp() + $3 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET epoch = lease.epoch + 1, holder = EXCLUDED.holder, url = EXCLUDED.url, expires = EXCLUDED.expires
       WHERE lease.expires <= clock_timestamp()
       RETURNING epoch`, [holder, url, ms]);
    });
    return row?.epoch;
  }

  /** Extends a live lease of `epoch` by `ms`; false when it expired or another node took it (then acquire again). */
  async renewLease(epoch: number, ms: number): Promise<boolean> {
    const rows = await this.#leases.unsafe(
      `UPDATE lease SET expires = clock_timestamp() + $2 * interval '1 millisecond'
        WHERE id = 1 AND epoch = $1 AND expires > clock_timestamp() RETURNING epoch`, [epoch, ms]);
    return rows.length === 1;
  }

  /** Ends a lease of `epoch` now, so another node can take over at once (clean shutdown). */
  async releaseLease(epoch: number): Promise<void> {
    await this.#leases.unsafe('UPDATE lease SET expires = clock_timestamp() WHERE id = 1 AND epoch = $1', [epoch]);
  }

  /** The lease row, if any node ever held it. */
  async lease(): Promise<LeaseRow | undefined> {
    const [row] = await this.#reads.unsafe<Array<LeaseRow>>(
      'SELECT epoch, holder, url, expires > clock_timestamp() AS live FROM lease WHERE id = 1');
    return row && { epoch: row.epoch, holder: row.holder, url: row.url, live: row.live };
  }

  get #leases(): Sql {
    this.#leaseSql ??= this.#url === undefined ? this.#writes : connect(this.#url, 1, this.#opts.retryMaxMs);
    return this.#leaseSql;
  }

  /** From now on every commit must hold the lease of `epoch` (undefined: none may commit). Shared databases only. */
  fence(epoch: number | undefined): void {
    this.#epoch = epoch;
  }

  /** Whether the database answers within `timeoutMs` (for /healthz): a stalled network counts as down. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.#reads.unsafe('SELECT 1').then(() => true, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#reads.end({ timeout: 5 }), this.#writes.end({ timeout: 5 }), this.#leaseSql?.end({ timeout: 5 })]);
  }

  async #latest(sql: Sql): Promise<CheckpointRecord | undefined> {
    const [row] = await sql.unsafe<Array<{ size: number; root_hash: Buffer; note: string }>>(
      'SELECT size, root_hash, note FROM checkpoints ORDER BY size DESC LIMIT 1', [], { prepare: true });
    return row && { size: row.size, rootHash: bytes(row.root_hash), note: row.note };
  }

  async #readNodes(sql: Sql, ids: ReadonlyArray<{ level: number; index: number }>): Promise<Uint8Array[]> {
    const out: Uint8Array[] = new Array<Uint8Array>(ids.length);
    const levels: number[] = [];
    const indexes: number[] = [];
    const at: number[] = [];
    ids.forEach(({ level, index }, i) => {
      const hit = level >= CACHE_MIN_LEVEL ? this.#nodeCache.get(level * 2 ** 47 + index) : undefined;
      if (hit) out[i] = hit;
      else {
        levels.push(level);
        indexes.push(index);
        at.push(i);
      }
    });
    if (at.length === 0) return out;
    // One round trip for every missing node of a proof.
    const rows = await sql.unsafe<Array<{ level: number; idx: number; hash: Buffer }>>(
      'SELECT n.level, n.idx, n.hash FROM unnest($1::int[], $2::int8[]) AS want(level, idx) JOIN nodes n USING (level, idx)',
      [sql.array(levels, 23), sql.array(indexes, INT8)],
      { prepare: true },
    );
    const found = new Map<number, Uint8Array>();
    for (const r of rows) found.set(r.level * 2 ** 47 + r.idx, bytes(r.hash));
    at.forEach((i, j) => {
      const level = levels[j]!;
      const key = level * 2 ** 47 + indexes[j]!;
      const hash = found.get(key);
      if (hash === undefined) throw new NotFoundError(`tree node at level ${level}, index ${indexes[j]} is not stored`);
      if (level >= CACHE_MIN_LEVEL) {
        if (this.#nodeCache.size >= NODE_CACHE_SIZE) this.#nodeCache.delete(this.#nodeCache.keys().next().value!);
        this.#nodeCache.set(key, hash);
      }
      out[i] = hash;
    });
    return out;
  }

  async #commit(batch: Batch): Promise<void> {
    if (batch.checkpoint.size !== batch.fromSize + batch.entries.length) {
      throw new Error(`batch checkpoint size ${batch.checkpoint.size} does not cover ${batch.entries.length} entries from ${batch.fromSize}`);
    }
    const sql = this.#writes;
    const shared = this.#opts.shared === true;
    const epoch = this.#epoch;
    if (shared && epoch === undefined) throw new ConflictError('this node does not hold the sequencer lease', BigInt(batch.fromSize));
    await transaction(sql, async (tx) => {
      if (shared) {
        // Fencing (issue 10 §3): the lease row must still carry our epoch and
        // be live by the database's clock. FOR KEY SHARE makes a node taking
        // the lease (which locks the row FOR UPDATE first) wait until this
        // transaction ends, so no commit of an old epoch can land after a new
        // epoch began; yet the holder's renewals (a plain UPDATE of a non-key
        // column) do not wait behind a slow commit and let the lease lapse.
        const [lease] = await tx.unsafe<Array<{ epoch: number; live: boolean }>>(
          'SELECT epoch, expires > clock_timestamp() AS live FROM lease WHERE id = 1 FOR KEY SHARE', [], { prepare: true });
        if (lease === undefined || lease.epoch !== epoch || !lease.live) {
          throw new ConflictError(`this node's sequencer lease (epoch ${epoch}) is no longer held${lease ? ` (the lease is at epoch ${lease.epoch}${lease.live ? '' : ', expired'})` : ''}`, BigInt(batch.fromSize));
        }
      }
      // Fencing: this transaction's own session must hold the writer lock.
      // After a reconnect it takes it again, unless another node has it.
      const [lock] = shared ? [{ held: true }] : await tx.unsafe<Array<{ held: boolean }>>(
        `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                                   AND classid = $1::int::oid AND objid = $2::int::oid AND granted)
                     THEN true ELSE pg_try_advisory_lock($1::int, $2::int) END AS held`,
        [LOCK_SPACE, WRITER_LOCK],
        { prepare: true },
      );
      if (!lock?.held) throw new ConflictError('another node is the writer of this database', BigInt(batch.fromSize));
      const [head] = await tx.unsafe<Array<{ size: number; second: number; witnessed: string | null }>>(
        'SELECT size, floor(extract(epoch FROM created))::float8 AS second, witnessed FROM checkpoints ORDER BY size DESC LIMIT 1', [], { prepare: true });
      const current = head?.size ?? 0;
      if (current !== batch.fromSize) {
        throw new ConflictError(`checkpoint compare-and-swap failed: stored size ${current}, batch expects ${batch.fromSize}`, BigInt(current));
      }
      const e = batch.entries;
      if (e.length > 0) {
        await tx.unsafe(
          `INSERT INTO entries (idx, leaf_hash, data, digest, key_hash, name)
           SELECT * FROM unnest($1::int8[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[])`,
          [
            tx.array(e.map((x) => x.index), INT8),
            tx.array(e.map((x) => Buffer.from(x.leafHash)), BYTEA),
            tx.array(e.map((x) => Buffer.from(x.data)), BYTEA),
            tx.array(e.map((x) => Buffer.from(x.digest)), BYTEA),
            tx.array(e.map((x) => Buffer.from(x.keyHash)), BYTEA),
            tx.array(e.map((x) => x.name), TEXT),
          ],
          { prepare: true },
        );
        await insertSubjects(tx, e);
      }
      if (batch.nodes.length > 0) {
        await tx.unsafe('INSERT INTO nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::int8[], $3::bytea[])', [
          tx.array(batch.nodes.map((n) => n.level), 23),
          tx.array(batch.nodes.map((n) => n.index), INT8),
          tx.array(batch.nodes.map((n) => Buffer.from(n.hash)), BYTEA),
        ], { prepare: true });
      }
      for (const t of batch.tiles) {
        await tx.unsafe('INSERT INTO tiles (level, idx, data) VALUES ($1, $2, $3)', [t.level, t.index, Buffer.from(t.data)], { prepare: true });
      }
      const now = (this.#opts.now ?? Date.now)();
      await tx.unsafe('INSERT INTO checkpoints (size, root_hash, note, created) VALUES ($1, $2, $3, $4)', [
        batch.checkpoint.size, Buffer.from(batch.checkpoint.rootHash), batch.checkpoint.note, new Date(now),
      ], { prepare: true });
      // Retention (storage.ts): one checkpoint per second of the clock, the last one; witnessed ones stay.
      if (head && head.witnessed === null && head.second === Math.floor(now / 1000)) {
        await tx.unsafe('DELETE FROM checkpoints WHERE size = $1 AND witnessed IS NULL', [head.size], { prepare: true });
      }
      this.#opts.beforeCommit?.(batch);
    });
  }
}

/** Inserts the further subjects of a batch's entries (entry_subjects), if any. */
async function insertSubjects(tx: postgres.TransactionSql<Record<string, never>>, entries: readonly EntryRecord[]): Promise<void> {
  const rows = entries.flatMap((x) => (x.subjects ?? []).map((s) => ({ idx: x.index, digest: s.digest, name: s.name ?? null })));
  if (rows.length === 0) return;
  await tx.unsafe('INSERT INTO entry_subjects (idx, digest, name) SELECT * FROM unnest($1::int8[], $2::bytea[], $3::text[])', [
    tx.array(rows.map((r) => r.idx), INT8),
    tx.array(rows.map((r) => Buffer.from(r.digest)), BYTEA),
    tx.array(rows.map((r) => r.name) as string[], TEXT),
  ]);
}
