/**
 * Rollback protection through witnesses (issue 10 §5): a whole data
 * directory restored from a backup (database AND signed-checkpoint record)
 * passes the local check, but a witness that cosigned a larger size of this
 * log answers the start-up probe with 409 and that size, and the log
 * refuses to start. A real c2sp tlog-witness (src/witness) over HTTP.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import express from 'express';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { createHttpServer } from '../../src/http/server.js';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { mountWitnessCheckpoint, withAddCheckpoint } from '../../src/http/witness-routes.js';
import { openLog, StartupError } from '../../src/log/datadir.js';
import { cosignerVerifier, formatSigner, generateSigner, parseSigner, verifierFromSigner } from '../../src/note/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { Witness } from '../../src/witness/witness.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from './harness.js';

t.test('a witness that has seen a larger size refuses a restored directory', async (t) => {
  const dir = tempDir();
  const saved = tempDir();
  t.teardown(() => {
    removeDir(dir);
    removeDir(saved);
  });
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const keyFile = join(saved, 'log.key');
  writeFileSync(keyFile, `${formatSigner(logSigner)}\n`, { mode: 0o600 });
  const logKey = verifierFromSigner(parseSigner(formatSigner(logSigner), nodeEd25519));
  const wSigner = generateSigner('w1.example', nodeEd25519);
  const witness = new Witness({ signer: wSigner, logs: [logKey], store: new SqliteWitnessStore(new Database(':memory:')), ed: nodeEd25519 });
  const app = express();
  mountWitnessCheckpoint(app, witness);
  app.use(errorMiddleware(silentLogger));
  const server = createHttpServer(withAddCheckpoint(app, { witness, log: silentLogger }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const witnesses = [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, verifier: cosignerVerifier(wSigner) }];
  const opts = { keyFile, witnesses, quorum: 1, witnessTimeoutMs: 8000, witnessRetryMs: 200 };

  let log = await startLog({ dir, ...opts });
  for (let i = 0; i < 2; i++) t.equal((await post(log.url, makeEntry())).status, 201, 'witnessed submission');
  await log.close();
  // The backup: the database and the record, taken together at size 2.
  copyFileSync(join(dir, 'log.db'), join(saved, 'log.db'));
  copyFileSync(join(dir, 'signed-checkpoint'), join(saved, 'signed-checkpoint'));
  t.notOk(existsSync(join(dir, 'log.db-wal')), 'a clean close leaves log.db alone');

  log = await startLog({ dir, ...opts });
  for (let i = 0; i < 3; i++) t.equal((await post(log.url, makeEntry())).status, 201, 'witnessed submission');
  t.equal(log.opened.sequencer.size, 5, 'the witness has cosigned size 5');
  await log.close();

  copyFileSync(join(saved, 'log.db'), join(dir, 'log.db'));
  copyFileSync(join(saved, 'signed-checkpoint'), join(dir, 'signed-checkpoint'));
  let caught: unknown;
  try {
    const again = await openLog({ dir, origin: ORIGIN, batchInterval: 0, batchSize: 100, poolSize: 100, maxEntryBytes: 8192, ...opts });
    await again.close();
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof StartupError, `the restored directory is refused (${String(caught)})`);
  t.match(String((caught as Error | undefined)?.message), /behind what witness w1\.example has seen: the store's latest checkpoint has size 2, but the witness cosigned size 5 .*docs\/operations\.md/, 'naming the witness and both sizes');
});
