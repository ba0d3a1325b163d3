/**
 * Prometheus metrics of a log (prom-client), each in its own registry so
 * that several logs can live in one process (tests do this). The meaning of
 * every metric is documented in docs/operations.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type SubmissionOutcome = 'new' | 'duplicate' | 'rejected' | 'pool_full' | 'rate_limited' | 'unavailable';

export class LogMetrics {
  readonly registry = new Registry();
  readonly submissions = new Counter({
    name: 'vitrine_submissions_total',
    help: 'Submissions to POST /v1/entries by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly batchEntries = new Histogram({
    name: 'vitrine_batch_entries',
    help: 'Entries per committed batch.',
    buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'vitrine_batch_commit_seconds',
    help: 'Time to build, sign and durably commit one batch.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly treeSize = new Gauge({
    name: 'vitrine_tree_size',
    help: 'Size of the latest published checkpoint.',
    // With serve --workers, every process knows the size: the largest is the log's.
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly poolDepth = new Gauge({
    name: 'vitrine_pool_depth',
    help: 'Validated submissions waiting for the next batch.',
    registers: [this.registry],
  });
  #readCache: { bytes: number; hits: number; misses: number } | undefined;
  #counted = { hits: 0, misses: 0 };
  readonly readCacheBytes = new Gauge({
    name: 'vitrine_read_cache_bytes',
    help: 'Bytes of full tiles, entry bundles and tile subtrees held in the read cache (--read-cache-mb).',
    registers: [this.registry],
    collect: () => {
      if (this.#readCache) this.readCacheBytes.set(this.#readCache.bytes);
    },
  });
  readonly readCacheLookups = new Counter({
    name: 'vitrine_read_cache_lookups_total',
    help: 'Read-cache lookups for full tiles, entry bundles and tile subtrees, by result (hit, miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: () => {
      const c = this.#readCache;
      if (c === undefined) return;
      this.readCacheLookups.inc({ result: 'hit' }, c.hits - this.#counted.hits);
      this.readCacheLookups.inc({ result: 'miss' }, c.misses - this.#counted.misses);
      this.#counted = { hits: c.hits, misses: c.misses };
    },
  });

  readonly sequencing = new Gauge({
    name: 'vitrine_sequencing',
    help: "1 while this node is the log's sequencer (batches, commits and signs), else 0. node: this node's name (--node-name).",
    labelNames: ['node'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly sequencerEpoch = new Gauge({
    name: 'vitrine_sequencer_epoch',
    help: 'The fencing epoch of the sequencer lease this node holds (0 while it follows, or with one node on its own store).',
    aggregator: 'max',
    registers: [this.registry],
  });
  #ping: (() => Promise<boolean>) | undefined;
  readonly databaseUp = new Gauge({
    name: 'vitrine_database_up',
    help: 'Whether the database answered a trivial query when scraped (1) or not (0).',
    // With serve --workers, each process has its own connections: one that fails makes the node's 0.
    aggregator: 'min',
    registers: [this.registry],
    collect: async () => {
      if (this.#ping) this.databaseUp.set((await this.#ping()) ? 1 : 0);
    },
  });

  /** Reports the database's reachability in vitrine_database_up at every scrape. */
  watchDatabase(ping: () => Promise<boolean>): void {
    this.#ping = ping;
  }

  /** Sets the two sequencer gauges: whether `node` sequences now, and under which lease epoch. */
  setSequencing(node: string, sequencing: boolean, epoch = 0): void {
    this.sequencing.reset();
    this.sequencing.set({ node }, sequencing ? 1 : 0);
    this.sequencerEpoch.set(epoch);
  }

  /** Reports this cache in the two read-cache metrics. */
  watchReadCache(cache: { bytes: number; hits: number; misses: number }): void {
    this.#readCache = cache;
  }
  readonly requestSeconds = new Histogram({
    name: 'vitrine_http_request_duration_seconds',
    help: 'HTTP request latency by route and status.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly witnessRequests = new Counter({
    name: 'vitrine_witness_requests_total',
    help: 'add-checkpoint requests to each witness by outcome (ok, conflict = 409 resync, error).',
    labelNames: ['witness', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly witnessSeconds = new Histogram({
    name: 'vitrine_witness_request_seconds',
    help: 'add-checkpoint latency per witness.',
    labelNames: ['witness'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly witnessCosignedSize = new Gauge({
    name: 'vitrine_witness_cosigned_size',
    help: 'The largest tree size each witness has cosigned.',
    labelNames: ['witness'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });

  /** Adapter for the witness client (src/log/witnesses.ts). */
  readonly witness = {
    result: (witness: string, outcome: 'ok' | 'conflict' | 'error', seconds: number) => {
      this.witnessRequests.inc({ witness, outcome });
      this.witnessSeconds.observe({ witness }, seconds);
    },
    cosignedSize: (witness: string, size: number) => this.witnessCosignedSize.set({ witness }, size),
  };

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vitrine_' });
  }
}
