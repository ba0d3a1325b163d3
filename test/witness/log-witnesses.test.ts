/**
 * A log with two witnesses and quorum 2 (issue "Witnessing"): bundles carry
 * both cosignatures and verify offline with quorum 2; /checkpoint serves the
 * witnessed checkpoint; when one witness is stopped, submissions answer 503
 * at once (the witness timeout is far longer than the test may run), and
 * while the quorum is out of reach nothing new is sequenced; none is lost;
 * when it is back, submissions (and resubmissions of the entries that got
 * 503) are answered with cosigned proofs.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import express from 'express';
import type { Server } from 'node:http';
import { createHttpServer } from '../../src/http/server.js';
import type { AddressInfo } from 'node:net';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode } from '../../src/encoding.js';
import { decodeEntry } from '../../src/entry/index.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { mountWitnessCheckpoint, withAddCheckpoint } from '../../src/http/witness-routes.js';
import { cosignerVerifier, formatVerifier, generateSigner, verifierFromSigner, verifyCosignatures } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { Witness } from '../../src/witness/witness.js';
import { audit } from '../log/audit.js';
import { get, makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from '../log/harness.js';
import { formatSigner, parseSigner } from '../../src/note/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

t.test('quorum 2 with two witnesses, one stopped and restarted', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  // The log key must be known to the witnesses before the log starts.
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const keyFile = join(tempDir(), 'log.key');
  writeFileSync(keyFile, `${formatSigner(logSigner)}\n`, { mode: 0o600 });
  const logKey = verifierFromSigner(parseSigner(formatSigner(logSigner), nodeEd25519));

  const witnesses = ['w1.example', 'w2.example'].map((name) => {
    const signer = generateSigner(name, nodeEd25519);
    const witness = new Witness({ signer, logs: [logKey], store: new SqliteWitnessStore(new Database(':memory:')), ed: nodeEd25519 });
    const app = express();
    mountWitnessCheckpoint(app, witness);
    app.use(errorMiddleware(silentLogger));
    const handler = withAddCheckpoint(app, { witness, log: silentLogger });
    return { name, signer, handler, server: createHttpServer(handler), port: 0 };
  });
  for (const w of witnesses) w.port = await listen(w.server);
  const targets = witnesses.map((w) => ({ url: `http://127.0.0.1:${w.port}`, verifier: cosignerVerifier(w.signer) }));
  const witnessVkeys = targets.map((x) => formatVerifier(x.verifier));

  // The timeout is longer than tap lets the test run: a 503 must come from the witness being seen down, not from waiting.
  const log = await startLog({ dir, keyFile, witnesses: targets, quorum: 2, witnessTimeoutMs: 600_000, witnessRetryMs: 200 });
  t.teardown(() => log.close());
  const vkey = log.opened.verifierKey;
  t.same(JSON.parse((await get(`${log.url}/v1/log`)).text).witnesses, witnessVkeys, '/v1/log lists the witness vkeys');

  const entries = Array.from({ length: 10 }, () => makeEntry());
  const answers = await Promise.all(entries.map((e) => post(log.url, e)));
  t.same(answers.map((a) => a.status), Array(10).fill(201), 'submissions are answered once the quorum cosigned');
  for (const a of answers) {
    const e = b64decode(a.json.entry, 'entry');
    const res = verifyBundle({ digest: decodeEntry(e).digest }, a.json.bundle, { logKey: vkey, witnesses: witnessVkeys, quorum: 2 }, nodeEd25519);
    if (!res.ok) t.fail(`bundle ${a.json.index} does not verify with quorum 2: ${res.message}`);
  }
  t.pass('every bundle verifies offline with quorum 2');
  const cp = (await get(`${log.url}/checkpoint`)).text;
  t.equal(verifyCosignatures(cp, targets.map((x) => x.verifier), nodeEd25519).length, 2, '/checkpoint carries both cosignatures');

  // Stop witness 2: the quorum cannot be reached; submissions get 503 as soon as the log sees it down.
  const w2 = witnesses[1]!;
  w2.server.closeAllConnections();
  await new Promise((r) => w2.server.close(r));
  const during = Array.from({ length: 3 }, () => makeEntry());
  const blocked = await Promise.all(during.map((e) => post(log.url, e)));
  t.same(blocked.map((b) => b.status), [503, 503, 503], 'without the quorum, submissions answer 503');
  t.ok(blocked.every((b) => /^[1-9]/.test(b.headers.get('retry-after') ?? '')), 'with Retry-After');
  t.ok(blocked.every((b) => /only 1 of 2 witnesses answer \(down: w2\.example\), fewer than the quorum of 2/.test(b.json.message ?? b.json.error ?? JSON.stringify(b.json))), `naming the witness that is down (${JSON.stringify(blocked[0]!.json)})`);
  const sequenced = log.opened.sequencer.size;
  t.ok(sequenced > 10 && sequenced <= 13, `the first of them was sequenced (size ${sequenced})`);
  const refused = await post(log.url, makeEntry());
  t.equal(refused.status, 503, 'while the quorum is out of reach, a new submission answers 503');
  t.equal(log.opened.sequencer.size, sequenced, 'and is not sequenced: pushback, not a growing backlog');
  t.equal(verifyCosignatures((await get(`${log.url}/checkpoint`)).text, targets.map((x) => x.verifier), nodeEd25519).length, 2, '/checkpoint still serves the last witnessed checkpoint');
  t.equal(JSON.parse((await get(`${log.url}/v1/log`)).text).size, sequenced, '/v1/log shows the sequenced size');

  // Witness 2 comes back on the same port.
  w2.server = createHttpServer(w2.handler);
  await listen(w2.server, w2.port);
  t.teardown(() => {
    w2.server.closeAllConnections();
    w2.server.close();
    witnesses[0]!.server.closeAllConnections();
    witnesses[0]!.server.close();
  });
  // With no new submissions, the retry timer brings witness 2 up to date.
  let caughtUp = false;
  for (let i = 0; i < 50 && !caughtUp; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = (await get(`${log.url}/checkpoint`)).text;
    caughtUp = now.split('\n')[1] === String(sequenced) && verifyCosignatures(now, targets.map((x) => x.verifier), nodeEd25519).length === 2;
  }
  t.ok(caughtUp, 'on an idle log, the recovered witness cosigns the latest checkpoint by itself');
  const after = await post(log.url, makeEntry());
  t.equal(after.status, 201, 'with the witness back, submissions are answered again');
  const again = await Promise.all(during.map((e) => post(log.url, e)));
  t.ok(again.every((a) => a.status === 200 || a.status === 201), `resubmitting the blocked entries answers 200 if it was sequenced, 201 if not (${again.map((a) => a.status)})`);
  t.equal(again.filter((a) => a.status === 200).length, sequenced - 10, 'each of them sequenced before the refusals answers 200');
  for (const a of [after, ...again]) {
    const e = b64decode(a.json.entry, 'entry');
    const res = verifyBundle({ digest: decodeEntry(e).digest }, a.json.bundle, { logKey: vkey, witnesses: witnessVkeys, quorum: 2 }, nodeEd25519);
    t.ok(res.ok, `entry ${a.json.index}: its cosigned bundle verifies with quorum 2`);
  }
  const metrics = (await get(`${log.url}/metrics`)).text;
  t.match(metrics, /vitrine_witness_requests_total\{witness="w1\.example[^"]*",outcome="ok"\} [1-9]/, 'per-witness success metric');
  t.match(metrics, /vitrine_witness_requests_total\{witness="w2\.example[^"]*",outcome="error"\} [1-9]/, 'per-witness failure metric');
  t.match(metrics, new RegExp(`vitrine_witness_cosigned_size\\{witness="w2\\.example[^"]*"\\} ${log.opened.sequencer.size}\\b`), 'last cosigned size per witness');
  await audit(log.url, vkey, [cp]);
});
