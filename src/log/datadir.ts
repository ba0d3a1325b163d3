/**
 * A log's data directory and its start-up checks (docs/operations.md):
 *
 *   DIR/log.key    the log's skey (mode 0600), unless --key points elsewhere
 *   DIR/log.db     SQLite database (+ log.db-wal, log.db-shm while running)
 *   DIR/serve.lock the single-writer lock (a kernel lock, see lockDir)
 *   DIR/serve.pid  the running server's pid, to name it when the lock is refused
 *   DIR/signed-checkpoint  the newest checkpoint the log signed, kept outside
 *                  log.db (signed-record.ts): start-up refuses a log.db behind it
 *
 * A log on another backend (PostgreSQL) has no directory: cmd/serve.ts
 * opens its storage (storage/open.ts) and hands it in as `store`, with
 * `keyFile` and `stateFile` (the signed-checkpoint record of this node).
 *
 * `openLog` refuses to start, with a message that says what to do, when the
 * store belongs to another origin or was made with another key, when the key file is readable by
 * group or others, when the key's name is not the origin, when another live
 * server holds the directory, or when the stored tree does not match the
 * last signed checkpoint.
 */
import Database from 'better-sqlite3';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { formatSigner, formatVerifier, generateSigner, parseSigner, verifierFromSigner, type Signer } from '../note/index.js';
import type { Logger } from '../util/logger.js';
import { Sequencer, StartupError, type SequencerOptions, type SequencerView } from './sequencer.js';
import { ClusterNode, type SharedStore } from './cluster.js';
import { VerifyPool } from './verify-pool.js';
import { Witnessing, type WitnessMetrics, type WitnessTarget } from './witnesses.js';
import { LogService } from './service.js';
import { SqliteStorage, type SqliteOptions } from './storage/sqlite.js';
import { checkAgainstRecord, readSignedRecord, RECOVERY_DOC, writeSignedRecord } from './signed-record.js';
import { probeWitnesses } from './witness-probe.js';
import { Publisher } from './publish.js';
import type { CheckpointRecord, LogStorage } from './storage.js';

export { StartupError };

export interface OpenLogOptions {
  /** The SQLite data directory; ignored when `store` is given. */
  dir: string;
  /**
   * A storage opened by the caller (another backend); then `keyFile` is
   * required, and `openLog` takes it over: close() closes it.
   */
  store?: LogStorage;
  origin: string;
  /** An skey file to use instead of DIR/log.key. */
  keyFile?: string;
  /**
   * The record of the newest signed checkpoint (signed-record.ts); default
   * DIR/signed-checkpoint. With a `store` and no stateFile, nothing is
   * recorded (cmd/serve.ts requires --state-file for PostgreSQL).
   */
  stateFile?: string;
  batchInterval: number;
  batchSize: number;
  poolSize: number;
  maxEntryBytes: number;
  allowSigners?: ReadonlySet<string>;
  /** Witnesses to ask for cosignatures (c2sp.org/tlog-witness). */
  witnesses?: readonly WitnessTarget[];
  /** Cosignatures a checkpoint needs before it is published and submitters are answered (default 0). */
  quorum?: number;
  /** How long a submitter waits for the quorum, and the per-request witness timeout (default 10 s). */
  witnessTimeoutMs?: number;
  witnessMetrics?: WitnessMetrics;
  /** How often lagging witnesses are asked again on an idle log (default 2000 ms). */
  witnessRetryMs?: number;
  /** Most sequenced entries waiting for a witnessed checkpoint before submissions get 503 (default: poolSize). */
  witnessBacklog?: number;
  log?: Logger;
  onBatch?: SequencerOptions['onBatch'];
  onError?: SequencerOptions['onError'];
  /**
   * Worker threads verifying submission signatures (default 0: inline). On
   * the 2-core benchmark machine, with the load generator on the same cores,
   * a worker did not raise throughput (docs/performance.md); on a server
   * with spare cores it moves Ed25519 off the HTTP thread.
   */
  verifyWorkers?: number;
  /** Bytes of full tiles and entry bundles cached in memory (default 0: none). */
  readCacheBytes?: number;
  /**
   * This node is one of several on a shared `store` (PostgreSQL opened with
   * `shared`): it sequences only while it holds the lease, and follows and
   * forwards otherwise (cluster.ts). Nothing is signed until join().
   */
  cluster?: {
    store: SharedStore;
    leaseMs: number;
    followMs?: number;
    forwardTimeoutMs: number;
  };
  /**
   * Writes the tlog-tiles read path (checkpoint, tile/..., tile/entries/...)
   * as static files under this directory as they are made (publish.ts).
   */
  publishDir?: string;
  /** Test hooks for fault injection in the SQLite storage. */
  storage?: SqliteOptions;
  /**
   * Called whenever the head may have moved: after each commit (before its
   * submitters are answered), when a checkpoint reaches the witness quorum,
   * and when a following node learns a newer checkpoint (workers.ts).
   */
  onHead?: () => void;
}

export interface OpenedLog {
  service: LogService;
  /** The Sequencer, or with `cluster`, the ClusterNode that sequences or forwards. */
  sequencer: SequencerView;
  /** This node among several (only with `cluster`): call join() once it listens. */
  cluster?: ClusterNode;
  storage: LogStorage;
  verifierKey: string;
  /** True when this call created the key (first start). */
  createdKey: boolean;
  /** Stops intake, commits the batch in flight, closes the database and releases the directory. */
  close(): Promise<void>;
  /**
   * Closes the database and releases the directory at once, answering no
   * one and committing nothing, as if the process had died. For crash tests
   * that run in one process; a real server never calls it.
   */
  abandon(): void;
}

/** Refuses a path that is a directory where a file belongs, with the fix, instead of a raw EISDIR or SQLite message. */
function mustNotBeDirectory(path: string, what: string): void {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    return; // Missing is fine (created later); other errors surface where the file is opened.
  }
  if (dir) throw new StartupError(`${path} is a directory: ${what}; remove or rename the directory, or choose another path`);
}

export async function openLog(o: OpenLogOptions): Promise<OpenedLog> {
  let release = () => {};
  let storage: LogStorage | undefined = o.store;
  // What a message calls the store: the directory, or the database.
  const where = storage ? 'the database' : `data directory ${o.dir}`;
  if (storage && o.keyFile === undefined) throw new StartupError('a log on a database server needs --key FILE: there is no data directory to keep it in');
  // Before anything is created (the key on a first start): files that turn out to be directories.
  if (o.stateFile !== undefined) mustNotBeDirectory(o.stateFile, '--state-file must name a file, where this node records the newest checkpoint it signed');
  else if (!storage) mustNotBeDirectory(join(o.dir, 'signed-checkpoint'), 'the record of the newest checkpoint the log signed must be a file');
  if (!storage) mustNotBeDirectory(join(o.dir, 'log.db'), "the log's SQLite database must be a file");
  if (!storage) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    release = lockDir(o.dir);
  }
  try {
    storage ??= new SqliteStorage(join(o.dir, 'log.db'), o.storage);
    const identity = await storage.identity();
    const stored = identity?.origin;
    if (stored !== undefined && stored !== o.origin) {
      throw new StartupError(`${where} belongs to origin ${stored}, not ${o.origin}`);
    }
    const keyPath = o.keyFile ?? join(o.dir, 'log.key');
    const published = (await storage.writer.latestCheckpoint()) !== undefined;
    if (stored === undefined) {
      if (published) throw new StartupError('the database has checkpoints but no origin record');
      if (o.keyFile === undefined && existsSync(keyPath)) {
        // A key that signed before must never start a second tree: that is a split view.
        throw new StartupError(
          `${keyPath} exists but the database is new. If this key ever published a checkpoint, restore the log.db that goes with it; ` +
            'if it never did, move it out of the directory and pass it with --key',
        );
      }
    }
    // The key is made only for a log that never published (first start, or a crash during it).
    const create = o.keyFile === undefined && !published;
    if (o.keyFile === undefined && published && !existsSync(keyPath)) {
      throw new StartupError(`the log key ${keyPath} is missing; restore it from your backup (or pass --key FILE)`);
    }
    // When this start makes the key, the origin goes first: a crash before the key is written leaves a directory
    // that starts again. With a given key nothing is written until the rollback checks below have passed.
    if (stored === undefined && create) await storage.setIdentity({ origin: o.origin });
    const { signer, created } = loadOrCreateKey(keyPath, o.origin, create);
    const verifier = verifierFromSigner(signer);
    const verifierKey = formatVerifier(verifier);
    if (identity?.verifierKey !== undefined && identity.verifierKey !== verifierKey) {
      throw new StartupError(`${where} was made with the log key ${identity.verifierKey}, not ${verifierKey}; start it with its own key`);
    }
    const db = storage;
    const stateFile = o.stateFile ?? (o.store ? undefined : join(o.dir, 'signed-checkpoint'));
    if (stateFile !== undefined) {
      const record = readSignedRecord(stateFile, o.origin, verifier, nodeEd25519);
      if (record !== undefined) checkAgainstRecord(stateFile, record, await storage.writer.latestCheckpoint());
    }
    const latest = await storage.writer.latestCheckpoint();
    if (latest !== undefined && o.witnesses && o.witnesses.length > 0) {
      // A witness that cosigned a larger tree catches a rollback the local record missed (restored with the store, or lost).
      for (const p of await probeWitnesses(o.witnesses, latest, o.witnessTimeoutMs ?? 10_000)) {
        if ('error' in p) {
          o.log?.('witness-probe-failed', { witness: p.witness, message: p.error });
        } else if (p.size > latest.size) {
          throw new StartupError(
            `the store is behind what witness ${p.witness} has seen: the store's latest checkpoint has size ${latest.size}, ` +
              `but the witness cosigned size ${p.size} of this log. Signing now would fork the log; see ${RECOVERY_DOC}`,
          );
        }
      }
    }
    // Recorded on first start (and for stores made before keys were recorded), and only on a store that passed
    // the rollback checks: a refused start (an emptied database behind the record) stores nothing.
    if (identity?.verifierKey === undefined) await storage.setIdentity({ origin: o.origin, verifierKey });
    let witnessing: Witnessing | undefined;
    let service: LogService | undefined;
    let publisher: Publisher | undefined;
    if (o.witnesses && o.witnesses.length > 0) {
      witnessing = new Witnessing({
        witnesses: o.witnesses,
        quorum: o.quorum ?? 0,
        timeoutMs: o.witnessTimeoutMs ?? 10_000,
        ed: nodeEd25519,
        consistency: (from, to) => service!.consistencyHashes(from, to),
        onWitnessed: (w, checkpoint) => {
          db.writer.setWitnessed(checkpoint, w.note).catch((err: unknown) => o.log?.('witnessed-store-failed', { size: w.size, message: (err as Error).message }));
        },
        initial: await db.reader.latestWitnessed(),
        log: o.log ?? (() => {}),
        onCosigned: () => {
          publisher?.kick();
          o.onHead?.();
        },
        metrics: o.witnessMetrics,
        retryMs: o.witnessRetryMs,
        maxBacklog: o.witnessBacklog ?? o.poolSize,
      });
    } else if ((o.quorum ?? 0) > 0) {
      throw new StartupError(`a witness quorum of ${o.quorum} needs at least that many witnesses`);
    }
    if (witnessing && witnessing.quorum > (o.witnesses?.length ?? 0)) {
      throw new StartupError(`a witness quorum of ${witnessing.quorum} is more than the ${o.witnesses?.length} witnesses given`);
    }
    const sequencerOptions = {
      writer: storage.writer,
      reader: storage.reader,
      origin: o.origin,
      signer,
      verifier,
      ed: nodeEd25519,
      batchInterval: o.batchInterval,
      batchSize: o.batchSize,
      poolSize: o.poolSize,
      onBatch: o.onBatch,
      onError: o.onError,
      onCommit: (cp: CheckpointRecord) => {
        witnessing?.offer(cp);
        publisher?.kick();
        o.onHead?.();
      },
      record: stateFile === undefined ? undefined : (cp: CheckpointRecord) => writeSignedRecord(stateFile, cp),
    } satisfies SequencerOptions;
    let cluster: ClusterNode | undefined;
    let sequencer: SequencerView;
    if (o.cluster) {
      // One node of several: it sequences only while it holds the lease (cluster.ts).
      const c = o.cluster;
      cluster = new ClusterNode({
        store: c.store,
        reader: storage.reader,
        origin: o.origin,
        verifier,
        ed: nodeEd25519,
        initial: latest,
        checkRecord: async () => {
          if (stateFile === undefined) return;
          const record = readSignedRecord(stateFile, o.origin, verifier, nodeEd25519);
          if (record !== undefined) checkAgainstRecord(stateFile, record, await db.writer.latestCheckpoint());
        },
        openSequencer: async (canSign, onCommit, record) => {
          const seq = await Sequencer.open({
            ...sequencerOptions,
            record,
            canSign,
            onCommit: (cp) => {
              onCommit(cp);
              witnessing?.offer(cp);
              publisher?.kick();
              o.onHead?.();
            },
          });
          seq.start();
          return seq;
        },
        // Followers record what they take up too (cluster.ts), through the node's one queue of writes.
        record: sequencerOptions.record,
        leaseMs: c.leaseMs,
        followMs: c.followMs,
        forwardTimeoutMs: c.forwardTimeoutMs,
        witnessing,
        onAdvance: () => {
          publisher?.kick();
          o.onHead?.();
        },
        log: o.log ?? (() => {}),
      });
      sequencer = cluster;
    } else {
      sequencer = await Sequencer.open(sequencerOptions);
    }
    const verifyPool = (o.verifyWorkers ?? 0) > 0 ? new VerifyPool(o.verifyWorkers) : undefined;
    service = new LogService({
      reader: storage.reader,
      sequencer,
      origin: o.origin,
      verifierKey,
      maxEntryBytes: o.maxEntryBytes,
      allowSigners: o.allowSigners,
      witnesses: o.witnesses?.map((w) => formatVerifier(w.verifier)),
      witnessing,
      verifyPool,
      ed: nodeEd25519,
      readCacheBytes: o.readCacheBytes,
    });
    if (o.publishDir !== undefined) {
      publisher = new Publisher(o.publishDir, service, o.log);
      publisher.kick();
    }
    if (sequencer instanceof Sequencer) {
      sequencer.start();
      witnessing?.offer(sequencer.checkpoint);
    }
    let closed = false;
    return {
      service,
      sequencer,
      cluster,
      storage,
      verifierKey,
      createdKey: created,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await sequencer.close();
          await publisher?.close();
          witnessing?.close();
          await verifyPool?.close();
        } finally {
          await db.close();
          release();
        }
      },
      abandon() {
        if (closed) return;
        closed = true;
        witnessing?.close();
        publisher?.stop();
        if (db instanceof SqliteStorage) db.closeSync();
        else void db.close().catch(() => {});
        release();
      },
    };
  } catch (err) {
    await storage?.close().catch(() => {});
    release();
    throw err;
  }
}

export function loadOrCreateKey(path: string, origin: string, create: boolean): { signer: Signer; created: boolean } {
  let created = false;
  if (create) {
    try {
      const signer = generateSigner(origin, nodeEd25519);
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        writeSync(fd, `${formatSigner(signer)}\n`);
      } finally {
        closeSync(fd);
      }
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new StartupError(`cannot read the log key ${path}`);
  }
  if (!st.isFile()) throw new StartupError(`the log key ${path} is not a file (a directory?); give --key the path of the key file itself`);
  if ((st.mode & 0o077) !== 0) {
    throw new StartupError(`the log key ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  const signer = parseSigner(readFileSync(path, 'utf8'), nodeEd25519);
  if (signer.name !== origin) {
    throw new StartupError(`the log key ${path} is named ${signer.name}, but the origin is ${origin}; a log's key name must equal its origin`);
  }
  return { signer, created };
}

/**
 * Takes the directory's kernel lock, or refuses if another process (or
 * another open in this process) holds it. The lock is SQLite's exclusive
 * lock on DIR/serve.lock, a POSIX record lock: the kernel drops it when the
 * holder exits, kill -9 included, so a crash never leaves a stale lock and
 * a reused pid never blocks a start. DIR/serve.pid only names the holder in
 * the refusal message. Returns the release function.
 */
export function lockDir(dir: string): () => void {
  const path = join(dir, 'serve.lock');
  const pidPath = join(dir, 'serve.pid');
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write transaction takes the exclusive lock, and in this
    // locking mode it is held until the connection closes.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db?.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      let holder = 'another process';
      try {
        const pid = Number(readFileSync(pidPath, 'utf8').trim());
        if (Number.isSafeInteger(pid) && pid > 0) holder = `process ${pid}`;
      } catch {
        // No pid file (yet): the holder is still unnamed.
      }
      throw new StartupError(`data directory ${dir} is in use by ${holder}; stop that server first (the lock is ${path}, held by the kernel until its holder exits)`);
    }
    throw new StartupError(`cannot lock data directory ${dir} (${path}): ${(err as Error).message}`);
  }
  const held = db;
  try {
    writeFileSync(pidPath, `${process.pid}\n`, { mode: 0o600 });
  } catch (err) {
    held.close();
    throw new StartupError(`cannot write ${pidPath}: ${(err as Error).message}`);
  }
  return () => {
    try {
      unlinkSync(pidPath);
    } catch {
      // Already gone; the pid file is informational only.
    }
    held.close();
  };
}
