/**
 * Ed25519 verification for submissions on worker threads (node:crypto in
 * each). Requests made in the same event-loop turn go to a worker as one
 * message, so the per-message cost is shared; the main thread meanwhile
 * parses and answers HTTP. docs/performance.md has the measurement that
 * motivated it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

interface Pending {
  key: Uint8Array;
  sig: Uint8Array;
  msg: Uint8Array;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
  waiting: Map<number, Pending[]>;
}

export class VerifyPool {
  readonly #slots: Slot[] = [];
  #queue: Pending[] = [];
  #scheduled = false;
  #nextId = 0;
  #closed = false;

  /** `workers` defaults to one per core beyond the main thread (at least one). */
  constructor(workers: number = Math.max(1, availableParallelism() - 1)) {
    const url = new URL(import.meta.url.endsWith('.ts') ? './verify-worker.ts' : './verify-worker.js', import.meta.url);
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { worker: new Worker(url), inFlight: 0, waiting: new Map() };
      slot.worker.on('message', (m: { id: number; results: Uint8Array }) => {
        const batch = slot.waiting.get(m.id);
        if (!batch) return;
        slot.waiting.delete(m.id);
        slot.inFlight -= batch.length;
        // An idle worker must not keep the process alive; a busy one must.
        if (slot.inFlight === 0) slot.worker.unref();
        batch.forEach((p, j) => p.resolve(m.results[j] === 1));
      });
      const fail = (err: Error) => {
        for (const batch of slot.waiting.values()) for (const p of batch) p.reject(err);
        slot.waiting.clear();
        slot.inFlight = 0;
      };
      slot.worker.on('error', (err) => fail(new Error(`signature worker crashed: ${err.message}`)));
      slot.worker.on('exit', (code) => {
        if (!this.#closed) fail(new Error(`signature worker exited with code ${code}`));
      });
      slot.worker.unref();
      this.#slots.push(slot);
    }
  }

  /** True when `sig` is a valid Ed25519 signature of `msg` by `key`. */
  verify(key: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error('the signature pool is closed'));
    if (key.length !== 32 || sig.length !== 64) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      this.#queue.push({ key, sig, msg, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#dispatch());
      }
    });
  }

  #dispatch(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    // Split the turn's requests over the least busy workers.
    const per = Math.ceil(queue.length / this.#slots.length);
    for (let i = 0; i < queue.length; i += per) {
      const batch = queue.slice(i, i + per);
      let slot = this.#slots[0]!;
      for (const s of this.#slots) if (s.inFlight < slot.inFlight) slot = s;
      let size = 0;
      for (const p of batch) size += 96 + p.msg.length;
      const data = new Uint8Array(size);
      const ends = new Uint32Array(batch.length);
      let o = 0;
      batch.forEach((p, j) => {
        data.set(p.key, o);
        data.set(p.sig, o + 32);
        data.set(p.msg, o + 96);
        o += 96 + p.msg.length;
        ends[j] = o;
      });
      const id = this.#nextId++;
      slot.waiting.set(id, batch);
      slot.inFlight += batch.length;
      slot.worker.ref();
      slot.worker.postMessage({ id, data, ends }, [data.buffer, ends.buffer]);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
