/**
 * `--publish-dir` with witnesses (issue 10 §4): GET /checkpoint changes
 * after the commit, as cosignatures arrive (quorum 0), or only serves a
 * checkpoint that reached the quorum (quorum 1); the published checkpoint
 * follows it and ends byte-identical to the API's, cosignature included.
 * A real c2sp tlog-witness (src/witness) over HTTP.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import express from 'express';
import { writeFileSync } from 'node:fs';
import { createHttpServer } from '../../src/http/server.js';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { mountWitnessCheckpoint, withAddCheckpoint } from '../../src/http/witness-routes.js';
import { cosignerVerifier, formatSigner, generateSigner, parseSigner, verifierFromSigner } from '../../src/note/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { Witness } from '../../src/witness/witness.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from './harness.js';
import { compareWithApi, published } from './publish-check.js';

for (const quorum of [0, 1]) {
  t.test(`the published checkpoint carries the cosignatures GET /checkpoint serves (quorum ${quorum})`, async (t) => {
    const dir = tempDir();
    t.teardown(() => removeDir(dir));
    const logSigner = generateSigner(ORIGIN, nodeEd25519);
    const keyFile = join(dir, 'given.key');
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
    const pub = join(dir, 'pub');
    const log = await startLog({ dir: join(dir, 'data'), keyFile, witnesses, quorum, witnessTimeoutMs: 8000, witnessRetryMs: 200, publishDir: pub });
    t.teardown(() => log.close());

    for (let i = 0; i < 3; i++) t.equal((await post(log.url, makeEntry())).status, 201, 'submission accepted');
    // With quorum 0 the cosignature may still be on its way: wait until the API serves it.
    for (let i = 0; i < 100 && !(await (await fetch(`${log.url}/checkpoint`)).text()).includes('— w1.example '); i++) await new Promise((r) => setTimeout(r, 100));
    const note = await published(log.url, pub);
    t.match(note, /\n\n— test\.example\/log .*\n— w1\.example .*\n$/, 'the published checkpoint is the log-signed one with the witness cosignature');
    await compareWithApi(t, log.url, pub);
  });
}
