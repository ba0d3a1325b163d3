/**
 * WitnessStore on SQLite (better-sqlite3), in a database the caller opens
 * (the monitor's state database). The compare-and-swap is one UPDATE/INSERT
 * guarded by the old size, inside a transaction, so it also holds between
 * processes sharing the file.
 */
import type Database from 'better-sqlite3';
import type { WitnessRecord, WitnessStore } from './witness.js';

export class SqliteWitnessStore implements WitnessStore {
  readonly #db: Database.Database;
  readonly #latest;
  readonly #insert;
  readonly #update;
  readonly #conflict;
  readonly #cas: Database.Transaction<(origin: string, oldSize: bigint, next: WitnessRecord) => boolean>;

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
    this.#latest = db.prepare<[string], { size: bigint; root_hash: Buffer; note: string }>('SELECT size, root_hash, note FROM witness_latest WHERE origin = ?').safeIntegers(true);
    this.#insert = db.prepare<[string, bigint, Uint8Array, string]>('INSERT INTO witness_latest (origin, size, root_hash, note) VALUES (?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING');
    this.#update = db.prepare<[bigint, Uint8Array, string, string, bigint]>('UPDATE witness_latest SET size = ?, root_hash = ?, note = ? WHERE origin = ? AND size = ?');
    this.#conflict = db.prepare<[string, string, string, string]>('INSERT INTO witness_conflicts (origin, note, reason, seen) VALUES (?, ?, ?, ?) ON CONFLICT (origin, note) DO NOTHING');
    this.#cas = db.transaction((origin: string, oldSize: bigint, next: WitnessRecord) => {
      const r = oldSize === 0n && this.#latest.get(origin) === undefined
        ? this.#insert.run(origin, next.size, next.rootHash, next.note)
        : this.#update.run(next.size, next.rootHash, next.note, origin, oldSize);
      return r.changes === 1;
    });
  }

  latest(origin: string): WitnessRecord | undefined {
    const row = this.#latest.get(origin);
    return row && { size: BigInt(row.size), rootHash: new Uint8Array(row.root_hash), note: row.note };
  }

  compareAndSwap(origin: string, oldSize: bigint, next: WitnessRecord): boolean {
    return this.#cas.immediate(origin, oldSize, next);
  }

  recordConflict(origin: string, note: string, reason: string): void {
    this.#conflict.run(origin, note, reason, new Date().toISOString());
  }

  /** Every conflicting checkpoint kept, oldest first. */
  conflicts(): Array<{ origin: string; note: string; reason: string; seen: string }> {
    return this.#db.prepare<[], { origin: string; note: string; reason: string; seen: string }>('SELECT origin, note, reason, seen FROM witness_conflicts ORDER BY id').all();
  }
}
