/**
 * Invariant harness (STYLE.md, after Sunlight's TestLog): a scripted
 * scenario drives an in-process log, with faults injected into the storage
 * commit through options; after every step the stored tree, the tiles and
 * the last checkpoint must agree, and every checkpoint published so far
 * must be consistent with the current one.
 */
import t from 'tap';
import { audit } from './audit.js';
import { get, makeEntry, post, removeDir, startLog, tempDir } from './harness.js';
import type { Batch } from '../../src/log/storage.js';

t.test('scripted scenario with injected commit failures', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  // While `failing`, every batch with entries fails just before COMMIT.
  let failing = false;
  const beforeCommit = (batch: Batch) => {
    if (batch.entries.length > 0 && failing) throw new Error('injected fault: disk error before COMMIT');
  };
  let log = await startLog({ dir, batchInterval: 10, storage: { beforeCommit } });
  const published: string[] = [];
  const check = async (step: string) => {
    const r = await audit(log.url, log.opened.verifierKey, published);
    published.push(r.note);
    t.pass(`${step}: tree, tiles and checkpoint agree at size ${r.size}`);
    return r;
  };
  await check('empty log');

  // 1. A batch of 257 entries crosses a full tile boundary.
  let answers = await Promise.all(Array.from({ length: 257 }, () => post(log.url, makeEntry())));
  t.ok(answers.every((a) => a.status === 201), 'step 1: all accepted');
  await check('after 257 entries');

  // 2. A failed commit: the batch's waiters get 503 with Retry-After, and nothing moves.
  failing = true;
  const doomed = Array.from({ length: 5 }, () => makeEntry());
  answers = await Promise.all(doomed.map((e) => post(log.url, e)));
  failing = false;
  t.same(answers.map((a) => a.status), [503, 503, 503, 503, 503], 'step 2: a failed commit answers 503');
  t.ok(answers.every((a) => /^[1-9]/.test(a.headers.get('retry-after') ?? '')), 'step 2: with Retry-After');
  const afterFault = await check('after a failed commit');
  t.equal(afterFault.size, 257, 'step 2: the failed batch left no trace');

  // 3. Resubmitting the same entries now succeeds, at the next indexes.
  answers = await Promise.all(doomed.map((e) => post(log.url, e)));
  t.same(answers.map((a) => a.status), [201, 201, 201, 201, 201], 'step 3: the retried entries are accepted');
  t.same(answers.map((a) => a.json.index).sort((a, b) => a - b), [257, 258, 259, 260, 261], 'step 3: at the next indexes');
  await check('after the retry');

  // 4. Restart (clean close) and keep going past the second full tile.
  await log.close();
  log = await startLog({ dir, batchInterval: 10, storage: { beforeCommit } });
  await check('after a restart');
  for (let i = 0; i < 3; i++) {
    await Promise.all(Array.from({ length: 100 }, () => post(log.url, makeEntry())));
    await check(`after burst ${i + 1}`);
  }

  // 5. Simulated crash mid-batch: the commit fails and the process "dies"
  //    without closing; a new instance on the same directory starts cleanly.
  failing = true;
  const lost = await post(log.url, makeEntry());
  t.equal(lost.status, 503, 'step 5: the crashed batch was not acknowledged');
  log.server.closeAllConnections();
  log.server.close();
  log.opened.abandon();
  log = await startLog({ dir, batchInterval: 10 });
  t.teardown(() => log.close());
  const r = await check('after a crash mid-batch');
  t.equal(r.size, 562, 'step 5: every acknowledged entry and nothing else');
  t.equal((await get(`${log.url}/v1/entries/561`)).status, 200, 'the last acknowledged entry is readable');
});
