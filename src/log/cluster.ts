/**
 * One `vitrine serve` node among several on one PostgreSQL database (issue
 * 10 §3; docs/operations.md "Running several nodes on PostgreSQL").
 *
 * Every node serves every read path from the database and accepts
 * submissions. At most one node sequences at a time: the holder of the
 * lease (leadership.ts), which runs an ordinary Sequencer fenced by the
 * lease epoch. Every other node follows:
 *
 * - it polls the database for the newest checkpoint and the lease row every
 *   `followMs`, verifies the checkpoint with the log key before serving it,
 *   and never goes back to an older one (a database that did is reported
 *   with a `store-behind` event, not served);
 * - it answers a submission it has already seen committed by itself, and
 *   forwards any other to the sequencer over HTTP (forward.ts), checking the
 *   answer before it passes it on;
 * - when the lease lapses (the sequencer died or stalled), it tries to take
 *   it, and on success opens a Sequencer on the database's newest state.
 *
 * The rollback record (signed-record.ts) is per node: a node that becomes
 * the sequencer accepts a database ahead of its own record (other nodes
 * signed meanwhile) and refuses, for good, one behind it. A following node
 * records too: every checkpoint it takes up (from the database or from a
 * forwarded answer, verified with the log key first), so that its record
 * holds the newest checkpoint it has seen signed by any node, and a node
 * that was down refuses a database restored behind what it saw, without
 * the operator copying records between nodes. All writes of the record,
 * the sequencer's and the follower's, go through one queue: one at a time,
 * and a follower's never goes back.
 */
import { planInclusion, type NodeId } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { bytesEqual } from '../encoding.js';
import { PushbackError } from '../errors.js';
import { openCheckpoint, type Verifier } from '../note/index.js';
import type { Logger } from '../util/logger.js';
import { forwardSubmission } from './forward.js';
import { Leadership, type LeaseStore } from './leadership.js';
import type { Accepted } from './pool.js';
import type { Receipt, Sequencer, SequencerView } from './sequencer.js';
import type { CheckpointRecord, LogReader } from './storage.js';
import type { LeaseRow } from './storage/postgres.js';
import type { Witnessing } from './witnesses.js';

/** A store several nodes share: the lease operations and a look at the lease row. */
export interface SharedStore extends LeaseStore {
  lease(): Promise<LeaseRow | undefined>;
}

export interface ClusterOptions {
  store: SharedStore;
  reader: LogReader;
  origin: string;
  verifier: Verifier;
  ed: Ed25519;
  /** The database's newest checkpoint at start-up, if the log has one. */
  initial: CheckpointRecord | undefined;
  /**
   * Throws (a StartupError) when the database is behind this node's rollback
   * record: then this node never sequences, and says so.
   */
  checkRecord(): Promise<void>;
  /**
   * Opens and starts a Sequencer on the database's newest state, signing
   * only while `canSign()`, and recording what it signs with `record` (the
   * node's queue of record writes, when it keeps a record).
   */
  openSequencer(canSign: () => boolean, onCommit: (cp: CheckpointRecord) => void, record: ((cp: CheckpointRecord) => Promise<void>) | undefined): Promise<Sequencer>;
  /**
   * Durably replaces this node's rollback record (--state-file) with a
   * checkpoint; undefined when the node keeps no record.
   */
  record?: (cp: CheckpointRecord) => Promise<void>;
  /** Lease length (`--lease-ms`): failover takes about this long plus a sixth. */
  leaseMs: number;
  /** How often a node reads the newest checkpoint and the lease row (default leaseMs / 12, at least 50 ms). */
  followMs?: number;
  /** How long a forwarded submission waits for the sequencer's answer. */
  forwardTimeoutMs: number;
  witnessing?: Witnessing;
  /** Called whenever the checkpoint this node serves advanced (e.g. to publish it). */
  onAdvance?: () => void;
  log: Logger;
}

export interface JoinOptions {
  /** This node's name in the lease row (unique among the nodes). */
  holder: string;
  /** Where the other nodes forward submissions to this one. */
  url: string;
  /** Called whenever this node starts or stops sequencing. */
  onRole?: (sequencing: boolean, epoch: number) => void;
}

export class ClusterNode implements SequencerView {
  readonly #o: ClusterOptions;
  #head: CheckpointRecord | undefined;
  #seq: Sequencer | undefined;
  #leader: LeaseRow | undefined;
  #leadership: Leadership | undefined;
  #join: JoinOptions | undefined;
  #timer: NodeJS.Timeout | undefined;
  #following: Promise<void> | undefined;
  /** False once this node found the database behind its record: it only follows from then on. */
  #mayLead = true;
  /** The last write of the rollback record, queued or done (writes never overlap). */
  #recording: Promise<void> = Promise.resolve();
  /** The size of the newest checkpoint this process recorded; a follower's writes only go forward. */
  #recorded = -1;
  /** The newest checkpoint taken up while following that waits for its write, if any. */
  #pendingRecord: CheckpointRecord | undefined;
  /** The last failure logged per event, to keep an outage from flooding the log. */
  readonly #failing = new Map<string, { message: string; at: number }>();
  #closed = false;

  constructor(o: ClusterOptions) {
    this.#o = o;
    if (o.initial) this.#adopt(o.initial, 'start');
  }

  /** True while this node sequences. */
  get sequencing(): boolean {
    return this.#seq !== undefined;
  }

  /** The lease epoch this node holds, or undefined while it follows. */
  get epoch(): number | undefined {
    return this.#seq ? this.#leadership?.epoch : undefined;
  }

  get checkpoint(): CheckpointRecord {
    const h = this.#head;
    if (!h) throw new PushbackError('this log has no checkpoint yet: no node has started sequencing it', 1);
    return h;
  }

  get size(): number {
    return this.#head?.size ?? 0;
  }

  get poolDepth(): number {
    return this.#seq?.poolDepth ?? 0;
  }

  /** Starts following, and competing for the lease, as `holder` reachable at `url`. */
  join(j: JoinOptions): void {
    if (this.#join) return;
    this.#join = j;
    const store = this.#o.store;
    const guarded: LeaseStore = {
      acquireLease: (holder, url, ms) => (this.#mayLead && !this.#closed ? store.acquireLease(holder, url, ms) : Promise.resolve(undefined)),
      renewLease: (epoch, ms) => store.renewLease(epoch, ms),
      releaseLease: (epoch) => store.releaseLease(epoch),
      fence: (epoch) => store.fence(epoch),
    };
    this.#leadership = new Leadership({
      store: guarded,
      holder: j.holder,
      url: j.url,
      leaseMs: this.#o.leaseMs,
      onElected: (epoch) => this.#elected(epoch),
      onDeposed: (epoch) => this.#deposed(epoch),
      onError: (err) => this.#quiet('lease-error', (err as Error).message),
    });
    this.#leadership.start();
    this.#timer = setInterval(() => void this.follow(), this.#o.followMs ?? Math.max(50, Math.floor(this.#o.leaseMs / 12)));
    this.#timer.unref();
    void this.follow();
  }

  async #elected(epoch: number): Promise<void> {
    try {
      await this.#o.checkRecord();
    } catch (err) {
      this.#mayLead = false;
      this.#o.log('refusing-to-sequence', { epoch, message: (err as Error).message });
      throw err;
    }
    const record = this.#o.record;
    const seq = await this.#o.openSequencer(
      () => this.#leadership?.canSign() === true,
      (cp) => this.#adopt(cp, 'commit'),
      record && ((cp) => this.#queueRecord(cp, true)),
    );
    if (this.#closed) {
      await seq.close();
      throw new Error('the node is stopping');
    }
    this.#seq = seq;
    this.#adopt(seq.checkpoint, 'commit');
    this.#o.witnessing?.offer(seq.checkpoint);
    this.#o.log('sequencing', { epoch, size: seq.size });
    this.#join?.onRole?.(true, epoch);
  }

  async #deposed(epoch: number): Promise<void> {
    const seq = this.#seq;
    this.#seq = undefined;
    this.#o.log('sequencing-stopped', { epoch });
    this.#join?.onRole?.(false, 0);
    // Unfenced already unless the lease was given up cleanly: what waits gets 503, nothing is signed.
    await seq?.close();
  }

  /**
   * One look at the database: the newest checkpoint (verified, then served
   * if newer), the lease row (where to forward), and the newest witnessed
   * checkpoint. Never overlaps itself.
   */
  follow(): Promise<void> {
    this.#following ??= this.#look().finally(() => {
      this.#following = undefined;
    });
    return this.#following;
  }

  async #look(): Promise<void> {
    if (this.#closed) return;
    const { reader, store, witnessing } = this.#o;
    // What this node served when the read began: a commit meanwhile (this node sequencing) makes the
    // database's answer older than the head, which is no rollback.
    const before = this.size;
    try {
      const [cp, lease, witnessed] = await Promise.all([
        reader.latestCheckpoint(),
        store.lease(),
        witnessing && !this.#seq ? reader.latestWitnessed() : undefined,
      ]);
      this.#leader = lease?.live ? lease : undefined;
      if (cp) this.#adopt(cp, 'database', before);
      if (witnessed && witnessing && witnessed.size <= this.size) witnessing.learn(witnessed);
      this.#failing.delete('follow-failed');
    } catch (err) {
      this.#leader = undefined;
      this.#quiet('follow-failed', (err as Error).message);
    }
  }

  /** Logs a repeated failure once per message and at most every 10 s, so an outage does not flood the log. */
  #quiet(event: string, message: string): void {
    const last = this.#failing.get(event);
    const now = performance.now();
    if (last && last.message === message && now - last.at < 10_000) return;
    this.#failing.set(event, { message, at: now });
    this.#o.log(event, { message });
  }

  /**
   * Serves `cp` from now on if it is newer than what this node serves. A
   * checkpoint from the database or another node is verified with the log
   * key first; the database going back (behind `servedBefore`, what this
   * node served when it asked) is reported, never followed.
   */
  #adopt(cp: CheckpointRecord, from: 'start' | 'database' | 'commit' | 'forward', servedBefore = this.size): void {
    const head = this.#head;
    if (head && cp.size <= head.size) {
      if (from === 'database' && cp.size < servedBefore) {
        this.#o.log('store-behind', { size: cp.size, served: head.size, message: 'the database holds an older checkpoint than this node has served: it was rolled back' });
      } else if (cp.size === head.size && !bytesEqual(cp.rootHash, head.rootHash)) {
        this.#o.log('store-forked', { size: cp.size, message: 'the database holds another root for a size this node has served' });
      }
      return;
    }
    if (from !== 'commit') {
      try {
        const parsed = openCheckpoint(cp.note, this.#o.verifier, this.#o.ed);
        if (parsed.origin !== this.#o.origin || parsed.size !== BigInt(cp.size) || !bytesEqual(parsed.rootHash, cp.rootHash)) throw new Error('it does not match its row');
      } catch (err) {
        this.#o.log('follow-failed', { size: cp.size, message: `a checkpoint from the ${from} does not verify: ${(err as Error).message}` });
        return;
      }
    }
    this.#head = cp;
    if (from === 'database' || from === 'forward') {
      // Taken up from another node: recorded in the background (the signer recorded it before handing it out).
      this.#queueRecord(cp, false).catch((err: unknown) => this.#quiet('record-failed', `cannot record the checkpoint of size ${cp.size} in the rollback record: ${(err as Error).message}`));
    }
    if (from !== 'start') this.#o.onAdvance?.();
  }

  /**
   * Queues a write of the rollback record. The sequencer's own writes
   * (`signed`) always happen, one per batch, and their failure is the
   * batch's. A follower's coalesce: at most one waits in the queue, and
   * when its turn comes it writes the newest checkpoint taken up by then,
   * if that is newer than anything this process recorded. So a follower
   * that takes up checkpoints faster than it can fsync writes fewer of
   * them, and its record never goes back.
   */
  #queueRecord(cp: CheckpointRecord, signed: boolean): Promise<void> {
    const write = this.#o.record;
    if (!write) return Promise.resolve();
    if (!signed) {
      const waiting = this.#pendingRecord;
      if (waiting && waiting.size >= cp.size) return Promise.resolve();
      this.#pendingRecord = cp;
      // The write already queued takes this newer checkpoint.
      if (waiting) return Promise.resolve();
    }
    const run = this.#recording.then(async () => {
      let target = cp;
      if (!signed) {
        target = this.#pendingRecord ?? cp;
        this.#pendingRecord = undefined;
        if (target.size <= this.#recorded) return;
      }
      await write(target);
      this.#recorded = Math.max(this.#recorded, target.size);
    });
    this.#recording = run.catch(() => {});
    return run;
  }

  /**
   * Sequences `item` here, answers it from the database if it is already
   * logged, or forwards it to the node that sequences. A forwarded
   * submission is never forwarded again.
   */
  async submit(item: Accepted, opts: { forwarded?: boolean } = {}): Promise<Receipt> {
    const seq = this.#seq;
    if (seq) return seq.submit(item);
    if (opts.forwarded) throw new PushbackError('this node does not sequence (the lease moved); retry', 1);
    const existing = await this.#o.reader.entryByLeafHash(item.leafHash);
    const head = this.#head;
    if (existing && head && existing.index < head.size) {
      return { index: existing.index, fresh: false, checkpoint: head, proof: await this.inclusionProof(existing.index, head.size) };
    }
    const leader = await this.#awaitLeader();
    if (leader === 'self') return this.#seq!.submit(item);
    if (leader === undefined) throw new PushbackError('no node is sequencing right now (a failover is in progress); retry', 1);
    const receipt = await forwardSubmission(leader.url, item, {
      origin: this.#o.origin,
      verifier: this.#o.verifier,
      ed: this.#o.ed,
      timeoutMs: this.#o.forwardTimeoutMs,
    });
    this.#adopt(receipt.checkpoint, 'forward');
    return receipt;
  }

  /**
   * The node to forward to, waiting up to a lease and a half for one during
   * a start-up or a failover, so a submission then is delayed rather than
   * refused; 'self' if this node became the sequencer meanwhile.
   */
  async #awaitLeader(): Promise<LeaseRow | 'self' | undefined> {
    const deadline = performance.now() + this.#o.leaseMs * 1.5;
    for (;;) {
      if (this.#closed) throw new PushbackError('the log is shutting down', 5);
      if (this.#seq) return 'self';
      const leader = this.#leader;
      if (leader && leader.holder !== this.#join?.holder) return leader;
      if (performance.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    const plan = planInclusion(BigInt(index), BigInt(size));
    return plan.assemble(await this.#o.reader.readNodes(plan.nodes.map((id: NodeId) => ({ level: id.level, index: Number(id.index) }))));
  }

  flush(): Promise<void> {
    return this.#seq?.flush() ?? Promise.resolve();
  }

  /** Stops following; a sequencer commits what waits and hands the lease back at once. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#following;
    await this.#leadership?.stop();
    await this.#seq?.close();
    // What this node took up is recorded before it exits.
    await this.#recording;
  }
}
