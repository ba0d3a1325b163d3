/**
 * The log's side of c2sp.org/tlog-witness (ARCHITECTURE.md log invariant 7).
 * After each new checkpoint the log sends add-checkpoint to every witness,
 * in parallel and without holding up sequencing: each witness gets the
 * newest checkpoint with a consistency proof from the size it last
 * cosigned, and a 409 answer resynchronises that size. The newest
 * checkpoint that collected `quorum` valid cosignatures is the log's
 * witnessed checkpoint: it is what /checkpoint serves and what submitters
 * wait for when the quorum is above zero.
 *
 * Cosigning is pipelined with sequencing: the sequencer commits batch N+1
 * while batch N's checkpoint is out, and each witness gets checkpoints one
 * at a time in increasing size (the newest waiting one when it is free), so
 * the c2sp.org/tlog-witness old-size chain stays valid. Pushback is bounded
 * when witnesses fail: a witness whose last exchange failed counts as down
 * until an exchange succeeds (the retry timer asks again); while fewer than
 * `quorum` witnesses are up, every waiting submitter gets 503 at once and
 * new submissions are refused before they are sequenced (`admit`), as they
 * are when more than `maxBacklog` sequenced entries wait for a witnessed
 * checkpoint. A slow witness only delays answers, up to the timeout.
 */
import type { Ed25519 } from '../crypto/ed25519.js';
import { parseDecimal } from '../encoding.js';
import { PushbackError } from '../errors.js';
import { appendSignatures, formatVerifier, verifyCosignatures, type Verifier } from '../note/index.js';
import type { Logger } from '../util/logger.js';
import type { CheckpointRecord } from './storage.js';

export interface WitnessTarget {
  /** The witness's submission prefix (add-checkpoint is POSTed to `${url}/add-checkpoint`). */
  url: string;
  /** Its cosigner key (type 0x04). */
  verifier: Verifier;
}

export interface WitnessedCheckpoint {
  size: number;
  rootHash: Uint8Array;
  /** The checkpoint note with the log's signature and every cosignature collected. */
  note: string;
}

export interface WitnessMetrics {
  result(witness: string, outcome: 'ok' | 'conflict' | 'error', seconds: number): void;
  cosignedSize(witness: string, size: number): void;
}

export interface WitnessingOptions {
  witnesses: readonly WitnessTarget[];
  quorum: number;
  timeoutMs: number;
  ed: Ed25519;
  /** The consistency proof between two sizes of this log's tree. */
  consistency(from: number, to: number): Promise<Uint8Array[]>;
  /** Called when a checkpoint reaches the quorum (persist it), with the checkpoint as the log signed it. */
  onWitnessed?: (w: WitnessedCheckpoint, checkpoint: CheckpointRecord) => void;
  /** Called after every new cosignature, whatever the quorum: what GET /checkpoint serves may have changed. */
  onCosigned?: () => void;
  /** The witnessed checkpoint persisted before a restart, if any. */
  initial?: WitnessedCheckpoint;
  log: Logger;
  metrics?: WitnessMetrics;
  fetch?: typeof fetch;
  /** How often witnesses that are behind are asked again when no new checkpoint comes (default 2000 ms). */
  retryMs?: number;
  /** Most sequenced entries that may wait for a witnessed checkpoint before submissions are refused (default 65536). */
  maxBacklog?: number;
}

interface PerWitness {
  target: WitnessTarget;
  name: string;
  /** The size this witness last cosigned for us, as far as we know (0 until learned). */
  size: number;
  busy: boolean;
  next: CheckpointRecord | undefined;
  /** False after a failed exchange, until one succeeds. */
  up: boolean;
}

interface Waiter {
  size: number;
  resolve: (w: WitnessedCheckpoint) => void;
  reject: (err: Error) => void;
}

interface Candidate {
  checkpoint: CheckpointRecord;
  lines: Map<string, string>;
}

const MAX_CANDIDATES = 64;

export class Witnessing {
  readonly #o: WitnessingOptions;
  readonly #w: PerWitness[];
  readonly #candidates = new Map<number, Candidate>();
  #witnessed: WitnessedCheckpoint | undefined;
  #waiters: Waiter[] = [];
  #latest: CheckpointRecord | undefined;
  #closed = false;
  readonly #timer: NodeJS.Timeout;

  constructor(o: WitnessingOptions) {
    this.#o = o;
    this.#w = o.witnesses.map((target) => ({ target, name: formatVerifier(target.verifier), size: 0, busy: false, next: undefined, up: true }));
    this.#witnessed = o.initial;
    // A witness that failed is asked again even when the log is idle, so a
    // recovered witness brings the quorum back without new submissions.
    this.#timer = setInterval(() => {
      const cp = this.#latest;
      if (!cp || this.#closed) return;
      for (const w of this.#w) if (!w.busy && w.size < cp.size) void this.#run(w, cp);
    }, o.retryMs ?? 2000);
    this.#timer.unref();
  }

  get quorum(): number {
    return this.#o.quorum;
  }

  /** The newest checkpoint that reached the quorum. */
  get witnessed(): WitnessedCheckpoint | undefined {
    return this.#witnessed;
  }

  /** Offers a newly committed checkpoint to every witness. Never blocks. */
  offer(checkpoint: CheckpointRecord): void {
    if (this.#closed) return;
    this.#latest = checkpoint;
    this.#candidates.set(checkpoint.size, { checkpoint, lines: new Map() });
    while (this.#candidates.size > MAX_CANDIDATES) this.#candidates.delete(this.#candidates.keys().next().value!);
    if (this.#o.quorum === 0) this.#reach({ size: checkpoint.size, rootHash: checkpoint.rootHash, note: checkpoint.note }, checkpoint);
    for (const w of this.#w) {
      if (w.busy) w.next = checkpoint;
      else void this.#run(w, checkpoint);
    }
  }

  /** Witnesses whose last exchange did not fail. */
  get up(): number {
    return this.#w.filter((w) => w.up).length;
  }

  /**
   * Throws PushbackError (503) if a new submission should not be sequenced
   * now: fewer than `quorum` witnesses are up, or more than maxBacklog
   * entries of a log at `size` already wait for a witnessed checkpoint.
   */
  admit(size: number): void {
    if (this.#o.quorum === 0) return;
    if (this.up < this.#o.quorum) throw this.#unreachable();
    const backlog = size - (this.#witnessed?.size ?? 0);
    const max = this.#o.maxBacklog ?? 65536;
    if (backlog >= max) {
      throw new PushbackError(`${backlog} sequenced entries are waiting for the witness quorum (at most ${max}); retry later`, this.#retryAfter());
    }
  }

  /** Resolves when a checkpoint of at least `size` reached the quorum; 503 after the timeout, or at once when the quorum cannot be reached. */
  waitFor(size: number): Promise<WitnessedCheckpoint> {
    if (this.#witnessed && this.#witnessed.size >= size) return Promise.resolve(this.#witnessed);
    if (this.#o.quorum > 0 && this.up < this.#o.quorum) return Promise.reject(this.#unreachable());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== waiter);
        reject(new PushbackError(`no checkpoint covering this entry reached the witness quorum of ${this.#o.quorum} in time; the entry is sequenced, resubmit later for a cosigned proof`, Math.max(1, Math.ceil(this.#o.timeoutMs / 1000))));
      }, this.#o.timeoutMs);
      timer.unref();
      const waiter: Waiter = {
        size,
        resolve: (w) => {
          clearTimeout(timer);
          resolve(w);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /**
   * Adopts a checkpoint that reached the quorum at another node (read from
   * the shared database by a node that does not sequence): served and
   * answered from, but not stored again.
   */
  learn(w: WitnessedCheckpoint): void {
    this.#reach(w, undefined);
  }

  #retryAfter(): number {
    return Math.max(1, Math.ceil((this.#o.retryMs ?? 2000) / 1000));
  }

  #unreachable(): PushbackError {
    const down = this.#w.filter((w) => !w.up).map((w) => w.target.verifier.name);
    return new PushbackError(
      `only ${this.up} of ${this.#w.length} witnesses answer (down: ${down.join(', ')}), fewer than the quorum of ${this.#o.quorum}; ` +
        'entries already sequenced get a cosigned proof on resubmission once the witnesses are back',
      this.#retryAfter(),
    );
  }

  /** Marks a witness up or down; the quorum becoming unreachable answers every waiter with 503 at once. */
  #mark(w: PerWitness, up: boolean): void {
    if (w.up === up) return;
    w.up = up;
    if (up || this.#o.quorum === 0 || this.up >= this.#o.quorum) return;
    const waiting = this.#waiters;
    this.#waiters = [];
    const err = this.#unreachable();
    for (const x of waiting) x.reject(err);
  }

  /** `checkpoint`'s note with every cosignature collected for it so far (for a quorum of 0). */
  decorate(checkpoint: CheckpointRecord): string {
    const c = this.#candidates.get(checkpoint.size);
    if (!c || c.checkpoint.note !== checkpoint.note || c.lines.size === 0) return checkpoint.note;
    return appendSignatures(checkpoint.note, [...c.lines.values()]);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async #run(w: PerWitness, checkpoint: CheckpointRecord): Promise<void> {
    w.busy = true;
    try {
      let cp: CheckpointRecord | undefined = checkpoint;
      while (cp && !this.#closed) {
        try {
          await this.#ask(w, cp);
        } catch (err) {
          this.#o.log('witness-failed', { witness: w.target.verifier.name, size: cp.size, message: (err as Error).message });
          this.#mark(w, false);
        }
        cp = w.next;
        w.next = undefined;
      }
    } finally {
      w.busy = false;
    }
  }

  /** One add-checkpoint exchange, with one immediate retry after a 409 resync. */
  async #ask(w: PerWitness, cp: CheckpointRecord): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (w.size > cp.size) return; // It already cosigned a larger tree of ours.
      const proof = w.size > 0 && w.size < cp.size ? await this.#o.consistency(w.size, cp.size) : [];
      const body = `old ${w.size}\n${proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('')}\n${cp.note}`;
      const started = performance.now();
      let status: number;
      let text: string;
      try {
        const res = await (this.#o.fetch ?? fetch)(`${w.target.url.replace(/\/+$/, '')}/add-checkpoint`, {
          method: 'POST',
          body,
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
        status = res.status;
        text = await res.text();
      } catch (err) {
        this.#o.metrics?.result(w.name, 'error', (performance.now() - started) / 1000);
        this.#o.log('witness-failed', { witness: w.target.verifier.name, size: cp.size, message: (err as Error).message });
        this.#mark(w, false);
        return;
      }
      const seconds = (performance.now() - started) / 1000;
      if (status === 409) {
        this.#o.metrics?.result(w.name, 'conflict', seconds);
        try {
          w.size = Number(parseDecimal(text.replace(/\n$/, ''), 'witness size'));
        } catch {
          this.#o.log('witness-failed', { witness: w.target.verifier.name, size: cp.size, message: 'unreadable 409 body' });
          this.#mark(w, false);
          return;
        }
        this.#o.log('witness-resync', { witness: w.target.verifier.name, size: w.size });
        continue;
      }
      if (status !== 200) {
        this.#o.metrics?.result(w.name, 'error', seconds);
        this.#o.log('witness-failed', { witness: w.target.verifier.name, size: cp.size, status, message: text.slice(0, 200) });
        this.#mark(w, false);
        return;
      }
      try {
        const lines = text.split(/(?<=\n)/).filter((l) => l.length > 0);
        const cosigned = verifyCosignatures(appendSignatures(cp.note, lines), [w.target.verifier], this.#o.ed);
        if (cosigned.length !== 1) throw new Error('the answer has no cosignature by this witness');
        const own = lines.filter((l) => l.startsWith(`— ${w.target.verifier.name} `));
        w.size = cp.size;
        this.#o.metrics?.result(w.name, 'ok', seconds);
        this.#o.metrics?.cosignedSize(w.name, cp.size);
        this.#o.log('witness-cosigned', { witness: w.target.verifier.name, size: cp.size, seconds: Number(seconds.toFixed(4)) });
        this.#mark(w, true);
        this.#record(cp, w.name, own.join(''));
      } catch (err) {
        this.#o.metrics?.result(w.name, 'error', seconds);
        this.#o.log('witness-failed', { witness: w.target.verifier.name, size: cp.size, message: `bad cosignature: ${(err as Error).message}` });
        this.#mark(w, false);
      }
      return;
    }
  }

  #record(cp: CheckpointRecord, witness: string, lines: string): void {
    let c = this.#candidates.get(cp.size);
    if (!c || c.checkpoint.note !== cp.note) {
      c = { checkpoint: cp, lines: new Map() };
      this.#candidates.set(cp.size, c);
    }
    c.lines.set(witness, lines);
    if (c.lines.size >= this.#o.quorum && this.#o.quorum > 0) {
      this.#reach({ size: cp.size, rootHash: cp.rootHash, note: appendSignatures(cp.note, [...c.lines.values()]) }, cp);
    }
    this.#o.onCosigned?.();
  }

  /** `checkpoint`: the checkpoint that reached the quorum here, to persist; undefined for one learned from another node. */
  #reach(w: WitnessedCheckpoint, checkpoint: CheckpointRecord | undefined): void {
    if (this.#witnessed && this.#witnessed.size > w.size) return;
    if (this.#witnessed && this.#witnessed.size === w.size && this.#witnessed.note.length >= w.note.length) return;
    this.#witnessed = w;
    if (this.#o.quorum > 0 && checkpoint) this.#o.onWitnessed?.(w, checkpoint);
    const ready = this.#waiters.filter((x) => x.size <= w.size);
    this.#waiters = this.#waiters.filter((x) => x.size > w.size);
    for (const r of ready) r.resolve(w);
  }
}
