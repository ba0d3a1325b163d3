/**
 * Witness cosigning is pipelined with sequencing (issue 11 §1;
 * src/log/witnesses.ts): while a checkpoint is out at a slow witness, the
 * log commits the next batches; answers wait for the quorum; the witness
 * gets checkpoints one at a time, in increasing size, each with `old` equal
 * to the size it cosigned before (c2sp.org/tlog-witness); and the number of
 * sequenced entries waiting for a witnessed checkpoint is bounded: past it,
 * a submission answers 503 and is not sequenced. The witness is the real
 * Witness core behind its real HTTP routes, held back by the test.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import express from 'express';
import { createHttpServer } from '../../src/http/server.js';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode } from '../../src/encoding.js';
import { decodeEntry } from '../../src/entry/index.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { withAddCheckpoint } from '../../src/http/witness-routes.js';
import { cosignerVerifier, formatSigner, formatVerifier, generateSigner, parseCheckpoint, parseNote, parseSigner, verifierFromSigner } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { parseAddCheckpoint, Witness } from '../../src/witness/witness.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from '../log/harness.js';

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`gave up waiting: ${what}`);
}

t.test('batches commit while a checkpoint is out; delivery in order; bounded backlog', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const keyFile = join(tempDir(), 'log.key');
  writeFileSync(keyFile, `${formatSigner(logSigner)}\n`, { mode: 0o600 });
  const logKey = verifierFromSigner(parseSigner(formatSigner(logSigner), nodeEd25519));

  // The witness holds every request until the test opens the gate, and records what it was sent.
  const wSigner = generateSigner('w1.example', nodeEd25519);
  const witness = new Witness({ signer: wSigner, logs: [logKey], store: new SqliteWitnessStore(new Database(':memory:')), ed: nodeEd25519 });
  const seen: Array<{ old: number; size: number }> = [];
  let open = false;
  const held: Array<() => void> = [];
  const app = express();
  app.use(errorMiddleware(silentLogger));
  const server = createHttpServer(withAddCheckpoint(app, {
    witness,
    log: silentLogger,
    precheck: async (data) => {
      const req = parseAddCheckpoint(data);
      seen.push({ old: Number(req.old), size: Number(parseCheckpoint(parseNote(req.checkpoint).text).size) });
      if (!open) await new Promise<void>((r) => held.push(r));
    },
  }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const target = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, verifier: cosignerVerifier(wSigner) };

  const log = await startLog({ dir, keyFile, witnesses: [target], quorum: 1, witnessTimeoutMs: 600_000, witnessRetryMs: 600_000, witnessBacklog: 2 });
  t.teardown(() => log.close());
  const vkey = log.opened.verifierKey;
  await until('the start-up checkpoint reaches the witness', () => seen.length === 1);
  t.same(seen, [{ old: 0, size: 0 }], 'the empty tree went out first');

  let answered = 0;
  const a = post(log.url, makeEntry()).then((r) => (answered++, r));
  await until('batch 1 commits', () => log.opened.sequencer.size === 1);
  const b = post(log.url, makeEntry()).then((r) => (answered++, r));
  await until('batch 2 commits', () => log.opened.sequencer.size === 2);
  t.pass('batch 2 committed while the checkpoint before it was still out at the witness');
  t.equal(answered, 0, 'no answer before the quorum');
  t.equal(seen.length, 1, 'the witness has one request at a time');

  const refused = await post(log.url, makeEntry());
  t.equal(refused.status, 503, 'with 2 entries waiting for the quorum (the bound), a third answers 503');
  t.match(refused.json.message, /2 sequenced entries are waiting for the witness quorum \(at most 2\)/, 'saying why');
  t.ok(/^[1-9]/.test(refused.headers.get('retry-after') ?? ''), 'with Retry-After');
  t.equal(log.opened.sequencer.size, 2, 'and it was not sequenced');

  open = true;
  for (const release of held.splice(0)) release();
  const answers = await Promise.all([a, b]);
  t.same(answers.map((x) => x.status), [201, 201], 'both are answered once the witness cosigned');
  for (const x of answers) {
    const res = verifyBundle({ digest: decodeEntry(b64decode(x.json.entry, 'entry')).digest }, x.json.bundle,
      { logKey: vkey, witnesses: [formatVerifier(target.verifier)], quorum: 1 }, nodeEd25519);
    t.ok(res.ok, `entry ${x.json.index}: its bundle verifies with the witness cosignature`);
  }
  t.same(seen, [{ old: 0, size: 0 }, { old: 0, size: 2 }], 'the witness got the newest waiting checkpoint next, with old = the size it cosigned');
  const again = await post(log.url, makeEntry());
  t.equal(again.status, 201, 'with the backlog cleared, submissions are accepted again');
  for (let i = 1; i < seen.length; i++) {
    if (!(seen[i]!.size > seen[i - 1]!.size && seen[i]!.old === seen[i - 1]!.size)) t.fail(`request ${i} is out of order: ${JSON.stringify(seen)}`);
  }
  t.equal(seen[seen.length - 1]!.size, 3, 'every checkpoint went to the witness in increasing size, each extending the one before');
});
