/**
 * The operational `falling-behind` alert (docs/formats.md §12): raised once per
 * catch-up episode that lasts longer than --max-lag, cleared when the
 * monitor reaches the log, raised again only for a new episode, never with
 * --once, and never as a security alert.
 */
import t from 'tap';
import { removeDir, tempDir } from '../log/harness.js';
import { entry, FakeLog, signerA } from './fake-log.js';
import { ofKind, readState, runOnce } from './helpers.js';

// The first 600 entries fill three entry bundles; with one bundle per commit
// and an 800 ms pause after each, catching up lasts about 1.6 s by the last
// commit, over the 1 s max lag.
const entries = Array.from({ length: 3 * 256 + 10 }, (_, i) => entry(signerA, `pkg:generic/behind@${i}`));

t.test('falling-behind fires once per episode, only in continuous mode', async (t) => {
  const log = await new FakeLog('behind.example/log', entries.slice(0, 600)).start();
  const dir = tempDir('vitrine-behind-');
  t.teardown(async () => {
    await log.close();
    removeDir(dir);
  });
  const slow = { once: false, maxLagSeconds: 1, chunkBundles: 1, paceMs: 800 } as const;
  const first = await runOnce(dir, [log], { init: true, ...slow });
  const behind = ofKind(first.alerts, 'falling-behind');
  t.equal(behind.length, 1, 'a slow catch-up raises falling-behind once, not at every commit');
  t.equal(behind[0]!.class, 'operational', 'as an operational alert');
  t.equal(behind[0]!.origin, log.origin, 'for the right log');
  t.notOk(first.alerts.some((a) => a.class === 'security'), 'and nothing security-related');
  t.equal(readState(dir).logs[0]!.verified.size, 600, 'and the audit still reached the checkpoint');

  const quiet = await runOnce(dir, [log], { ...slow });
  t.equal(ofKind(quiet.alerts, 'falling-behind').length, 0, 'caught up: the episode is over and nothing fires');

  log.append(...entries.slice(600));
  const fast = await runOnce(dir, [log], { once: false, maxLagSeconds: 1 });
  t.equal(ofKind(fast.alerts, 'falling-behind').length, 0, 'a catch-up within the max lag raises nothing');

  const log2 = await new FakeLog('behind2.example/log', entries.slice(0, 600)).start();
  const dir2 = tempDir('vitrine-behind-');
  t.teardown(async () => {
    await log2.close();
    removeDir(dir2);
  });
  const once = await runOnce(dir2, [log2], { init: true, once: true, maxLagSeconds: 1, chunkBundles: 1, paceMs: 800 });
  t.equal(ofKind(once.alerts, 'falling-behind').length, 0, '--once never raises falling-behind, however slow');
});
