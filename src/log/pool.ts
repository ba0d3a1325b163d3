/**
 * The bounded submission pool (ARCHITECTURE.md, log invariant 3). Entries
 * enter only after they were decoded, validated and signature-checked. A
 * leaf hash is in the pool at most once: a second submission of the same
 * leaf, while the first waits or is being committed, joins the first one's
 * answer (exact deduplication within a batch).
 */
import { PushbackError } from '../errors.js';
import type { SubjectKey } from './storage.js';

export interface Accepted {
  /** Canonical entry bytes. */
  data: Uint8Array;
  leafHash: Uint8Array;
  digest: Uint8Array;
  keyHash: Uint8Array;
  name: string;
  /** Further (digest, name) pairs lookups find the entry by: an attestation's other subjects. */
  subjects?: readonly SubjectKey[];
}

export interface Sequenced {
  index: number;
  /** Size of the checkpoint that first included the entry. */
  size: number;
}

interface Waiter {
  item: Accepted;
  promise: Promise<Sequenced>;
  resolve: (s: Sequenced) => void;
  reject: (e: unknown) => void;
}

/** One character per byte (latin1), decoded natively: the same string as String.fromCharCode over the bytes. */
function leafKey(leafHash: Uint8Array): string {
  return Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength).toString('latin1');
}

export class Pool {
  readonly #capacity: number;
  #queue: Waiter[] = [];
  /** Every leaf waiting in the queue or in the batch being committed. */
  readonly #byLeaf = new Map<string, Waiter>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get depth(): number {
    return this.#queue.length;
  }

  /** The pending answer for a leaf already waiting or being committed, if any. */
  pending(leafHash: Uint8Array): Promise<Sequenced> | undefined {
    return this.#byLeaf.get(leafKey(leafHash))?.promise;
  }

  /** Queues an accepted entry; throws PushbackError(503) when full. */
  add(item: Accepted, retryAfter: number): Promise<Sequenced> {
    const key = leafKey(item.leafHash);
    const existing = this.#byLeaf.get(key);
    if (existing) return existing.promise;
    if (this.#queue.length >= this.#capacity) {
      throw new PushbackError(`the submission pool is full (${this.#capacity} entries); retry later`, retryAfter);
    }
    let resolve!: (s: Sequenced) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Sequenced>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers may drop the promise after a timeout; never let a rejection go unhandled.
    promise.catch(() => {});
    const waiter: Waiter = { item, promise, resolve, reject };
    this.#queue.push(waiter);
    this.#byLeaf.set(key, waiter);
    return promise;
  }

  /** Takes up to `max` waiters, oldest first. They stay known for deduplication until settled. */
  take(max: number): Waiter[] {
    const batch = this.#queue.slice(0, max);
    this.#queue = this.#queue.slice(batch.length);
    return batch;
  }

  settle(batch: Waiter[], outcome: { ok: true; results: Sequenced[] } | { ok: false; error: unknown }): void {
    batch.forEach((w, i) => {
      this.#byLeaf.delete(leafKey(w.item.leafHash));
      if (outcome.ok) w.resolve(outcome.results[i]!);
      else w.reject(outcome.error);
    });
  }

  /** Fails everything still queued (shutdown after the last batch). */
  drain(error: unknown): void {
    this.settle(this.take(this.#queue.length), { ok: false, error });
  }
}

export type { Waiter };
