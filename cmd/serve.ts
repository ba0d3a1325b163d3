/**
 * `vitrine serve`: runs a log on the embedded SQLite default, or on
 * PostgreSQL (--storage postgres://...). This file builds the storage and
 * hands it to the log (src/log/datadir.ts), which never knows the backend. All flags are
 * documented in docs/operations.md; the HTTP API in docs/api.md.
 */
import { readFileSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import { createHttpServer } from '../src/http/server.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { keyHash } from '../src/entry/index.js';
import { parseCosignerVerifier, parseVerifier } from '../src/note/index.js';
import type { LogAppDeps } from '../src/http/log-app.js';
import type { LogMetrics } from '../src/log/metrics.js';
import type { LogStorage } from '../src/log/storage.js';
import type { WitnessTarget } from '../src/log/witnesses.js';
import { CliError, collect, intOption, UsageError } from './common.js';
import type { Io } from './io.js';

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):([0-9]{1,5})$/.exec(value);
  if (!m) throw new UsageError(`--listen: ${JSON.stringify(value)} is not HOST:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError('--listen: port must be 0..65535');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Reads an allow-list file: one signer vkey per line; blank lines and # comments ignored. */
export function readAllowSigners(path: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`--allow-signers: cannot read ${path}: ${(err as Error).message}`);
  }
  const out = new Set<string>();
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    try {
      out.add(keyHash(parseVerifier(t).publicKey));
    } catch (err) {
      throw new CliError(`--allow-signers: ${path} line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return out;
}

/** Parses `--witness URL=VKEY` (split at the first "="; the vkey may be type 0x01 or 0x04). */
export function parseWitnessFlag(value: string): WitnessTarget {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--witness: ${JSON.stringify(value)} is not URL=VKEY`);
  const url = value.slice(0, eq);
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`--witness: ${JSON.stringify(url)} is not an http(s) URL`);
  }
  try {
    return { url, verifier: parseCosignerVerifier(value.slice(eq + 1)) };
  } catch (err) {
    throw new UsageError(`--witness: ${(err as Error).message}`);
  }
}

/** The vkey of the log key in `path`, with its key ID; its name must be the origin, as at start-up. */
async function logVerifierKey(path: string, origin: string): Promise<{ vkey: string; keyId: string }> {
  const { readFile } = await import('node:fs/promises');
  const { formatKeyId, formatVerifier, parseSigner, verifierFromSigner } = await import('../src/note/index.js');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`no log key at ${path}: start the log once to create it, or give --key FILE`);
    throw new CliError(systemRefusal(err) ?? `cannot read the log key ${path}: ${(err as Error).message}`);
  }
  let signer;
  try {
    signer = parseSigner(text.trim());
  } catch (err) {
    throw new CliError(`the log key ${path} is not a private key file: ${(err as Error).message}`);
  }
  if (signer.name !== origin) throw new CliError(`the log key ${path} is named ${signer.name}, not the origin ${origin}`);
  const verifier = verifierFromSigner(signer);
  return { vkey: formatVerifier(verifier), keyId: formatKeyId(verifier.keyId) };
}

/** What to do about a file system refusal (EACCES, EISDIR, EROFS...), as one sentence with the path. */
const FIXES: Record<string, string> = {
  EACCES: 'permission denied; give the user running vitrine read and write access to it (chown or chmod), or choose another path',
  EPERM: 'operation not permitted; give the user running vitrine access to it, or choose another path',
  EISDIR: 'is a directory where a file is expected; remove or rename it, or choose another path',
  EEXIST: 'exists and is not a directory; remove or rename it, or choose another path',
  ENOTDIR: 'a part of the path is a file, not a directory; choose another path',
  EROFS: 'is on a read-only file system; put the data on a writable file system (or remount it read-write)',
  ENOSPC: 'no space left on the device; free some space',
};

export function systemRefusal(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  const fix = typeof e?.code === 'string' ? FIXES[e.code] : undefined;
  if (fix === undefined) return undefined;
  return `refusing to start: ${e.path ?? 'a file'}: ${fix} (${e.code})`;
}

/** What to do when the listening socket cannot be had (--listen), by its error code. */
const LISTEN_FIXES: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another vitrine, or another program, listens there); stop it, or choose another --listen',
  EACCES: 'permission denied (ports below 1024 need privileges); choose a port of 1024 or more, or give the process the right to bind it (CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'no network interface of this machine has this address; choose one it has (127.0.0.1, 0.0.0.0, or an interface address)',
};

/** The "refusing to start" sentence for a failed listen on HOST:PORT, or undefined for other errors. */
export function listenRefusal(err: unknown, host: string, port: number): string | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  const fix = typeof code === 'string' ? LISTEN_FIXES[code] : undefined;
  if (fix === undefined) return undefined;
  return `refusing to start: cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${fix} (${code})`;
}

export function register(program: Command, io: Io): void {
  program
    .command('serve')
    .description('run a transparency log (SQLite storage, tlog-tiles read API, batched sequencer)')
    .option('--data <dir>', 'data directory (created on first start); the same as --storage sqlite:DIR')
    .option('--storage <spec>', 'sqlite:DIR, or postgres://USER@HOST:PORT/DB (PG* environment variables apply; needs --key)')
    .requiredOption('--origin <origin>', 'the log origin, e.g. log.example.com/vitrine; also the key name')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--batch-interval <ms>', 'least ms between the starts of two batches; 0 starts each as soon as the previous is durable (group commit)', intOption('--batch-interval', 0, 60_000), 0)
    .option('--batch-size <n>', 'most entries in one batch', intOption('--batch-size', 1, 1_000_000), 4096)
    .option('--pool-size <n>', 'most entries waiting before submissions get 503', intOption('--pool-size', 1, 10_000_000), 65536)
    .option('--max-entry-bytes <n>', 'largest accepted entry (65535, the most an entry bundle can hold, lets a 64 KiB DSSE envelope in)', intOption('--max-entry-bytes', 64, 65535), 65535)
    .option('--rate <per-second>', 'per-client-IP submission rate limit (token bucket); off by default', intOption('--rate', 1))
    .option('--allow-signers <file>', 'only accept entries by these signer vkeys (one per line)')
    .option('--key <file>', 'use this skey instead of DIR/log.key; its name must equal the origin')
    .option('--state-file <file>', 'where this node records the newest checkpoint it signed (rollback protection); default DIR/signed-checkpoint, required with postgres://')
    .option('--read-cache-mb <n>', 'MiB of full tiles and entry bundles kept in memory (they never change); 0 turns the cache off', intOption('--read-cache-mb', 0, 65536), 64)
    .option('--workers <n>', 'HTTP processes sharing the port: each parses, decodes, checks signatures, builds answers and serves reads; one more process sequences. 1 serves everything in one process', intOption('--workers', 1, 64), 1)
    .option('--verify-workers <n>', 'worker threads checking submission signatures; 0 checks them on the HTTP thread', intOption('--verify-workers', 0, 64), 0)
    .option('--node-name <name>', "this node's name in metrics, events and the sequencer lease; default HOSTNAME:PORT")
    .option('--advertise-url <url>', 'with postgres://: where the other nodes reach this one to forward submissions while it sequences; default http://HOST:PORT of --listen')
    .option('--lease-ms <ms>', 'with postgres://: the sequencer lease; another node takes over within about this plus a sixth after the sequencer dies', intOption('--lease-ms', 300, 600_000), 3000)
    .option('--db-retry-max-ms <ms>', "with postgres://: the longest wait before a lost database connection is tried again (the driver's backoff grows up to it); bounds how long a node answers 503 after the database is back", intOption('--db-retry-max-ms', 100, 600_000), 5_000)
    .option('--witness <url=vkey>', 'ask this witness to cosign every checkpoint (c2sp.org/tlog-witness); repeatable', collect, [])
    .option('--quorum <k>', 'cosignatures a checkpoint needs before /checkpoint serves it and submitters are answered', intOption('--quorum', 0, 64), 0)
    .option('--witness-timeout <ms>', 'how long a submission waits for the quorum before 503', intOption('--witness-timeout', 1, 600_000), 10_000)
    .option('--publish-dir <dir>', 'also write checkpoint, tile/... and tile/entries/... here as static files, byte-identical to the API (for nginx or a CDN)')
    .option('--print-vkey', "print the log's verifier key (from --key, or DIR/log.key) and exit, without starting")
    .option('--json', 'with --print-vkey: print {"name", "keyId", "vkey", "type"} (docs/cli.md); the log lines on stderr are JSON anyway')
    .addHelpText(
      'after',
      `
Examples:
  vitrine serve --data ./data --origin log.example.com/vitrine
  vitrine serve --data ./data --origin log.example.com/vitrine --print-vkey > log.vkey
  vitrine serve --data /var/lib/vitrine --origin log.example.com/vitrine --listen 0.0.0.0:8080 --rate 50
  vitrine serve --data ./data --origin log.example.com/vitrine --key /secrets/log.key
  vitrine serve --data ./data --origin log.example.com/vitrine \\
      --witness http://w1.example:8081=w1.example+1234abcd+BBase64... --witness ... --quorum 2

On first start in an empty directory, serve creates DIR/log.key (mode 0600)
and prints the log's verifier key on stdout. Give that key to verifiers;
--print-vkey prints it again at any time.`,
    )
    .action(
      async (opts: {
        data?: string; storage?: string; origin: string; listen: string; batchInterval: number; batchSize: number; poolSize: number;
        maxEntryBytes: number; rate?: number; allowSigners?: string; key?: string; stateFile?: string; publishDir?: string;
        witness: string[]; quorum: number; witnessTimeout: number; verifyWorkers: number; readCacheMb: number; nodeName?: string;
        advertiseUrl?: string; leaseMs: number; dbRetryMaxMs: number; printVkey?: boolean; json?: boolean; workers: number;
      }) => {
        if (opts.json && !opts.printVkey) throw new UsageError("--json applies to --print-vkey; a running log's lines on stderr are JSON already");
        if (opts.printVkey) {
          if (opts.key === undefined && opts.data === undefined) throw new UsageError('--print-vkey needs --data DIR or --key FILE');
          const { vkey, keyId } = await logVerifierKey(opts.key ?? join(opts.data!, 'log.key'), opts.origin);
          io.stdout.write(opts.json ? `${JSON.stringify({ name: opts.origin, keyId, vkey, type: 'ed25519' })}\n` : `${vkey}\n`);
          return;
        }
        const witnesses = opts.witness.map(parseWitnessFlag);
        if (opts.quorum > witnesses.length) throw new UsageError(`--quorum ${opts.quorum} is more than the ${witnesses.length} --witness given`);
        const { host, port } = parseListen(opts.listen);
        if (opts.advertiseUrl !== undefined && !/^https?:\/\/[^/?#\s]+\/?$/.test(opts.advertiseUrl)) {
          throw new UsageError(`--advertise-url: ${JSON.stringify(opts.advertiseUrl)} is not an http(s)://HOST[:PORT] URL`);
        }
        if (opts.data !== undefined && opts.storage !== undefined) throw new UsageError('give --data DIR or --storage SPEC, not both');
        if (opts.data === undefined && opts.storage === undefined) throw new UsageError('give --data DIR (or --storage sqlite:DIR / postgres://...)');
        const { parseStorageSpec, redactStorage } = await import('../src/log/storage/open.js');
        let spec;
        try {
          spec = opts.storage === undefined ? { kind: 'sqlite' as const, dir: opts.data! } : parseStorageSpec(opts.storage);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        if (spec.kind === 'postgres' && opts.key === undefined) throw new UsageError('--storage postgres://... needs --key FILE');
        const workers = await import('../src/log/workers.js');
        if (workers.isServeWorker()) return serveWorker(opts, spec, host, port);
        if (spec.kind === 'postgres' && opts.stateFile === undefined) {
          throw new UsageError('--storage postgres://... needs --state-file FILE: a file on this node, outside the database, where it records the newest checkpoint it signed (docs/operations.md "Rollback protection")');
        }
        // The server's dependencies (express, SQLite, prom-client) load only
        // for `serve`, so the offline commands start fast.
        const [{ openLog, StartupError }, { LogMetrics }, { jsonLogger }] = await Promise.all([
          import('../src/log/datadir.js'),
          import('../src/log/metrics.js'),
          import('../src/util/logger.js'),
        ]);
        const log = jsonLogger();
        const metrics = new LogMetrics({ processMetrics: true });
        const allowSigners = opts.allowSigners ? readAllowSigners(opts.allowSigners) : undefined;
        let hub: import('../src/log/workers.js').WorkerHub | undefined;
        let opened;
        try {
          // On PostgreSQL every node is one of possibly several: the lease decides who sequences.
          const store = spec.kind === 'postgres' ? await (await import('../src/log/storage/postgres.js')).openPostgres(spec.url, { log, shared: true, retryMaxMs: opts.dbRetryMaxMs }) : undefined;
          opened = await openLog({
            dir: spec.kind === 'sqlite' ? spec.dir : '',
            store,
            cluster: store && { store, leaseMs: opts.leaseMs, forwardTimeoutMs: opts.witnessTimeout + 5000 },
            origin: opts.origin,
            keyFile: opts.key,
            stateFile: opts.stateFile,
            publishDir: opts.publishDir,
            batchInterval: opts.batchInterval,
            batchSize: opts.batchSize,
            poolSize: opts.poolSize,
            maxEntryBytes: opts.maxEntryBytes,
            allowSigners,
            witnesses,
            verifyWorkers: opts.verifyWorkers,
            readCacheBytes: opts.readCacheMb * 1024 * 1024,
            quorum: opts.quorum,
            witnessTimeoutMs: opts.witnessTimeout,
            witnessMetrics: metrics.witness,
            log,
            onHead: () => hub?.advance(),
            onBatch: (b) => {
              metrics.batchEntries.observe(b.entries);
              metrics.commitSeconds.observe(b.seconds);
              metrics.treeSize.set(b.size);
              log('batch-committed', { size: b.size, entries: b.entries, seconds: Number(b.seconds.toFixed(4)) });
            },
            onError: (err) => log('batch-failed', { message: (err as Error).message }),
          });
        } catch (err) {
          if (err instanceof StartupError) throw new CliError(`refusing to start: ${err.message}`);
          const sys = systemRefusal(err);
          if (sys !== undefined) throw new CliError(sys);
          if (spec.kind === 'postgres') throw new CliError(`refusing to start: cannot use the database ${redactStorage(spec.url)}: ${(err as Error).message}`);
          throw err;
        }
        const { service, sequencer } = opened;
        metrics.treeSize.set(sequencer.size);
        metrics.watchReadCache(service.readCache);
        const poll = setInterval(() => {
          metrics.poolDepth.set(sequencer.poolDepth);
          // A node that follows learns new checkpoints from the database, not from its own batches.
          metrics.treeSize.set(sequencer.size);
        }, 1000);
        poll.unref();
        if (opened.createdKey) io.stdout.write(`${opened.verifierKey}\n`);
        const databaseUp = watchDatabase(opened.storage, metrics);
        let server: Server | undefined;
        let actualPort: number;
        if (opts.workers > 1) {
          // The HTTP work goes to worker processes; this one sequences (src/log/workers.ts).
          hub = new workers.WorkerHub({ service, sequencer, metrics, workers: opts.workers, verifierKey: opened.verifierKey, log });
          hub.advance();
          try {
            actualPort = await hub.start();
          } catch (err) {
            await hub.stop();
            await opened.close();
            throw new CliError(`refusing to start: ${(err as Error).message}`);
          }
        } else {
          try {
            server = await listenLog(await logHandler({ service, metrics, log, databaseUp }, opts), host, port);
          } catch (err) {
            const refusal = listenRefusal(err, host, port);
            if (refusal === undefined) throw err;
            await opened.close();
            throw new CliError(refusal);
          }
          const address = server.address();
          actualPort = typeof address === 'object' && address ? address.port : port;
        }
        const nodeName = opts.nodeName ?? `${hostname()}:${actualPort}`;
        const cluster = opened.cluster;
        metrics.setSequencing(nodeName, cluster === undefined);
        if (cluster) {
          const wildcard = host === '0.0.0.0' || host === '::' || host === '';
          const url = opts.advertiseUrl ?? `http://${wildcard ? hostname() : host.includes(':') ? `[${host}]` : host}:${actualPort}`;
          cluster.join({
            holder: nodeName,
            url: url.replace(/\/+$/, ''),
            onRole: (sequencing, epoch) => {
              metrics.setSequencing(nodeName, sequencing, epoch);
              metrics.treeSize.set(sequencer.size);
            },
          });
        }
        log('start', { origin: opts.origin, listen: `${host}:${actualPort}`, size: sequencer.size, verifierKey: opened.verifierKey, storage: opts.storage === undefined ? `sqlite:${opts.data}` : redactStorage(opts.storage), pid: process.pid, node: nodeName, workers: opts.workers });
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          log('stopping', { signal });
          // Stop accepting connections, commit and answer the batch in flight,
          // then let the answers drain before closing the remaining sockets.
          if (server) {
            const s = server;
            const closed = new Promise<void>((resolve) => s.close(() => resolve()));
            await opened.close();
            s.closeIdleConnections();
            await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
            s.closeAllConnections();
          } else {
            // Each worker stops accepting and lets its answers go out, then exits; meanwhile the sequencer
            // commits what waits and answers it (through the workers still running).
            const exited = hub!.stop();
            await opened.close();
            await exited;
          }
          clearInterval(poll);
          log('stopped', { size: sequencer.size });
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );
}

/** Listens with the log's settings; resolves once listening. */
/** The storage's liveness probe (PostgreSQL), watched by `metrics`; undefined on SQLite. /healthz uses it too. */
function watchDatabase(storage: LogStorage, metrics: LogMetrics): (() => Promise<boolean>) | undefined {
  if (!storage.ping) return undefined;
  const up = (): Promise<boolean> => storage.ping!();
  metrics.watchDatabase(up);
  return up;
}

/**
 * The request handler of a process that answers HTTP: the one `serve`
 * process, or each worker of `serve --workers N`. The same flags shape both.
 */
async function logHandler(deps: Omit<LogAppDeps, 'maxEntryBytes' | 'rateLimiter'>, opts: { maxEntryBytes: number; rate?: number }): Promise<RequestListener> {
  const [{ createLogHandler }, { RateLimiter }] = await Promise.all([import('../src/http/log-app.js'), import('../src/util/ratelimit.js')]);
  return createLogHandler({ ...deps, maxEntryBytes: opts.maxEntryBytes, rateLimiter: opts.rate ? new RateLimiter(opts.rate) : undefined });
}

async function listenLog(handler: RequestListener, host: string, port: number): Promise<Server> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue (Node's default is 511): a burst of new
    // connections waits to be accepted instead of having its
    // handshakes dropped and retried seconds later. The kernel caps
    // it at net.core.somaxconn.
    server.listen({ port, host, backlog: 4096 }, () => resolve());
  });
  return server;
}

interface WorkerFlags {
  origin: string;
  maxEntryBytes: number;
  rate?: number;
  allowSigners?: string;
  witness: string[];
  verifyWorkers: number;
  readCacheMb: number;
  dbRetryMaxMs: number;
}

/**
 * One HTTP worker of `serve --workers N` (src/log/workers.ts): reads from
 * its own read-only connection to the store, sends accepted entries to the
 * primary process, and stops when the primary says so (or is gone).
 */
async function serveWorker(opts: WorkerFlags, spec: { kind: 'sqlite'; dir: string } | { kind: 'postgres'; url: string }, host: string, port: number): Promise<void> {
  const [{ LogMetrics }, { jsonLogger }, { LogService }, workers, { nodeEd25519 }, { formatVerifier }, { VerifyPool }] = await Promise.all([
    import('../src/log/metrics.js'),
    import('../src/util/logger.js'),
    import('../src/log/service.js'),
    import('../src/log/workers.js'),
    import('../src/crypto/ed25519-node.js'),
    import('../src/note/index.js'),
    import('../src/log/verify-pool.js'),
  ]);
  // The primary coordinates shutdown: a signal to the whole group must not cut answers short here.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  const log = jsonLogger();
  const metrics = new LogMetrics({ processMetrics: true });
  const vkey = process.env[workers.WORKER_VKEY_ENV] ?? '';
  const storage: LogStorage =
    spec.kind === 'sqlite'
      ? new (await import('../src/log/storage/sqlite.js')).SqliteStorage(join(spec.dir, 'log.db'), { readOnly: true })
      : await (await import('../src/log/storage/postgres.js')).openPostgres(spec.url, { log, shared: true, retryMaxMs: opts.dbRetryMaxMs });
  const remote = new workers.RemoteSequencer({ reader: storage.reader, origin: opts.origin, verifier: parseVerifier(vkey), ed: nodeEd25519 });
  remote.ownMetrics = async () => (await metrics.registry.getMetricsAsJSON()) as Awaited<ReturnType<typeof remote.ownMetrics>>;
  await remote.firstHead;
  const verifyPool = opts.verifyWorkers > 0 ? new VerifyPool(opts.verifyWorkers) : undefined;
  const service = new LogService({
    reader: storage.reader,
    sequencer: remote,
    origin: opts.origin,
    verifierKey: vkey,
    maxEntryBytes: opts.maxEntryBytes,
    allowSigners: opts.allowSigners ? readAllowSigners(opts.allowSigners) : undefined,
    witnesses: opts.witness.map((w) => formatVerifier(parseWitnessFlag(w).verifier)),
    verifyPool,
    ed: nodeEd25519,
    readCacheBytes: opts.readCacheMb * 1024 * 1024,
    published: () => remote.published(),
  });
  metrics.watchReadCache(service.readCache);
  const databaseUp = watchDatabase(storage, metrics);
  const server = await listenLog(await logHandler({ service, metrics, log, databaseUp, metricsText: () => remote.metricsText() }, opts), host, port);
  let stopping = false;
  remote.onStop = () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await remote.idle();
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
      server.closeAllConnections();
      await verifyPool?.close();
      await storage.close();
      process.exit(0);
    })();
  };
}
