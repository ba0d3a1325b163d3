/**
 * `vitrine serve --workers N` (issue 11 §2; docs/architecture.md "Every
 * core"): N HTTP worker processes (node:cluster) share the listening socket
 * and do the per-entry work — HTTP parsing, strict decoding, the signature
 * check and building the answer — and every read (tiles, bundles, proofs,
 * lookups) from their own read-only connection to the store. The primary
 * process keeps the one Sequencer (or, on PostgreSQL, the ClusterNode that
 * sequences or forwards) and the witness client: it receives accepted
 * entries over the IPC channel, sequences them, and sends each worker its
 * receipt (index, checkpoint, proof). So every guarantee of one process
 * holds: one sequencer per log, an answer only once its batch is durable.
 *
 * The primary tells every worker each new head (the checkpoint reads are
 * bounded by, and what GET /checkpoint serves) right after a commit and
 * before it answers that batch's submitters; a worker asked for something
 * beyond its head reads the newest checkpoint from the store first
 * (catchUp), so a read that follows an answer from a sibling worker never
 * misses it. /metrics on any worker sums the registries of every process
 * (prom-client's AggregatorRegistry.aggregate).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { planInclusion, type NodeId } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { bytesEqual } from '../encoding.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidError,
  MalformedError,
  NotFoundError,
  PushbackError,
  TooLargeError,
  UnsupportedMediaTypeError,
  VitrineError,
} from '../errors.js';
import { openCheckpoint, type Verifier } from '../note/index.js';
import type { Logger } from '../util/logger.js';
import type { LogMetrics } from './metrics.js';
import type { Accepted } from './pool.js';
import type { Receipt, SequencerView } from './sequencer.js';
import type { LogService } from './service.js';
import type { CheckpointRecord, LogReader } from './storage.js';

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** What GET /checkpoint serves: the note, or why nothing may be served yet (503). */
type Published = { note: string } | { pushback: string };

interface Head {
  t: 'head';
  checkpoint: CheckpointRecord | null;
  published: Published;
}

type ToWorker =
  | Head
  | { t: 'receipt'; id: number; receipt: Receipt }
  | { t: 'refused'; id: number; error: SerializedError }
  | { t: 'metrics-get'; id: number }
  | { t: 'metrics'; id: number; text: string }
  | { t: 'stop' };

type ToPrimary =
  | { t: 'hello' }
  | { t: 'submit'; id: number; item: Accepted; forwarded: boolean }
  | { t: 'metrics-json'; id: number; json: MetricsJson }
  | { t: 'metrics'; id: number };

interface SerializedError {
  name: string;
  code: string;
  message: string;
  retryAfter?: number;
  status?: number;
}

function serializeError(err: unknown): SerializedError {
  if (err instanceof VitrineError) {
    const e = err as VitrineError & { retryAfter?: number; status?: number };
    return { name: err.name, code: err.code, message: err.message, retryAfter: e.retryAfter, status: e.status };
  }
  return { name: 'PushbackError', code: 'unavailable', message: 'the log could not take this submission now; retry later', retryAfter: 1, status: 503 };
}

/** The same typed error on the worker's side of the channel. */
function reviveError(e: SerializedError): VitrineError {
  switch (e.name) {
    case 'MalformedError':
      return new MalformedError(e.message, e.code);
    case 'InvalidError':
      return new InvalidError(e.message, e.code);
    case 'NotFoundError':
      return new NotFoundError(e.message, e.code);
    case 'TooLargeError':
      return new TooLargeError(e.message, e.code);
    case 'UnsupportedMediaTypeError':
      return new UnsupportedMediaTypeError(e.message, e.code);
    case 'ForbiddenError':
      return new ForbiddenError(e.message, e.code);
    case 'ConflictError':
      return new ConflictError(e.message, 0n, e.code);
    default:
      return new PushbackError(e.message, e.retryAfter ?? 1, e.status === 429 ? 429 : 503, e.code);
  }
}

/** Environment variable that marks a worker process, and the one that hands it the log's vkey. */
export const WORKER_ENV = 'VITRINE_SERVE_WORKER';
export const WORKER_VKEY_ENV = 'VITRINE_SERVE_WORKER_VKEY';

/** True in a `serve --workers` HTTP worker process. */
export function isServeWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

export interface HubOptions {
  service: LogService;
  sequencer: SequencerView;
  metrics: LogMetrics;
  workers: number;
  verifierKey: string;
  log: Logger;
}

/**
 * The primary's side: forks the workers, sequences what they accepted,
 * tells them each new head, answers /metrics for all, replaces a worker
 * that dies, and stops them all gracefully.
 */
export class WorkerHub {
  readonly #o: HubOptions;
  readonly #workers = new Set<Worker>();
  #head: Head | undefined;
  #nextId = 0;
  readonly #collecting = new Map<number, { parts: MetricsJson[]; left: number; done: () => void }>();
  #stopping = false;

  constructor(o: HubOptions) {
    this.#o = o;
  }

  /** Forks the workers; resolves with the port they listen on once every one listens. */
  start(): Promise<number> {
    cluster.setupPrimary({ serialization: 'advanced' });
    return new Promise((resolve, reject) => {
      let listening = 0;
      let port = 0;
      const onListening = (_w: Worker, address: { port: number }) => {
        port = address.port;
        if (++listening === this.#o.workers) {
          cluster.off('listening', onListening);
          resolve(port);
        }
      };
      cluster.on('listening', onListening);
      for (let i = 0; i < this.#o.workers; i++) {
        this.#fork((code) => {
          cluster.off('listening', onListening);
          reject(new Error(`an HTTP worker exited with code ${code} before it listened`));
        });
      }
    });
  }

  #fork(onEarlyExit?: (code: number | null) => void): void {
    const w = cluster.fork({ [WORKER_ENV]: '1', [WORKER_VKEY_ENV]: this.#o.verifierKey });
    this.#workers.add(w);
    this.#o.log('worker-started', { pid: w.process.pid });
    let listened = false;
    w.once('listening', () => (listened = true));
    w.on('message', (m: ToPrimary) => void this.#onMessage(w, m));
    w.on('exit', (code, signal) => {
      this.#workers.delete(w);
      for (const c of this.#collecting.values()) {
        c.left--;
        if (c.left === 0) c.done();
      }
      if (this.#stopping) return;
      if (!listened && onEarlyExit) return onEarlyExit(code);
      // A worker that dies takes only its own connections with it; the log goes on with a new one.
      this.#o.log('worker-exited', { pid: w.process.pid, code, signal });
      this.#fork();
    });
  }

  async #onMessage(w: Worker, m: ToPrimary): Promise<void> {
    switch (m.t) {
      case 'hello':
        this.#send(w, this.#head ?? this.#currentHead());
        return;
      case 'submit':
        try {
          const receipt = await this.#o.service.sequence(m.item, { forwarded: m.forwarded });
          this.#send(w, { t: 'receipt', id: m.id, receipt });
        } catch (err) {
          if (!(err instanceof VitrineError)) this.#o.log('internal-error', { message: (err as Error).message, stack: (err as Error).stack });
          this.#send(w, { t: 'refused', id: m.id, error: serializeError(err) });
        }
        return;
      case 'metrics-json': {
        const c = this.#collecting.get(m.id);
        if (!c) return;
        c.parts.push(m.json);
        if (--c.left === 0) c.done();
        return;
      }
      case 'metrics':
        this.#send(w, { t: 'metrics', id: m.id, text: await this.metricsText() });
        return;
    }
  }

  #send(w: Worker, m: ToWorker): void {
    if (w.isConnected()) w.send(m);
  }

  #currentHead(): Head {
    let checkpoint: CheckpointRecord | null = null;
    try {
      checkpoint = this.#o.sequencer.checkpoint;
    } catch {
      // No checkpoint yet (a PostgreSQL node before any node sequenced).
    }
    let published: Published;
    try {
      published = { note: this.#o.service.checkpoint() };
    } catch (err) {
      published = { pushback: (err as Error).message };
    }
    return { t: 'head', checkpoint, published };
  }

  /**
   * Tells every worker the new head, if it changed. Called right after each
   * commit, before that batch's submitters are answered, and whenever the
   * witnesses or the database move the head.
   */
  advance(): void {
    const head = this.#currentHead();
    const old = this.#head;
    if (old && old.checkpoint?.size === head.checkpoint?.size && JSON.stringify(old.published) === JSON.stringify(head.published)) return;
    this.#head = head;
    for (const w of this.#workers) this.#send(w, head);
  }

  /** Every process's registry, summed (counters, histograms) or combined by each metric's aggregator. */
  async metricsText(): Promise<string> {
    const id = this.#nextId++;
    const workers = [...this.#workers].filter((w) => w.isConnected());
    const parts: MetricsJson[] = [(await this.#o.metrics.registry.getMetricsAsJSON()) as MetricsJson];
    if (workers.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => done(), 5000);
        const done = () => {
          clearTimeout(timer);
          this.#collecting.delete(id);
          resolve();
        };
        this.#collecting.set(id, { parts, left: workers.length, done });
        for (const w of workers) this.#send(w, { t: 'metrics-get', id });
      });
    }
    return AggregatorRegistry.aggregate(parts).metrics();
  }

  /** Stops every worker: each stops accepting, lets its answers go out, and exits. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of this.#workers) this.#send(w, { t: 'stop' });
    const timer = setTimeout(() => {
      for (const w of this.#workers) w.process.kill('SIGKILL');
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}

/**
 * A worker's view of the sequencer: submissions go to the primary, the
 * head comes from it (or from the store, on a miss), proofs from the store.
 */
export class RemoteSequencer implements SequencerView {
  readonly #reader: LogReader;
  readonly #origin: string;
  readonly #verifier: Verifier;
  readonly #ed: Ed25519;
  #head: CheckpointRecord | undefined;
  #published: Published = { pushback: 'the log is starting' };
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: (r: Receipt) => void; reject: (e: unknown) => void }>();
  readonly #metricsWaiting = new Map<number, (text: string) => void>();
  #catching: Promise<void> | undefined;
  #firstHead: () => void = () => {};
  readonly firstHead: Promise<void>;
  #gone = false;
  #idle: Array<() => void> = [];
  /** Called when the primary asks this worker to stop. */
  onStop: () => void = () => {};
  /** This worker's own metrics, for the primary to aggregate. */
  ownMetrics: () => Promise<MetricsJson> = async () => [];

  constructor(o: { reader: LogReader; origin: string; verifier: Verifier; ed: Ed25519 }) {
    this.#reader = o.reader;
    this.#origin = o.origin;
    this.#verifier = o.verifier;
    this.#ed = o.ed;
    this.firstHead = new Promise((resolve) => (this.#firstHead = resolve));
    process.on('message', (m: ToWorker) => void this.#onMessage(m));
    process.on('disconnect', () => {
      // The primary is gone: nothing can be sequenced; refuse what waits.
      this.#gone = true;
      const err = new PushbackError('the log is restarting; retry', 1);
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
      this.#settled();
      this.onStop();
    });
    this.#toPrimary({ t: 'hello' });
  }

  #toPrimary(m: ToPrimary): boolean {
    if (this.#gone || !process.connected) return false;
    process.send!(m);
    return true;
  }

  async #onMessage(m: ToWorker): Promise<void> {
    switch (m.t) {
      case 'head':
        if (m.checkpoint) this.#adopt(m.checkpoint);
        this.#published = m.published;
        this.#firstHead();
        return;
      case 'receipt': {
        const w = this.#waiting.get(m.id);
        this.#waiting.delete(m.id);
        this.#adopt(m.receipt.checkpoint);
        w?.resolve(m.receipt);
        this.#settled();
        return;
      }
      case 'refused': {
        const w = this.#waiting.get(m.id);
        this.#waiting.delete(m.id);
        w?.reject(reviveError(m.error));
        this.#settled();
        return;
      }
      case 'metrics-get':
        this.#toPrimary({ t: 'metrics-json', id: m.id, json: await this.ownMetrics() });
        return;
      case 'metrics': {
        const r = this.#metricsWaiting.get(m.id);
        this.#metricsWaiting.delete(m.id);
        r?.(m.text);
        return;
      }
      case 'stop':
        this.onStop();
        return;
    }
  }

  #adopt(cp: CheckpointRecord): void {
    if (this.#head === undefined || cp.size > this.#head.size) this.#head = cp;
  }

  get size(): number {
    return this.#head?.size ?? 0;
  }

  get checkpoint(): CheckpointRecord {
    if (!this.#head) throw new PushbackError('this log has no checkpoint yet', 1);
    return this.#head;
  }

  get poolDepth(): number {
    return 0;
  }

  /** Resolves once every submission sent to the primary has its answer (or the primary is gone). */
  async idle(): Promise<void> {
    while (this.#waiting.size > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #settled(): void {
    if (this.#waiting.size > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const r of idle) r();
  }

  /** What GET /checkpoint serves. */
  published(): string {
    const p = this.#published;
    if ('note' in p) return p.note;
    throw new PushbackError(p.pushback, 1);
  }

  submit(item: Accepted, opts: { forwarded?: boolean } = {}): Promise<Receipt> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      if (!this.#toPrimary({ t: 'submit', id, item, forwarded: opts.forwarded === true })) {
        this.#waiting.delete(id);
        reject(new PushbackError('the log is restarting; retry', 1));
      }
    });
  }

  /** The sum of every process's metrics, from the primary. */
  metricsText(): Promise<string> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#metricsWaiting.set(id, resolve);
      if (!this.#toPrimary({ t: 'metrics', id })) {
        this.#metricsWaiting.delete(id);
        reject(new PushbackError('the log is restarting; retry', 1));
      }
    });
  }

  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    const plan = planInclusion(BigInt(index), BigInt(size));
    return plan.assemble(await this.#reader.readNodes(plan.nodes.map((id: NodeId) => ({ level: id.level, index: Number(id.index) }))));
  }

  /** Reads the newest checkpoint from the store (verified with the log key), once at a time. */
  catchUp(): Promise<void> {
    this.#catching ??= (async () => {
      try {
        const cp = await this.#reader.latestCheckpoint();
        if (cp === undefined || cp.size <= this.size) return;
        const parsed = openCheckpoint(cp.note, this.#verifier, this.#ed);
        if (parsed.origin !== this.#origin || parsed.size !== BigInt(cp.size) || !bytesEqual(parsed.rootHash, cp.rootHash)) return;
        this.#adopt(cp);
      } finally {
        this.#catching = undefined;
      }
    })();
    return this.#catching;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
