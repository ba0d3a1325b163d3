/**
 * The monitor against a real log (test/log/harness.ts: the log's own code
 * on port 0): an audit from the empty state, incremental audits as the log
 * grows, the signer policy (each kind of alert once, for the right entry,
 * never for an allowed one, releases re-read when they change), several
 * logs in one state, --from-checkpoint, and the monitor's HTTP API.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { createMonitorApp } from '../../src/http/monitor-app.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { formatVerifier, generateSigner, parseVerifier, verifierFromSigner, type Signer } from '../../src/note/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { makeEntry, post, removeDir, startLog, tempDir } from '../log/harness.js';
import { jsonlAlerts, ofKind, readState, runOnce, writeJson } from './helpers.js';

const alice = generateSigner('alice.example', nodeEd25519);
const mallory = generateSigner('mallory.example', nodeEd25519);
const revoked = generateSigner('old-ci.example', nodeEd25519);
const vkey = (s: Signer) => formatVerifier(verifierFromSigner(s));
/** The digest makeEntry uses. */
const digestOf = (name: string) => createHash('sha256').update(`artifact ${name}`).digest('hex');

async function submit(url: string, signer: Signer, name: string): Promise<number> {
  const r = await post(url, makeEntry(signer, name));
  if (r.status !== 201) throw new Error(`submit ${name}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.index as number;
}

t.test('audit from empty, then incrementally, with a policy', async (t) => {
  const log = await startLog();
  const dir = tempDir('vitrine-e2e-');
  t.teardown(async () => {
    await log.close();
    removeDir(dir);
    removeDir(log.dir);
  });
  const ref = { url: log.url, vkey: log.opened.verifierKey };
  const policyDir = tempDir('vitrine-policy-');
  t.teardown(() => removeDir(policyDir));
  const releases = join(policyDir, 'releases.txt');
  writeFileSync(releases, `# alice's releases\n\npkg:npm/my-lib@1.0.0 ${digestOf('pkg:npm/my-lib@1.0.0')}\npkg:npm/my-lib@1.1.0 ${digestOf('pkg:npm/my-lib@1.1.0')}\n`);
  const policy = writeJson(join(policyDir, 'policy.json'), {
    rules: [{ names: ['pkg:npm/my-lib@*'], signers: [vkey(alice)] }],
    keys: [{ signer: vkey(alice), releases: 'releases.txt' }],
    revoked: [vkey(revoked)],
  });

  const expected = new Map<string, number>(); // kind -> index
  await submit(log.url, alice, 'pkg:npm/my-lib@1.0.0'); // allowed
  expected.set('unexpected-signer', await submit(log.url, mallory, 'pkg:npm/my-lib@1.0.1'));
  await submit(log.url, mallory, 'pkg:npm/other@1.0.0'); // no rule covers it
  expected.set('unexpected-entry', await submit(log.url, alice, 'pkg:npm/my-lib@9.9.9'));
  expected.set('revoked-key', await submit(log.url, revoked, 'pkg:generic/tool@1'));
  await submit(log.url, alice, 'pkg:npm/my-lib@1.1.0'); // allowed

  const first = await runOnce(dir, [ref], { init: true, policy });
  t.equal(first.summary.audited, 6, 'all six entries audited');
  t.same(first.alerts.map((a) => [a.kind, a.index]).sort(), [...expected].sort(), 'exactly one alert per violation, for the right entry');
  for (const a of first.alerts) {
    t.equal(a.class, 'security', `${a.kind} is a security alert`);
    t.equal(a.origin, 'test.example/log', `${a.kind} names the origin`);
    t.match(a.checkpoint, /^test\.example\/log\n\d+\n/, `${a.kind} carries the covering checkpoint`);
    t.match(a.message, /^[A-Z].*\.$/, `${a.kind} has a one-sentence message`);
  }
  const us = ofKind(first.alerts, 'unexpected-signer')[0]!;
  t.equal(us.name, 'pkg:npm/my-lib@1.0.1', 'unexpected-signer names the entry');
  t.equal(us.digest, digestOf('pkg:npm/my-lib@1.0.1'), 'with its digest');
  t.equal(us.keyHash, createHash('sha256').update(mallory.publicKey).digest('hex'), 'and the signer key hash');
  t.ok(first.summary.security > 0, 'the round reports security alerts');

  // The log grows: only the new entries are audited, only new violations alerted.
  const later = await submit(log.url, revoked, 'pkg:generic/tool@2');
  await submit(log.url, alice, 'pkg:npm/my-lib@1.0.0-rc'); // not yet a listed release...
  const second = await runOnce(dir, [ref], { policy });
  t.equal(second.summary.audited, 2, 'the incremental audit covers only the 2 new entries');
  t.same(second.alerts.map((a) => [a.kind, a.index]), [['revoked-key', later], ['unexpected-entry', later + 1]], 'alerts only for the new entries');

  // Releases re-read when they change: a newly listed release raises nothing.
  writeFileSync(releases, `pkg:npm/my-lib@1.0.0 ${digestOf('pkg:npm/my-lib@1.0.0')}\npkg:npm/my-lib@2.0.0 ${digestOf('pkg:npm/my-lib@2.0.0')}\n`);
  await submit(log.url, alice, 'pkg:npm/my-lib@2.0.0');
  const unlisted = await submit(log.url, alice, 'pkg:npm/my-lib@1.1.0-again');
  const third = await runOnce(dir, [ref], { policy });
  t.same(third.alerts.map((a) => [a.kind, a.index]), [['unexpected-entry', unlisted]], 'the updated releases file is in force');

  const state = readState(dir);
  const s = state.logs[0]!;
  t.equal(s.verified.size, 10, 'verified up to the log');
  t.equal(s.audited, 10, 'each entry audited exactly once');
  t.equal(s.verified.note, log.opened.service.checkpoint(), 'the verified checkpoint is the log\'s');
  const keys = jsonlAlerts(dir).map((a) => `${a.kind}/${a.index}`);
  t.equal(keys.length, 6, 'alerts.jsonl holds the six alerts');
  t.equal(new Set(keys).size, keys.length, 'each once');
  t.equal(state.alerts.length, 6, 'as does the state');
});

t.test('a bad policy stops the monitor', async (t) => {
  const log = await startLog();
  const dir = tempDir('vitrine-e2e-');
  t.teardown(async () => {
    await log.close();
    removeDir(dir);
    removeDir(log.dir);
  });
  const ref = { url: log.url, vkey: log.opened.verifierKey };
  const policy = writeJson(join(dir, 'policy.json'), { revoked: ['not+a+vkey'] });
  await t.rejects(runOnce(join(dir, 'st'), [ref], { init: true, policy }), /malformed vkey/, 'a malformed vkey is an error, not ignored');
  writeFileSync(policy, '{"rules": [');
  await t.rejects(runOnce(join(dir, 'st'), [ref], { policy }), /not valid JSON/, 'unparsable JSON is an error');
  writeJson(policy, { keys: [{ signer: vkey(alice), releases: 'missing.txt' }] });
  await t.rejects(runOnce(join(dir, 'st'), [ref], { policy }), /cannot read/, 'a missing releases file is an error');
  writeJson(policy, { rules: [], extra: 1 });
  await t.rejects(runOnce(join(dir, 'st'), [ref], { policy }), /unknown field/, 'an unknown field is an error');
});

t.test('several logs in one state; --from-checkpoint skips, and says so', async (t) => {
  const a = await startLog({ origin: 'a.example/log' });
  const b = await startLog({ origin: 'b.example/log' });
  const dir = tempDir('vitrine-e2e-');
  t.teardown(async () => {
    await a.close();
    await b.close();
    removeDir(dir);
    removeDir(a.dir);
    removeDir(b.dir);
  });
  const policy = writeJson(join(dir, 'policy.json'), { revoked: [vkey(revoked)] });
  const skipped = await submit(a.url, revoked, 'pkg:generic/early@1');
  for (let i = 0; i < 3; i++) await submit(a.url, alice, `pkg:generic/a@${i}`);
  const from = a.opened.service.checkpoint();
  const after = await submit(a.url, revoked, 'pkg:generic/late@1');
  const inB = await submit(b.url, revoked, 'pkg:generic/b@1');

  const events: Array<{ event: string; fields: Record<string, unknown> | undefined }> = [];
  const r = await runOnce(join(dir, 'st'), [{ url: a.url, vkey: a.opened.verifierKey }, { url: b.url, vkey: b.opened.verifierKey }], {
    init: true,
    policy,
    from: [from],
    log: (event, fields) => events.push({ event, fields }),
  });
  t.same(r.alerts.map((x) => [x.origin, x.index]).sort(), [['a.example/log', after], ['b.example/log', inB]].sort(), 'alerts from both logs; none for the skipped entry');
  t.notOk(r.alerts.some((x) => x.origin === 'a.example/log' && x.index === skipped), 'the entry before the checkpoint was not audited');
  const st = readState(join(dir, 'st'));
  const sa = st.logs.find((l) => l.origin === 'a.example/log')!;
  t.equal(sa.startSize, 4, 'the state records where the audit started');
  t.equal(sa.audited, 1, 'only the entry after the checkpoint was audited');
  const notAudited = events.find((e) => e.event === 'NOT-AUDITED');
  t.ok(notAudited, 'the log output says loudly what was not audited');
  t.match(String(notAudited?.fields?.['message']), /entries 0\.\.3 of a\.example\/log were NOT audited/, 'naming the range');
});

t.test('HTTP API: healthz, metrics, the verified checkpoint by origin hash', async (t) => {
  const log = await startLog();
  const dir = tempDir('vitrine-e2e-');
  await submit(log.url, alice, 'pkg:generic/x@1');
  await runOnce(dir, [{ url: log.url, vkey: log.opened.verifierKey }], { init: true });
  const monitor = Monitor.open({ dir, logs: [{ url: log.url, logKey: parseVerifier(log.opened.verifierKey) }], workers: 0, once: true, stdout: () => {} });
  await monitor.runOnce();
  const server = createServer(createMonitorApp({ checkpoint: (h) => monitor.state.checkpointFor(h), registry: monitor.metrics.registry, log: silentLogger }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await monitor.close();
    await log.close();
    removeDir(dir);
    removeDir(log.dir);
  });
  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 200, '/healthz answers 200');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /vitrine_monitor_verified_tree_size\{origin="test\.example\/log"\} 1/, 'metrics carry the verified size');
  t.match(metrics, /vitrine_monitor_lag_entries\{origin="test\.example\/log"\} 0/, 'and the lag');
  const hash = createHash('sha256').update('test.example/log').digest('hex');
  const cp = await fetch(`${base}/${hash}/checkpoint`);
  t.equal(cp.status, 200, 'the checkpoint of a followed log is served');
  t.equal(await cp.text(), log.opened.service.checkpoint(), 'it is the latest verified one, signed by the log');
  t.equal(cp.headers.get('content-type'), 'text/plain; charset=utf-8', 'as text');
  const unknown = await fetch(`${base}/${'0'.repeat(64)}/checkpoint`);
  t.equal(unknown.status, 404, 'an unknown origin is 404');
  t.equal(((await unknown.json()) as { error: string }).error, 'not-found', 'with a JSON error');
});
