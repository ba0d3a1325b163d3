/**
 * Submission signatures checked on a worker thread (`--verify-workers`):
 * the pool agrees with node:crypto on valid and tampered signatures, and a
 * log using it accepts and rejects exactly as the inline path does.
 */
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { VerifyPool } from '../../src/log/verify-pool.js';
import { generateSigner } from '../../src/note/index.js';
import { makeEntry, post, removeDir, startLog } from './harness.js';

t.test('the pool agrees with node:crypto', async (t) => {
  const pool = new VerifyPool(2);
  t.teardown(() => pool.close());
  const signer = generateSigner('pool.example', nodeEd25519);
  const cases = Array.from({ length: 200 }, (_, i) => {
    const msg = new TextEncoder().encode(`message ${i}`.repeat(1 + (i % 7)));
    const sig = nodeEd25519.sign(signer.seed, msg);
    if (i % 3 === 1) sig[i % 64]! ^= 1 << (i % 8);
    if (i % 3 === 2) msg[0]! ^= 1;
    return { msg, sig, want: nodeEd25519.verify(signer.publicKey, msg, sig) };
  });
  const got = await Promise.all(cases.map((c) => pool.verify(signer.publicKey, c.msg, c.sig)));
  t.same(got, cases.map((c) => c.want), 'every verdict matches node:crypto (one batch per event-loop turn)');
  t.equal(got.filter(Boolean).length, cases.filter((c) => c.want).length, 'and the valid ones are exactly the untampered ones');
  t.equal(await pool.verify(new Uint8Array(31), new Uint8Array(1), new Uint8Array(64)), false, 'a short key is simply invalid');
});

t.test('a log verifying on a worker thread', async (t) => {
  const log = await startLog({ verifyWorkers: 1 });
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const answers = await Promise.all(Array.from({ length: 50 }, () => post(log.url, makeEntry())));
  t.ok(answers.every((a) => a.status === 201), 'fifty concurrent valid submissions are accepted');
  const bad = makeEntry();
  bad[bad.length - 1]! ^= 1;
  const r = await post(log.url, bad);
  t.equal(r.status, 422, 'a flipped signature bit is rejected');
  t.equal(r.json.error, 'bad-signature', 'as a bad signature');
  t.equal(log.opened.sequencer.size, 50, 'and not stored');
});
