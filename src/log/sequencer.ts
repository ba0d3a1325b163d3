/**
 * The sequencer: the single writer of a log (ARCHITECTURE.md "Log server
 * invariants"). It commits by group commit: a batch starts as soon as the
 * previous one is durable, and takes everything waiting (up to batch-size),
 * so a lone submission is answered after about one fsync and a loaded log
 * batches by itself. The batch interval is only an optional minimum spacing
 * between the starts of two batches (0 by default), for operators who want
 * fewer checkpoints at the cost of latency. Each batch:
 *   1. assigns indexes;
 *   2. appends the leaves to the tree's right edge (a compact range);
 *   3. signs the checkpoint of the new tree and commits entries, nodes, full
 *      tiles and that checkpoint in ONE transaction, compare-and-swap on the
 *      stored size;
 *   4. only then answers every waiter, with its inclusion proof.
 * A signed checkpoint never leaves this process before its transaction
 * committed, so no checkpoint is ever published for a tree that is not on
 * disk. If the commit fails, the in-memory tree is left as it was and the
 * waiters are told to retry (503). Storage is asynchronous (storage.ts):
 * one batch is in flight at a time; entries that arrive meanwhile wait in
 * the pool and form the next batch the moment it is answered.
 *
 * Start-up reads only the last checkpoint and the right edge of the tree,
 * and refuses to run if they disagree.
 */
import { CompactRange, planInclusion, TILE_HEIGHT, TILE_WIDTH, type NodeId } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { bytesEqual, b64encode } from '../encoding.js';
import { PushbackError } from '../errors.js';
import { formatCheckpoint, openCheckpoint, signNote, type Signer, type Verifier } from '../note/index.js';
import { Pool, type Accepted, type Waiter } from './pool.js';
import { StartupError, type CheckpointRecord, type LogReader, type LogWriter, type StoredNode, type TileRecord } from './storage.js';

export interface SequencerOptions {
  writer: LogWriter;
  reader: LogReader;
  origin: string;
  signer: Signer;
  verifier: Verifier;
  ed: Ed25519;
  /** Least milliseconds between the starts of two batches; 0 starts each as soon as the previous is durable. */
  batchInterval: number;
  batchSize: number;
  poolSize: number;
  /**
   * Asked right before a checkpoint is signed; false refuses the batch (503)
   * without signing. With several nodes it is the lease (leadership.ts).
   */
  canSign?: () => boolean;
  /** Called after every committed batch (for logs and metrics). */
  onBatch?: (info: { size: number; entries: number; seconds: number }) => void;
  /** Called when a batch fails to commit. */
  onError?: (err: unknown) => void;
  /** Called with every newly committed checkpoint (the witness client listens here). */
  onCommit?: (checkpoint: CheckpointRecord) => void;
  /**
   * Durably records a checkpoint outside the store (signed-record.ts). Awaited
   * after the batch's commit and before its checkpoint is handed out; if it
   * fails, the batch's waiters get 503 and the checkpoint stays unpublished
   * (the next batch's checkpoint, which extends it, is recorded instead).
   */
  record?: (checkpoint: CheckpointRecord) => Promise<void>;
}

/** What a submitter gets back: the entry's index and a checkpoint that includes it, with the proof. */
export interface Receipt {
  index: number;
  /** True when this submission added the entry; false for a duplicate. */
  fresh: boolean;
  checkpoint: CheckpointRecord;
  proof: Uint8Array[];
  /**
   * True when the checkpoint is already the one the submitter must get
   * (a forwarded answer, which waited for the witness quorum where there
   * is one): the service does not wait for the quorum again.
   */
  witnessed?: boolean;
}

/**
 * What the service needs of a sequencer: the Sequencer itself on a node
 * alone on its store, or a ClusterNode (cluster.ts) that sequences or
 * forwards, when several nodes share one database.
 */
export interface SequencerView {
  readonly size: number;
  readonly checkpoint: CheckpointRecord;
  readonly poolDepth: number;
  /** `forwarded`: the submission came from another node, so it must not be forwarded again. */
  submit(item: Accepted, opts?: { forwarded?: boolean }): Promise<Receipt>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  /** Commits what waits now, if this node sequences. */
  flush(): Promise<void>;
  /** Learns the newest head if another process advances it (an HTTP worker, workers.ts); absent where this view is the source. */
  catchUp?(): Promise<void>;
  /** Stops intake, commits what waits, and answers every waiter. */
  close(): Promise<void>;
}

interface BatchResult {
  index: number;
  size: number;
  checkpoint: CheckpointRecord;
  proof: Uint8Array[];
}

export { StartupError };

function key(level: number | bigint, index: number | bigint): string {
  return `${level}/${index}`;
}

export class Sequencer implements SequencerView {
  readonly #o: SequencerOptions;
  readonly #pool: Pool;
  #range: CompactRange;
  #checkpoint: CheckpointRecord;
  /** The newest committed checkpoint; ahead of #checkpoint only while (or after a failed) record write. */
  #committed: CheckpointRecord;
  /** A scheduled batch start (setImmediate or, with a minimum spacing, setTimeout). */
  #timer: { cancel(): void } | undefined;
  #started = false;
  /** When the last batch started (performance.now()); start-up counts as one, so spacing holds from the first. */
  #lastStart = performance.now();
  /** The batch being committed, if any: flushes never overlap. */
  #flushing: Promise<void> | undefined;
  /** Counts committed batches, so a storage lookup can tell that a commit landed while it ran. */
  #commits = 0;
  #closing = false;

  private constructor(o: SequencerOptions, range: CompactRange, checkpoint: CheckpointRecord) {
    this.#o = o;
    this.#pool = new Pool(o.poolSize);
    this.#range = range;
    this.#checkpoint = checkpoint;
    this.#committed = checkpoint;
  }

  /**
   * Loads the log's state and checks it: the last checkpoint must verify
   * with our key and origin, the number of stored entries must equal its
   * size, and the root recomputed from the stored right edge must equal its
   * root. A new log publishes the empty tree's checkpoint first.
   */
  static async open(o: SequencerOptions): Promise<Sequencer> {
    const { writer } = o;
    let checkpoint = await writer.latestCheckpoint();
    if (checkpoint === undefined) {
      if ((await writer.entryCount()) !== 0) throw new StartupError('the database holds entries but no checkpoint');
      const range = new CompactRange();
      const root = range.root();
      if (o.canSign && !o.canSign()) throw new StartupError('this node no longer holds the sequencer lease');
      const note = signNote(formatCheckpoint({ origin: o.origin, size: 0n, rootHash: root }), [o.signer], o.ed);
      checkpoint = { size: 0, rootHash: root, note };
      await writer.commitBatch({ fromSize: 0, entries: [], nodes: [], tiles: [], checkpoint });
      await o.record?.(checkpoint);
      return new Sequencer(o, range, checkpoint);
    }
    let parsed;
    try {
      parsed = openCheckpoint(checkpoint.note, o.verifier, o.ed);
    } catch (err) {
      throw new StartupError(`the last stored checkpoint does not verify with this log's key: ${(err as Error).message}`);
    }
    if (parsed.origin !== o.origin) {
      throw new StartupError(`the last stored checkpoint is for origin ${parsed.origin}, not ${o.origin}`);
    }
    if (parsed.size !== BigInt(checkpoint.size) || !bytesEqual(parsed.rootHash, checkpoint.rootHash)) {
      throw new StartupError('the last stored checkpoint row disagrees with its own signed note');
    }
    const count = await writer.entryCount();
    if (count !== checkpoint.size) {
      throw new StartupError(`the database holds ${count} entries but the last signed checkpoint has size ${checkpoint.size}`);
    }
    let hashes: Uint8Array[];
    try {
      hashes = await writer.rightEdge(checkpoint.size);
    } catch (err) {
      throw new StartupError(`the stored tree is missing nodes of its right edge: ${(err as Error).message}`);
    }
    const range = new CompactRange(BigInt(checkpoint.size), hashes);
    if (!bytesEqual(range.root(), checkpoint.rootHash)) {
      throw new StartupError(
        `the stored tree's root ${b64encode(range.root())} does not match the last signed checkpoint's root ${b64encode(checkpoint.rootHash)}`,
      );
    }
    // A crash may have come between a commit and its record; catch up before serving it.
    await o.record?.(checkpoint);
    return new Sequencer(o, range, checkpoint);
  }

  get size(): number {
    return this.#checkpoint.size;
  }

  get checkpoint(): CheckpointRecord {
    return this.#checkpoint;
  }

  get poolDepth(): number {
    return this.#pool.depth;
  }

  get closing(): boolean {
    return this.#closing;
  }

  start(): void {
    this.#started = true;
    this.#kick();
  }

  /**
   * Schedules the next batch if entries wait and none is in flight or
   * scheduled. setImmediate rather than an immediate flush lets the
   * submissions parsed in the same event-loop turn join one batch.
   */
  #kick(): void {
    if (!this.#started || this.#closing || this.#flushing || this.#timer !== undefined || this.#pool.depth === 0) return;
    const wait = this.#lastStart + this.#o.batchInterval - performance.now();
    const run = () => {
      this.#timer = undefined;
      void this.flush();
    };
    // The HTTP server keeps the process alive; a scheduled batch alone must not.
    if (wait <= 0) {
      const h = setImmediate(run).unref();
      this.#timer = { cancel: () => clearImmediate(h) };
    } else {
      const h = setTimeout(run, Math.ceil(wait)).unref();
      this.#timer = { cancel: () => clearTimeout(h) };
    }
  }

  /**
   * Submits a validated, signature-checked entry. Resolves once the entry
   * is committed under a signed checkpoint; a duplicate resolves to the
   * existing index with a fresh proof.
   */
  async submit(item: Accepted): Promise<Receipt> {
    if (this.#closing) throw new PushbackError('the log is shutting down', 5);
    // A leaf is either waiting (join it), committed (answer it), or new. A
    // batch that commits while the storage lookup runs is caught by the
    // commit counter, so a committed leaf is never queued a second time.
    for (;;) {
      const pending = this.#pool.pending(item.leafHash);
      if (pending) {
        await pending;
        return this.receiptFor(item.leafHash, false);
      }
      const commits = this.#commits;
      const existing = await this.#o.reader.indexOfLeafHash(item.leafHash);
      if (existing !== undefined) return this.#receipt(existing, false);
      if (this.#pool.pending(item.leafHash) === undefined && this.#commits === commits) break;
    }
    if (this.#closing) throw new PushbackError('the log is shutting down', 5);
    const retryAfter = Math.max(1, Math.ceil((2 * this.#o.batchInterval) / 1000));
    const added = this.#pool.add(item, retryAfter);
    this.#kick();
    const result = (await added) as BatchResult;
    return { index: result.index, fresh: true, checkpoint: result.checkpoint, proof: result.proof };
  }

  /** A receipt for an entry already committed: its index, the latest checkpoint and a proof against it. */
  async receiptFor(leafHash: Uint8Array, fresh: boolean): Promise<Receipt> {
    const found = await this.#o.reader.indexOfLeafHash(leafHash);
    if (found === undefined) throw new Error('entry vanished after commit');
    return this.#receipt(found, fresh);
  }

  async #receipt(index: number, fresh: boolean): Promise<Receipt> {
    const checkpoint = this.#checkpoint;
    // Committed, but its checkpoint is not recorded yet (a failed record write): nothing to prove against.
    if (index >= checkpoint.size) throw new PushbackError('the entry is logged but no published checkpoint covers it yet; retry later', 1);
    return { index, fresh, checkpoint, proof: await this.inclusionProof(index, checkpoint.size) };
  }

  /** The inclusion proof of `index` in the tree of `size`, from storage. */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    const plan = planInclusion(BigInt(index), BigInt(size));
    return plan.assemble(await this.#o.reader.readNodes(plan.nodes.map(toStorageId)));
  }

  /**
   * Commits one batch from the pool, if any waits, and resolves when it is
   * answered. While a batch is in flight, a second call waits for it and
   * commits nothing itself; when a batch is answered, the next one is
   * scheduled at once if entries wait (group commit).
   */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    const batch = this.#pool.take(this.#o.batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.#lastStart = performance.now();
    const run = this.#flushBatch(batch).finally(() => {
      this.#flushing = undefined;
      this.#kick();
    });
    this.#flushing = run;
    return run;
  }

  async #flushBatch(batch: Waiter[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.#commit(batch);
      this.#commits++;
      this.#pool.settle(batch, { ok: true, results });
      this.#o.onCommit?.(this.#checkpoint);
      this.#o.onBatch?.({ size: this.#checkpoint.size, entries: batch.length, seconds: (performance.now() - started) / 1000 });
    } catch (err) {
      this.#o.onError?.(err);
      this.#pool.settle(batch, { ok: false, error: new PushbackError('the log could not commit this batch; retry later', 1) });
    }
  }

  async #commit(batch: Waiter[]): Promise<BatchResult[]> {
    const { writer, reader } = this.#o;
    const fromSize = this.#committed.size;
    const edge = this.#range.hashes();
    const range = new CompactRange(BigInt(fromSize), edge);
    // Nodes this batch's proofs may need: the old right edge and everything new.
    const known = new Map<string, Uint8Array>();
    CompactRange.edgeNodes(BigInt(fromSize)).forEach((id, i) => known.set(key(id.level, id.index), edge[i]!));
    const nodes: StoredNode[] = [];
    const tiles: TileRecord[] = [];
    const completed: Array<{ level: number; tileIndex: number }> = [];
    const entries = batch.map((w, i) => {
      const index = fromSize + i;
      for (const n of range.append(w.item.leafHash)) {
        const node = { level: n.level, index: Number(n.index), hash: n.hash };
        nodes.push(node);
        known.set(key(n.level, n.index), n.hash);
        if (n.level % TILE_HEIGHT === 0 && node.index % TILE_WIDTH === TILE_WIDTH - 1) {
          completed.push({ level: n.level, tileIndex: (node.index - (TILE_WIDTH - 1)) / TILE_WIDTH });
        }
      }
      return { index, data: w.item.data, leafHash: w.item.leafHash, digest: w.item.digest, keyHash: w.item.keyHash, name: w.item.name, ...(w.item.subjects ? { subjects: w.item.subjects } : {}) };
    });
    for (const c of completed) tiles.push(await this.#fullTile(c.level, c.tileIndex, known));
    const size = fromSize + batch.length;
    const rootHash = range.root();
    if (this.#o.canSign && !this.#o.canSign()) throw new Error('this node no longer holds the sequencer lease; nothing signed');
    const note = signNote(formatCheckpoint({ origin: this.#o.origin, size: BigInt(size), rootHash }), [this.#o.signer], this.#o.ed);
    const checkpoint: CheckpointRecord = { size, rootHash, note };
    await writer.commitBatch({ fromSize, entries, nodes, tiles, checkpoint });
    this.#range = range;
    this.#committed = checkpoint;
    // Recorded outside the store before anyone sees it (rollback protection).
    await this.#o.record?.(checkpoint);
    this.#checkpoint = checkpoint;
    // Proof nodes come from this batch's nodes; the few older ones, from storage in one read.
    const plans = entries.map((e) => planInclusion(BigInt(e.index), BigInt(size)));
    const missing = new Map<string, NodeId>();
    for (const plan of plans) for (const id of plan.nodes) if (!known.has(key(id.level, id.index))) missing.set(key(id.level, id.index), id);
    if (missing.size > 0) {
      const ids = [...missing.values()];
      (await reader.readNodes(ids.map(toStorageId))).forEach((h, i) => known.set(key(ids[i]!.level, ids[i]!.index), h));
    }
    const read = (id: NodeId) => known.get(key(id.level, id.index))!;
    return entries.map((e, i) => ({ index: e.index, size, checkpoint, proof: plans[i]!.assemble(plans[i]!.nodes.map(read)) }));
  }

  /** The 256 hashes of a full tile at tree level `level`, from this batch's nodes and storage. */
  async #fullTile(level: number, tileIndex: number, known: Map<string, Uint8Array>): Promise<TileRecord> {
    const start = tileIndex * TILE_WIDTH;
    const data = new Uint8Array(TILE_WIDTH * 32);
    // Hashes committed by earlier batches come from storage, one range read per run.
    for (let i = 0; i < TILE_WIDTH; ) {
      const h = known.get(key(level, start + i));
      if (h) {
        data.set(h, i * 32);
        i++;
        continue;
      }
      let end = i + 1;
      while (end < TILE_WIDTH && !known.has(key(level, start + end))) end++;
      (await this.#o.reader.readLevel(level, start + i, end - i)).forEach((stored, j) => data.set(stored, (i + j) * 32));
      i = end;
    }
    return { level: level / TILE_HEIGHT, index: tileIndex, data };
  }

  /** Stops intake, commits what waits, and answers every waiter. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#flushing;
    while (this.#pool.depth > 0) await this.flush();
    // Let the waiters' continuations run before the caller closes storage.
    await new Promise((r) => setImmediate(r));
  }
}

function toStorageId(id: NodeId): { level: number; index: number } {
  return { level: id.level, index: Number(id.index) };
}
