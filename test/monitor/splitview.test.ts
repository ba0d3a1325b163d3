/**
 * A split view built from honest parts: two `vitrine serve` processes with
 * the same key and origin, fed different entries. Monitor A follows the
 * first, monitor B the second, peers of each other: within a few gossip
 * rounds both hold §9 evidence (A learns it from B's 409 answer to its push,
 * since A's tree is the smaller one), `vitrine verify-evidence` accepts it,
 * and each raises exactly one split-view alert. A witnessing monitor C
 * cosigns the first instance's checkpoint and refuses the second one's,
 * keeping it.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFile as writeKey } from '../log/cluster-fixture.js';
import { makeEntry, post, removeDir, tempDir, get } from '../log/harness.js';
import { cli, jsonlAlerts } from './helpers.js';
import { freePort, portOf, startProc, waitFor, type Proc } from './procs.js';

const ORIGIN = 'split.example/log';

t.test('split view between two instances of one log, found by gossip', async (t) => {
  const dir = tempDir('vitrine-split-');
  const procs: Proc[] = [];
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    removeDir(dir);
  });
  const keyFile = join(dir, 'log.key');
  const { vkey } = writeKey(keyFile, ORIGIN);

  const logs: string[] = [];
  for (const [i, n] of [[1, 3], [2, 5]] as const) {
    const p = startProc(['serve', '--data', join(dir, `data${i}`), '--origin', ORIGIN, '--key', keyFile, '--listen', '127.0.0.1:0', '--batch-interval', '10']);
    procs.push(p);
    const url = `http://127.0.0.1:${portOf(await p.waitEvent('start'))}`;
    logs.push(url);
    for (let k = 0; k < n; k++) {
      const r = await post(url, makeEntry(undefined, `pkg:generic/split-${i}@${k}`));
      t.equal(r.status, 201, `instance ${i} accepts entry ${k}`);
    }
  }
  const [log1, log2] = logs as [string, string];

  const [pa, pb] = [await freePort(), await freePort()];
  const monA = `http://127.0.0.1:${pa}`;
  const monB = `http://127.0.0.1:${pb}`;
  const stateA = join(dir, 'monA');
  const stateB = join(dir, 'monB');
  const a = startProc(['monitor', '--state', stateA, '--init', '--log', log1, '--log-key', vkey, '--listen', `127.0.0.1:${pa}`, '--peer', monB, '--interval', '1', '--workers', '0']);
  const b = startProc(['monitor', '--state', stateB, '--init', '--log', log2, '--log-key', vkey, '--listen', `127.0.0.1:${pb}`, '--peer', monA, '--interval', '1', '--workers', '0']);
  procs.push(a, b);
  await a.waitEvent('listen');
  await b.waitEvent('listen');

  const evidenceOf = async (url: string) => {
    const r = await get(`${url}/v1/evidence`);
    if (r.status !== 200) return undefined;
    const docs = JSON.parse(r.text) as unknown[];
    return docs.length > 0 ? docs : undefined;
  };
  const evA = await waitFor('evidence at monitor A', () => evidenceOf(monA), 20_000, 50);
  const evB = await waitFor('evidence at monitor B', () => evidenceOf(monB), 20_000, 50);
  t.equal(evA.length, 1, 'monitor A holds one evidence document');
  t.equal(evB.length, 1, 'monitor B holds one evidence document');

  for (const [who, ev] of [['A', evA[0]], ['B', evB[0]]] as const) {
    const file = join(dir, `evidence-${who}.json`);
    writeFileSync(file, JSON.stringify(ev, null, 2));
    const r = await cli(['verify-evidence', '--log-key', vkey, file]);
    t.equal(r.status, 0, `verify-evidence accepts monitor ${who}'s evidence: ${r.stdout}${r.stderr}`);
    const doc = ev as { observed: Array<{ from: string; at: string }>; checkpoints: string[]; proof: string[] };
    t.ok(doc.observed.length >= 2 && doc.observed.every((o) => typeof o.from === 'string' && typeof o.at === 'string'), `monitor ${who}'s evidence says who saw what, when`);
    t.ok(doc.proof.length > 0, `monitor ${who}'s evidence carries the proof from the larger tree (sizes 3 and 5)`);
  }
  if (process.env['VITRINE_WRITE_EXAMPLE']) writeFileSync(process.env['VITRINE_WRITE_EXAMPLE'], JSON.stringify(evA[0], null, 2));

  // A few more gossip rounds: the same split view is never alerted twice. Each monitor logs a
  // `split-view` event with "new":false whenever it meets the split view it already alerted on:
  // wait until each did twice (a push or a pull), not for a fixed time a loaded machine may not fill.
  const seenAgain = (p: Proc) => async () => (p.stderr().split('\n').filter((l) => l.includes('"event":"split-view"') && l.includes('"new":false')).length >= 2 ? true : undefined);
  await waitFor('monitor A meeting the split view again twice', seenAgain(a), 30_000, 50);
  await waitFor('monitor B meeting the split view again twice', seenAgain(b), 30_000, 50);
  t.equal(await a.stop(), 0, 'monitor A stops cleanly on SIGTERM');
  t.equal(await b.stop(), 0, 'monitor B stops cleanly on SIGTERM');
  for (const [who, state] of [['A', stateA], ['B', stateB]] as const) {
    const sv = jsonlAlerts(state).filter((x) => x.kind === 'split-view');
    t.equal(sv.length, 1, `exactly one split-view alert in monitor ${who}'s alerts.jsonl`);
    t.equal(sv[0]?.class, 'security', `monitor ${who}'s split-view alert is a security alert`);
    t.ok(sv[0]?.evidence !== undefined, `monitor ${who}'s split-view alert carries the evidence`);
    t.notOk(jsonlAlerts(state).some((x) => x.kind === 'root-mismatch' || x.kind === 'inconsistent'), `monitor ${who} saw no other security problem`);
  }

  // Monitor C, a witness following instance 1: cosigns its checkpoint, refuses instance 2's and keeps it.
  const wkey = join(dir, 'c.key');
  const wvkey = writeKey(wkey, 'monitor-c.example').cosignerVkey;
  const stateC = join(dir, 'monC');
  const c = startProc(['monitor', '--state', stateC, '--init', '--log', log1, '--log-key', vkey, '--listen', '127.0.0.1:0', '--witness-key', wkey, '--interval', '1', '--workers', '0']);
  procs.push(c);
  const wk = await c.waitEvent('witness-key');
  t.equal(wk['vkey'], wvkey, 'monitor C logs its cosigner vkey (type 0x04)');
  const monC = `http://127.0.0.1:${portOf(await c.waitEvent('listen'))}`;
  const cp1 = (await get(`${log1}/checkpoint`)).text;
  const cp2 = (await get(`${log2}/checkpoint`)).text;
  const add = (body: string) => fetch(`${monC}/add-checkpoint`, { method: 'POST', body });
  const r1 = await add(`old 0\n\n${cp1}`);
  t.equal(r1.status, 200, `C cosigns instance 1's checkpoint: ${await r1.clone().text()}`);
  t.match(await r1.text(), /^— monitor-c\.example /, 'the answer is C\'s cosignature line');
  const r2 = await add(`old 3\n\n${cp2}`);
  t.ok(r2.status === 409 || r2.status === 422, `C refuses instance 2's diverged checkpoint (got ${r2.status})`);
  const served = (await get(`${monC}/${(await import('node:crypto')).createHash('sha256').update(ORIGIN).digest('hex')}/checkpoint`)).text;
  t.match(served, /— monitor-c\.example /, 'C\'s monitoring path serves the checkpoint it cosigned, with its cosignature');
  t.equal(await c.stop(), 0, 'monitor C stops cleanly');
  const db = new Database(join(stateC, 'witness.db'), { readonly: true });
  const kept = db.prepare('SELECT note, reason FROM witness_conflicts').all() as Array<{ note: string; reason: string }>;
  db.close();
  t.ok(kept.some((k) => k.note === cp2), `C kept instance 2's refused checkpoint as possible evidence (${kept.map((k) => k.reason).join('; ')})`);
});
