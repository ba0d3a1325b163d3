/**
 * Group commit (issue 11 §1): with no minimum spacing, a batch starts as
 * soon as the previous one is durable and takes everything waiting. No
 * test here calls flush(): every answer must come from the sequencer's own
 * scheduling.
 */
import t from 'tap';
import { makeEntry, post, removeDir, startLog, type TestLog } from './harness.js';
import type { Batch } from '../../src/log/storage.js';

t.test('a lone submission is committed at once, in a batch of its own', async (t) => {
  const batches: number[] = [];
  const log = await startLog({ storage: { beforeCommit: (b: Batch) => void batches.push(b.entries.length) } });
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const r = await post(log.url, makeEntry());
  t.equal(r.status, 201, 'accepted');
  t.equal(r.json.index, 0, 'at index 0');
  t.same(batches.filter((n) => n > 0), [1], 'one batch of one entry was committed');
  t.equal(log.opened.sequencer.size, 1, 'the tree holds it');
});

t.test('entries that arrive during a commit form the next batch, with no timer', async (t) => {
  const batches: number[] = [];
  let log!: TestLog;
  const late: Array<ReturnType<typeof post>> = [];
  const beforeCommit = (b: Batch) => {
    batches.push(b.entries.length);
    // While the first batch with entries commits, three more arrive.
    if (b.entries.length > 0 && late.length === 0) for (let i = 0; i < 3; i++) late.push(post(log.url, makeEntry()));
  };
  log = await startLog({ storage: { beforeCommit } });
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const first = await post(log.url, makeEntry());
  t.equal(first.status, 201, 'the first entry is accepted');
  t.equal(first.json.index, 0, 'at index 0');
  const rest = await Promise.all(late);
  t.same(rest.map((r) => r.status), [201, 201, 201], 'the late entries are answered without any flush call');
  t.same(rest.map((r) => r.json.index).sort(), [1, 2, 3], 'at the next indexes');
  const withEntries = batches.filter((n) => n > 0);
  t.equal(withEntries[0], 1, 'the batch in flight took only what waited when it started');
  t.equal(withEntries.reduce((a, n) => a + n, 0), 4, 'every entry was committed exactly once');
  t.equal(log.opened.sequencer.size, 4, 'the tree holds all four');
});

t.test('a minimum spacing holds entries back until the next batch may start', async (t) => {
  const log = await startLog({ batchInterval: 60_000 });
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const pending = post(log.url, makeEntry());
  for (let tries = 0; log.opened.sequencer.poolDepth < 1; tries++) {
    if (tries > 500) throw new Error('the submission never reached the pool');
    await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(log.opened.sequencer.size, 0, 'start-up counts as a batch start: nothing is committed within the spacing');
  await log.opened.sequencer.close();
  const r = await pending;
  t.equal(r.status, 201, 'closing commits what waits without waiting out the spacing');
  t.equal(log.opened.sequencer.size, 1, 'the entry is in the tree');
});
