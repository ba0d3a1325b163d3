/**
 * The log's storage interface: the one seam between the log and its
 * database. It is asynchronous and split in two: a `LogWriter` that only the
 * sequencer uses (commit a batch with compare-and-swap on the size, read the
 * right edge and the latest checkpoint) and a `LogReader` for every read
 * path. Backends live one per file in storage/ (sqlite.ts, postgres.ts); the
 * sequencer, the service and the HTTP layer never know which one runs, and
 * cmd/serve.ts builds the storage (storage/open.ts) and hands it in.
 *
 * What is stored (ARCHITECTURE.md "Log server invariants"):
 * - entries: leaf bytes by index, with their leaf hash (unique), digest,
 *   key hash and name for lookups, and the further (digest, name) pairs of
 *   an attestation's other subjects (table entry_subjects);
 * - every stored Merkle node (complete subtree, RFC 9162 §2.1) by level and
 *   index, and every full hash tile (c2sp.org/tlog-tiles) as one blob;
 * - signed checkpoints by tree size, under a retention rule that keeps
 *   their number from growing faster than the entries (docs/operations.md
 *   "Checkpoint retention"): the newest, every one that reached the witness
 *   quorum, and at most one per second of the clock otherwise (the last
 *   committed in that second). A dropped checkpoint is never needed again:
 *   Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so the log can
 *   sign the same size and root again byte for byte, and proofs come from
 *   the tree's nodes, not from stored checkpoints.
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
  /** Further artifacts the entry speaks for (an attestation's other subjects), found by digest and name lookups too. */
  subjects?: readonly SubjectKey[];
}

/** One more (digest, name) an entry is looked up by; a name that is not a valid entry name is not indexed (undefined). */
export interface SubjectKey {
  digest: Uint8Array;
  name: string | undefined;
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

/** An entry as read back. */
export interface StoredEntry {
  index: number;
  data: Uint8Array;
  leafHash: Uint8Array;
}

/**
 * The read side: everything the service answers from, on any node. Every
 * method reads committed data only, so any number of readers may run beside
 * the one writer.
 */
export interface LogReader {
  /** The newest published checkpoint, or undefined for a log that never published one. */
  latestCheckpoint(): Promise<CheckpointRecord | undefined>;
  /** The stored checkpoint of exactly this size, if the retention rule (module comment) kept it. */
  checkpointAt(size: number): Promise<CheckpointRecord | undefined>;
  /** The newest checkpoint that reached the witness quorum: `note` carries its cosignatures. */
  latestWitnessed(): Promise<CheckpointRecord | undefined>;
  /** Hashes of stored nodes, in order; rejects with NotFoundError if one is missing. */
  readNodes(ids: ReadonlyArray<{ level: number; index: number }>): Promise<Uint8Array[]>;
  /** `count` consecutive hashes of one level starting at `start` (for partial tiles). */
  readLevel(level: number, start: number, count: number): Promise<Uint8Array[]>;
  /** A full hash tile blob, if that tile is complete. */
  fullTile(level: number, index: number): Promise<Uint8Array | undefined>;
  /** Entry bytes for indexes [start, start + count). */
  entryRange(start: number, count: number): Promise<Uint8Array[]>;
  entryAt(index: number): Promise<StoredEntry | undefined>;
  entryByLeafHash(leafHash: Uint8Array): Promise<StoredEntry | undefined>;
  /**
   * The index of the entry with this leaf hash, if stored: one probe of the
   * leaf-hash index, no entry bytes read. The duplicate check of every
   * submission and every inclusion proof by leaf hash ask only this.
   */
  indexOfLeafHash(leafHash: Uint8Array): Promise<number | undefined>;
  /** Entries matching one lookup field, in index order, with index > after. */
  lookup(field: LookupField, value: Uint8Array | string, after: number, limit: number): Promise<StoredEntry[]>;
}

/** The write side: used by the sequencer only. */
export interface LogWriter {
  /** The newest published checkpoint (the size a commit must start from). */
  latestCheckpoint(): Promise<CheckpointRecord | undefined>;
  /** Number of entries stored. */
  entryCount(): Promise<number>;
  /**
   * The right edge of the tree of `size` (RFC 9162 §2.1 complete subtrees,
   * largest first, CompactRange.edgeNodes order); rejects with
   * NotFoundError if a node is missing.
   */
  rightEdge(size: number): Promise<Uint8Array[]>;
  /**
   * Commits entries, nodes, full tiles and the checkpoint in one durable
   * transaction and resolves only once it is durable. Rejects with
   * ConflictError (and commits nothing) if the stored size is not
   * `batch.fromSize`. In the same transaction it applies the retention
   * rule: the previous newest checkpoint is dropped when it was committed
   * in the same second as this one and has not reached the witness quorum.
   */
  commitBatch(batch: Batch): Promise<void>;
  /**
   * Records that `checkpoint` reached the witness quorum, with its cosigned
   * note. Stores the checkpoint again if retention had dropped it meanwhile
   * (its cosigning was in flight when a newer one was committed).
   */
  setWitnessed(checkpoint: CheckpointRecord, witnessedNote: string): Promise<void>;
}

/** Who a store belongs to, recorded on first start and checked on every later one. */
export interface LogIdentity {
  origin: string;
  /** The log's verifier key (vkey); undefined for stores made before it was recorded. */
  verifierKey?: string;
}

/** A backend: one store, with its reader and writer (src/log/storage/*.ts). */
export interface LogStorage {
  readonly reader: LogReader;
  readonly writer: LogWriter;
  /** The store's identity, or undefined when it is new. */
  identity(): Promise<LogIdentity | undefined>;
  /** Records the identity of a new store, or the key of a store that has only an origin. */
  setIdentity(id: LogIdentity): Promise<void>;
  /**
   * Whether the database answers a trivial query within `timeoutMs` (for
   * /healthz). Backends without a server (SQLite) may leave it out.
   */
  ping?(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** A checkpoint row as stored, with the cosigned note once it reached the witness quorum. */
export interface StoredCheckpoint extends CheckpointRecord {
  witnessed?: string;
}

/** A whole log, table by table in key order, as `vitrine migrate` copies it. */
export interface LogExport {
  identity: LogIdentity;
  entries: Iterable<EntryRecord>;
  nodes: Iterable<StoredNode>;
  tiles: Iterable<TileRecord>;
  checkpoints: Iterable<StoredCheckpoint>;
}
