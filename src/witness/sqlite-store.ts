/**
 * WitnessStore on SQLite (better-sqlite3), in a database the caller opens
 * (the monitor's state database), with group commit.
 *
 * The compare-and-swap happens in memory, atomically (one thread), and the
 * new record is queued; all records queued while the previous commit was
 * in flight are written in ONE transaction (synchronous=FULL is the
 * caller's pragma), and `durable()` resolves only after that commit. A
 * witness answers a request only after `durable()`, so nothing is cosigned
 * that is not on disk, while one fsync serves many concurrent requests.
 *
 * The transaction re-checks each origin's stored size against the size the
 * batch started from, so the swap also holds against another process
 * sharing the file; if it fails, the whole batch fails, its waiters are
 * refused, and the memory view is reloaded from disk.
 */
import type Database from 'better-sqlite3';
import type { WitnessRecord, WitnessStore } from './witness.js';

interface Pending {
  /** The durable size this origin's queued change starts from. */
  base: bigint;
  record: WitnessRecord;
}

export class SqliteWitnessStore implements WitnessStore {
  readonly #db: Database.Database;
  readonly #select;
  readonly #conflict;
  readonly #commit: Database.Transaction<(batch: Map<string, Pending>) => void>;
  readonly #mem = new Map<string, WitnessRecord | null>();
  #queue = new Map<string, Pending>();
  #flush: Promise<void> | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS witness_latest (
        origin    TEXT PRIMARY KEY,
        size      INTEGER NOT NULL,
        root_hash BLOB NOT NULL,
        note      TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS witness_conflicts (
        id     INTEGER PRIMARY KEY,
        origin TEXT NOT NULL,
        note   TEXT NOT NULL,
        reason TEXT NOT NULL,
        seen   TEXT NOT NULL,
        UNIQUE (origin, note)
      );
    `);
    this.#select = db.prepare<[string], { size: bigint; root_hash: Buffer; note: string }>('SELECT size, root_hash, note FROM witness_latest WHERE origin = ?').safeIntegers(true);
    const insert = db.prepare<[string, bigint, Uint8Array, string]>('INSERT INTO witness_latest (origin, size, root_hash, note) VALUES (?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING');
    const update = db.prepare<[bigint, Uint8Array, string, string, bigint]>('UPDATE witness_latest SET size = ?, root_hash = ?, note = ? WHERE origin = ? AND size = ?');
    this.#conflict = db.prepare<[string, string, string, string]>('INSERT INTO witness_conflicts (origin, note, reason, seen) VALUES (?, ?, ?, ?) ON CONFLICT (origin, note) DO NOTHING');
    this.#commit = db.transaction((batch: Map<string, Pending>) => {
      for (const [origin, p] of batch) {
        const r = p.base === 0n && this.#select.get(origin) === undefined
          ? insert.run(origin, p.record.size, p.record.rootHash, p.record.note)
          : update.run(p.record.size, p.record.rootHash, p.record.note, origin, p.base);
        if (r.changes !== 1) throw new Error(`witness record of ${origin} changed on disk under this process`);
      }
    });
  }

  latest(origin: string): WitnessRecord | undefined {
    let rec = this.#mem.get(origin);
    if (rec === undefined) {
      const row = this.#select.get(origin);
      rec = row ? { size: BigInt(row.size), rootHash: new Uint8Array(row.root_hash), note: row.note } : null;
      this.#mem.set(origin, rec);
    }
    return rec ?? undefined;
  }

  compareAndSwap(origin: string, oldSize: bigint, next: WitnessRecord): boolean {
    const current = this.latest(origin);
    if ((current?.size ?? 0n) !== oldSize) return false;
    this.#mem.set(origin, next);
    const queued = this.#queue.get(origin);
    this.#queue.set(origin, { base: queued ? queued.base : oldSize, record: next });
    return true;
  }

  /** Resolves once every swap made so far is committed; rejects if that commit failed. */
  durable(): Promise<void> {
    if (this.#queue.size === 0) return this.#flush ?? Promise.resolve();
    if (this.#flush) return this.#flush.then(() => this.durable());
    const flush = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        const batch = this.#queue;
        this.#queue = new Map();
        try {
          this.#commit.immediate(batch);
          resolve();
        } catch (err) {
          // Forget what was not written; the next read reloads from disk.
          this.#mem.clear();
          this.#queue.clear();
          reject(err);
        } finally {
          this.#flush = undefined;
        }
      });
    });
    this.#flush = flush;
    return flush;
  }

  recordConflict(origin: string, note: string, reason: string): void {
    this.#conflict.run(origin, note, reason, new Date().toISOString());
  }

  /** Every conflicting checkpoint kept, oldest first. */
  conflicts(): Array<{ origin: string; note: string; reason: string; seen: string }> {
    return this.#db.prepare<[], { origin: string; note: string; reason: string; seen: string }>('SELECT origin, note, reason, seen FROM witness_conflicts ORDER BY id').all();
  }
}
