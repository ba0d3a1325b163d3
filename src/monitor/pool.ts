/**
 * Where bundle jobs run: a small pool of worker threads (one per core by
 * default), or the calling thread (`workers: 0`, used by tests and as the
 * fallback on one core). Both run the same ./bundle.ts code. Jobs go to the
 * least busy worker; results come back as promises, which the auditor
 * consumes in log order.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runBundleJob, type BundleJob, type BundleResult } from './bundle.js';
import { CompiledPolicy, EMPTY_POLICY, type PolicySpec } from './policy.js';

export interface AuditPool {
  /** Installs a policy for the jobs submitted after this call. */
  setPolicy(spec: PolicySpec): void;
  run(job: BundleJob): Promise<BundleResult>;
  close(): Promise<void>;
}

class InlinePool implements AuditPool {
  #policy = new CompiledPolicy(EMPTY_POLICY);
  setPolicy(spec: PolicySpec): void {
    this.#policy = new CompiledPolicy(spec);
  }
  async run(job: BundleJob): Promise<BundleResult> {
    return runBundleJob(job, this.#policy);
  }
  async close(): Promise<void> {}
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: BundleResult) => void; reject: (e: Error) => void }>;
}

class WorkerPool implements AuditPool {
  readonly #count: number;
  /** Started on the first job: a monitor run with nothing new to audit never pays for the threads. */
  #slots: Slot[] | undefined;
  #nextId = 0;
  #version = 0;
  #policy: PolicySpec = EMPTY_POLICY;
  #failed: Error | undefined;
  #closing = false;

  constructor(count: number) {
    this.#count = count;
  }

  #start(): Slot[] {
    // Running from TypeScript sources (tests, tsx), the worker is the .ts file and inherits the loader.
    const url = new URL(import.meta.url.endsWith('.ts') ? './audit-worker.ts' : './audit-worker.js', import.meta.url);
    const slots: Slot[] = [];
    for (let i = 0; i < this.#count; i++) {
      const slot: Slot = { worker: new Worker(url), pending: new Map() };
      slot.worker.on('message', (m: { id: number; result?: BundleResult; crash?: string }) => {
        const p = slot.pending.get(m.id);
        if (p === undefined) return;
        slot.pending.delete(m.id);
        if (m.result !== undefined) p.resolve(m.result);
        else p.reject(new Error(`audit worker failed: ${m.crash}`));
      });
      const broken = (err: Error) => {
        if (this.#closing) return;
        this.#failed ??= err;
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
      };
      slot.worker.on('error', (err) => broken(new Error(`audit worker crashed: ${err.message}`)));
      slot.worker.on('exit', (code) => broken(new Error(`audit worker exited with code ${code}`)));
      slot.worker.postMessage({ type: 'policy', version: this.#version, spec: this.#policy });
      slots.push(slot);
    }
    return slots;
  }

  setPolicy(spec: PolicySpec): void {
    this.#version++;
    this.#policy = spec;
    for (const s of this.#slots ?? []) s.worker.postMessage({ type: 'policy', version: this.#version, spec });
  }

  run(job: BundleJob): Promise<BundleResult> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closing && this.#slots === undefined) return Promise.reject(new Error('the audit pool is closed'));
    const slots = (this.#slots ??= this.#start());
    let slot = slots[0]!;
    for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextId++;
    // Hand the bytes over without a copy when the view owns its whole buffer.
    const d = job.data;
    const data = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer ? d : d.slice();
    return new Promise<BundleResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(
        { type: 'job', id, policyVersion: this.#version, data, width: job.width, firstIndex: job.firstIndex, skip: job.skip, audit: job.audit },
        [data.buffer as ArrayBuffer],
      );
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all((this.#slots ?? []).map((s) => s.worker.terminate()));
  }
}

/** `workers`: threads to use; 0 runs jobs on the calling thread. Defaults to one per core. */
export function createPool(workers: number = availableParallelism()): AuditPool {
  return workers <= 0 ? new InlinePool() : new WorkerPool(workers);
}
