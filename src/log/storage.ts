/**
 * The log's storage interface: the one seam between the sequencer and the
 * database. Everything the log persists goes through `LogStorage`, so a
 * PostgreSQL backend is an addition beside `sqlite.ts`, not a rewrite.
 *
 * What is stored (ARCHITECTURE.md "Log server invariants"):
 * - entries: leaf bytes by index, with their leaf hash (unique), digest,
 *   key hash and name for lookups;
 * - every stored Merkle node (complete subtree, RFC 9162 §2.1) by level and
 *   index, and every full hash tile (c2sp.org/tlog-tiles) as one blob;
 * - every signed checkpoint ever published, by tree size.
 *
 * Sizes and indexes are JavaScript numbers here: a log would need 2^53
 * entries to reach the edge, and every entry point checks the range.
 */

/** The log refuses to start: the message says what is wrong and what to do (docs/operations.md). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** A complete subtree hash: level L, index K covers leaves [K·2^L, (K+1)·2^L). */
export interface StoredNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/** One entry as the sequencer commits it. */
export interface EntryRecord {
  index: number;
  data: Uint8Array;
  leafHash: Uint8Array;
  digest: Uint8Array;
  keyHash: Uint8Array;
  name: string;
}

/** A full hash tile that became complete in a batch (256 hashes, 8192 bytes). */
export interface TileRecord {
  level: number;
  index: number;
  data: Uint8Array;
}

/** A checkpoint as published: the signed note text and the values it signs. */
export interface CheckpointRecord {
  size: number;
  rootHash: Uint8Array;
  note: string;
}

/** One batch, committed atomically. */
export interface Batch {
  /** The size the batch starts from; the commit fails unless it equals the stored size (compare-and-swap). */
  fromSize: number;
  entries: EntryRecord[];
  nodes: StoredNode[];
  tiles: TileRecord[];
  checkpoint: CheckpointRecord;
}

export type LookupField = 'digest' | 'key' | 'name';

export interface LogStorage {
  /** The origin this data directory belongs to, or undefined when it is new. */
  origin(): string | undefined;
  /** Records the origin of a new data directory. Fails if one is already set. */
  initOrigin(origin: string): void;
  /** The newest published checkpoint, or undefined for a log that never published one. */
  latestCheckpoint(): CheckpointRecord | undefined;
  /** Number of entries stored. */
  entryCount(): number;
  /**
   * Commits entries, nodes, full tiles and the checkpoint in one
   * transaction. Throws ConflictError (and commits nothing) if the stored
   * size is not `batch.fromSize`.
   */
  commitBatch(batch: Batch): void;
  /** Hashes of stored nodes, in order; throws NotFoundError if one is missing. */
  readNodes(ids: ReadonlyArray<{ level: number; index: number }>): Uint8Array[];
  /** `count` consecutive hashes of one level starting at `start` (for partial tiles). */
  readLevel(level: number, start: number, count: number): Uint8Array[];
  /** A full hash tile blob, if that tile is complete. */
  fullTile(level: number, index: number): Uint8Array | undefined;
  /** Entry bytes for indexes [start, start + count). */
  entryRange(start: number, count: number): Uint8Array[];
  /** Entry by index. */
  entryAt(index: number): { index: number; data: Uint8Array; leafHash: Uint8Array } | undefined;
  /** Entry by leaf hash. */
  entryByLeafHash(leafHash: Uint8Array): { index: number; data: Uint8Array; leafHash: Uint8Array } | undefined;
  /** Entries matching one lookup field, in index order, with index > after. */
  lookup(field: LookupField, value: Uint8Array | string, after: number, limit: number): Array<{ index: number; data: Uint8Array; leafHash: Uint8Array }>;
  /** The published checkpoint of exactly this size, if any. */
  checkpointAt(size: number): CheckpointRecord | undefined;
  /** Records that the checkpoint of `size` reached the witness quorum, with its cosigned note. */
  setWitnessed(size: number, note: string): void;
  /** The newest checkpoint that reached the witness quorum, with its cosignatures. */
  latestWitnessed(): { size: number; note: string } | undefined;
  close(): void;
}
