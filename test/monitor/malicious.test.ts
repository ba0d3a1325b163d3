/**
 * The monitor against a lying log (test/monitor/fake-log.ts): honest tiles
 * computed from entries with merkle/, then tampered with. Each lie must
 * raise the right security alert (root-mismatch, inconsistent, bad-entry),
 * never be retried away silently, and never move the verified checkpoint
 * past what was proved; operational trouble must stay operational.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyEvidence, type Evidence } from '../../src/proof/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { removeDir, tempDir } from '../log/harness.js';
import { badSignatureEntry, buildTree, entry, FakeLog, signerA } from './fake-log.js';
import { ofKind, readState, runOnce } from './helpers.js';

const honestEntries = Array.from({ length: 300 }, (_, i) => entry(signerA, `pkg:generic/a@${i}`));

async function setup(t: { teardown(fn: () => unknown): void }, entries = honestEntries): Promise<{ log: FakeLog; dir: string }> {
  const log = await new FakeLog('fake.example/log', entries).start();
  const dir = tempDir('vitrine-mal-');
  t.teardown(async () => {
    await log.close().catch(() => {});
    removeDir(dir);
  });
  return { log, dir };
}

t.test('an honest fake log audits clean', async (t) => {
  const { log, dir } = await setup(t);
  const r = await runOnce(dir, [log], { init: true });
  t.same(r.alerts, [], 'no alerts');
  t.equal(r.summary.security, 0, 'no security failure');
  t.equal(r.summary.audited, 300, 'every entry audited');
  const s = readState(dir).logs[0]!;
  t.equal(s.verified.size, 300, 'verified up to the checkpoint');
  t.equal(s.verified.note, log.checkpoint, 'the verified note is the one the log signed');
  t.notOk(log.requests.some((p) => p.startsWith('v1/')), 'never asks the proof endpoints');

  // The log grows: the partial bundle fills up (44 -> 256) and a new one starts.
  log.append(...Array.from({ length: 300 }, (_, i) => entry(signerA, `pkg:generic/c@${i}`)));
  const grown = await runOnce(dir, [log], { chunkBundles: 1 });
  t.equal(grown.summary.security + grown.summary.operational, 0, 'growing the log is clean');
  t.equal(grown.summary.audited, 300, 'only the 300 new entries are audited');
  const g = readState(dir).logs[0]!;
  t.equal(g.verified.size, 600, 'verified up to 600');
  t.equal(g.audited, 600, 'each entry once');
});

t.test('(a) a rewritten entry in a full bundle: root-mismatch at its index, nothing past it counts', async (t) => {
  const { log, dir } = await setup(t);
  const forged = entry(signerA, 'pkg:generic/evil@1');
  log.tamper = (path, body) => {
    if (path !== 'tile/entries/000' || body === undefined) return body;
    const entries = log.tree.entries.slice(0, 256);
    entries[100] = forged;
    return buildBundle(entries);
  };
  const r = await runOnce(dir, [log], { init: true });
  const mm = ofKind(r.alerts, 'root-mismatch');
  t.equal(mm.length, 1, 'one root-mismatch alert');
  t.equal(mm[0]!.index, 100, 'it names the rewritten entry');
  t.equal(mm[0]!.class, 'security', 'security class');
  t.equal(mm[0]!.checkpoint, log.checkpoint, 'it carries the signed checkpoint it was checked against');
  t.ok(r.summary.security > 0, 'the round reports a security failure');
  const s = readState(dir).logs[0]!;
  t.equal(s.position, 0, 'the forged bundle was not committed');
  t.equal(s.verified.size, 0, 'the verified checkpoint did not move');
  t.equal(s.audited, 0, 'no entry counted as audited');

  // Never a silent retry: the next round meets the lie again, reports it, but does not repeat the alert.
  const again = await runOnce(dir, [log]);
  t.same(again.alerts, [], 'the alert is not sent twice');
  t.ok(again.summary.security > 0, 'but the round still fails on it');
  t.equal(readState(dir).alerts.length, 1, 'one alert in the state');

  log.tamper = undefined;
  const fixed = await runOnce(dir, [log]);
  t.equal(fixed.summary.security, 0, 'once the log serves the real entry, the audit passes');
  t.equal(readState(dir).logs[0]!.verified.size, 300, 'and the checkpoint is verified');
});

t.test('(a) a rewritten entry in the partial bundle: root-mismatch, the full bundle before it is kept', async (t) => {
  const { log, dir } = await setup(t);
  log.tamper = (path, body) => {
    if (path !== 'tile/entries/001.p/44' || body === undefined) return body;
    const entries = log.tree.entries.slice(256, 300);
    entries[24] = entry(signerA, 'pkg:generic/evil@2');
    return buildBundle(entries);
  };
  const r = await runOnce(dir, [log], { init: true, chunkBundles: 1 });
  t.same(ofKind(r.alerts, 'root-mismatch').map((a) => a.index), [280], 'root-mismatch names entry 280');
  const s = readState(dir).logs[0]!;
  t.equal(s.position, 256, 'the authenticated first bundle was committed');
  t.equal(s.audited, 256, 'and counted once');
  t.equal(s.verified.size, 0, 'the checkpoint is not verified');
});

t.test('(a) a bundle and its level-0 tile forged to agree: the tile fails against level 1', async (t) => {
  const { log, dir } = await setup(t);
  const entries = log.tree.entries.slice(0, 256);
  entries[7] = entry(signerA, 'pkg:generic/evil@3');
  const forged = buildTree(entries);
  log.tamper = (path, body) => {
    if (path === 'tile/entries/000') return buildBundle(entries);
    if (path === 'tile/0/000') {
      const out = new Uint8Array(256 * 32);
      for (let i = 0; i < 256; i++) out.set(forged.nodes.get(`0/${i}`)!, i * 32);
      return out;
    }
    return body;
  };
  const r = await runOnce(dir, [log], { init: true });
  const mm = ofKind(r.alerts, 'root-mismatch');
  t.equal(mm.length, 1, 'one root-mismatch');
  t.match(mm[0]!.message, /neither matches/, 'the message says both are forged');
  t.equal(readState(dir).logs[0]!.position, 0, 'nothing committed');
});

t.test('(b) a checkpoint inconsistent with an earlier one: inconsistent, with evidence that verifies', async (t) => {
  const { log, dir } = await setup(t);
  await runOnce(dir, [log], { init: true });
  const first = log.checkpoint;
  // A fork: entry 5 replaced, then 50 more; signed with the same key.
  const forkEntries = [...log.tree.entries];
  forkEntries[5] = entry(signerA, 'pkg:generic/fork@5');
  for (let i = 0; i < 50; i++) forkEntries.push(entry(signerA, `pkg:generic/fork-more@${i}`));
  log.publish(350, buildTree(forkEntries));
  const r = await runOnce(dir, [log]);
  const inc = ofKind(r.alerts, 'inconsistent');
  t.equal(inc.length, 1, 'one inconsistent alert');
  t.equal(inc[0]!.class, 'security', 'security class');
  t.equal(inc[0]!.checkpoint, log.checkpoint, 'it carries the conflicting checkpoint');
  const ev = inc[0]!.evidence as Evidence;
  t.same(ev.checkpoints, [first, log.checkpoint], 'the evidence holds both signed checkpoints');
  const check = verifyEvidence(ev, log.vkey, nodeEd25519);
  t.ok(check.ok, `the evidence proves the split with the log key alone (${check.ok ? '' : check.message})`);
  t.equal(ofKind(r.alerts, 'root-mismatch').length, 0, 'the fork\'s tiles are genuine: not a root-mismatch');
  const st = readState(dir);
  t.equal(st.logs[0]!.verified.size, 300, 'the verified checkpoint stays');
  t.equal(st.logs[0]!.target.size, 300, 'the conflicting checkpoint is not adopted');
  t.equal(st.conflicts.length, 1, 'the conflict is recorded');
  t.equal(st.conflicts[0]!.note, log.checkpoint, 'with the conflicting note');

  const again = await runOnce(dir, [log]);
  t.same(again.alerts, [], 'not alerted twice');
  t.ok(again.summary.security > 0, 'but each round still fails');
});

t.test('(b) two checkpoints of the same size with different roots: inconsistent', async (t) => {
  const { log, dir } = await setup(t);
  await runOnce(dir, [log], { init: true });
  const forkEntries = [...log.tree.entries];
  forkEntries[299] = entry(signerA, 'pkg:generic/fork@299');
  log.publish(300, buildTree(forkEntries));
  const r = await runOnce(dir, [log]);
  const inc = ofKind(r.alerts, 'inconsistent');
  t.equal(inc.length, 1, 'inconsistent');
  t.same((inc[0]!.evidence as Evidence).proof, [], 'same-size evidence has an empty proof');
  t.ok(verifyEvidence(inc[0]!.evidence as Evidence, log.vkey, nodeEd25519).ok, 'and verifies');
});

// An older checkpoint (consistent or forked) is a rollback: test/monitor/rollback.test.ts.

t.test('(c) invalid entries correctly included in the tree: bad-entry, the audit goes on', async (t) => {
  const entries = [...honestEntries];
  entries[10] = badSignatureEntry(signerA, 'pkg:generic/badsig@10');
  entries[20] = new Uint8Array([0xa1, 0x01, 0x02]); // CBOR, but not an entry
  entries[290] = badSignatureEntry(signerA, 'pkg:generic/badsig@290');
  const { log, dir } = await setup(t, entries);
  const r = await runOnce(dir, [log], { init: true });
  const bad = ofKind(r.alerts, 'bad-entry');
  t.same(bad.map((a) => a.index), [10, 20, 290], 'one bad-entry alert per invalid entry, at its index');
  t.equal(bad[0]!.name, 'pkg:generic/badsig@10', 'a decodable entry is named');
  t.ok(bad[0]!.keyHash && /^[0-9a-f]{64}$/.test(bad[0]!.keyHash), 'with its key hash');
  t.equal(bad[1]!.name, undefined, 'an undecodable one is not');
  t.match(bad[1]!.message, /not a valid v1 entry/, 'and the message says why');
  t.equal(r.alerts.length, 3, 'nothing else');
  const s = readState(dir).logs[0]!;
  t.equal(s.verified.size, 300, 'the tree is still verified: the log included them correctly');
  t.equal(s.audited, 300, 'every entry audited once');
});

t.test('(d) a hash tile that does not match the signed root: root-mismatch, never a silent retry', async (t) => {
  const { log, dir } = await setup(t);
  let served = 0;
  log.tamper = (path, body) => {
    if (path !== 'tile/1/000.p/1' || body === undefined) return body;
    // Wrong only the first time, as a flaky cache would be.
    if (served++ > 0) return body;
    const bad = body.slice();
    bad[0]! ^= 0xff;
    return bad;
  };
  const r = await runOnce(dir, [log], { init: true });
  const mm = ofKind(r.alerts, 'root-mismatch');
  t.equal(mm.length, 1, 'a root-mismatch alert, though the next fetch would have been right');
  t.ok(r.summary.security > 0, 'the round fails as a security failure');
  t.equal(r.summary.operational, 0, 'not an operational one');
  t.equal(served, 1, 'the tile was fetched once: no retry');
  t.equal(readState(dir).logs[0]!.position, 0, 'nothing audited against the bad tile');
  const next = await runOnce(dir, [log]);
  t.equal(next.summary.security, 0, 'the next poll, with a good tile, passes');
  t.equal(readState(dir).logs[0]!.verified.size, 300, 'and verifies');
});

t.test('(d) a tile used for the consistency proof is wrong: root-mismatch, not inconsistent', async (t) => {
  const { log, dir } = await setup(t);
  await runOnce(dir, [log], { init: true });
  log.append(...Array.from({ length: 100 }, (_, i) => entry(signerA, `pkg:generic/b@${i}`)));
  log.tamper = (path, body) => {
    if (path !== 'tile/0/001.p/144' || body === undefined) return body;
    const bad = body.slice();
    bad[40]! ^= 1;
    return bad;
  };
  const r = await runOnce(dir, [log]);
  t.equal(ofKind(r.alerts, 'root-mismatch').length, 1, 'root-mismatch');
  t.equal(ofKind(r.alerts, 'inconsistent').length, 0, 'not inconsistent: the log signed nothing contradictory');
  t.equal(readState(dir).logs[0]!.verified.size, 300, 'verified stays at 300');
});

t.test('a wrong-length tile is a security failure; an unreachable or mis-signed log is operational', async (t) => {
  const { log, dir } = await setup(t);
  log.tamper = (path, body) => (path === 'tile/0/001.p/44' && body ? body.subarray(0, 40 * 32) : body);
  const r = await runOnce(dir, [log], { init: true });
  t.equal(ofKind(r.alerts, 'root-mismatch').length, 1, 'a tile of the wrong size is root-mismatch');
  log.tamper = undefined;

  const other = new FakeLog('fake.example/log', honestEntries.slice(0, 10));
  log.checkpoint = other.checkpoint; // same origin, another key
  const wrongKey = await runOnce(dir, [log]);
  t.same(wrongKey.alerts.map((a) => [a.kind, a.class]), [['log-unreachable', 'operational']], 'a checkpoint not signed by the log key is operational');
  t.equal(wrongKey.summary.security, 0, 'and not a security failure');
  t.equal(wrongKey.summary.operational, 1, 'it is an operational failure');

  const url = log.url;
  await log.close();
  const down = await runOnce(dir, [{ url, vkey: log.vkey }]);
  t.equal(down.alerts.length, 0, 'still the same unreachable episode: no second alert');
  t.equal(down.summary.operational, 1, 'but the round reports it');
  t.equal(down.summary.security, 0, 'never as security');
});

function buildBundle(entries: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

t.test('a log that keeps answering 429 is rate-limited, an operational alert', async (t) => {
  const { log, dir } = await setup(t);
  await runOnce(dir, [log], { init: true });
  const busy = createServer((_req, res) => res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' }).end('{"error":"rate-limited","message":"slow down"}'));
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => busy.close(r)));
  const r = await runOnce(dir, [{ url: `http://127.0.0.1:${(busy.address() as AddressInfo).port}`, vkey: log.vkey }]);
  t.same(r.alerts.map((a) => [a.kind, a.class]), [['rate-limited', 'operational']], 'rate-limited, operational');
  t.equal(r.summary.operational, 1, 'an operational failure');
  t.equal(r.summary.security, 0, 'not a security one');
  const back = await runOnce(dir, [log]);
  t.equal(back.summary.operational + back.summary.security, 0, 'the next good poll closes the episode');
});
