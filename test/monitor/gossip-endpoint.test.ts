/**
 * POST /v1/gossip error statuses (docs/formats.md §13) on a real monitor, and an
 * unreachable peer: 200 for the log's own checkpoint, 400 malformed, 403 no
 * valid signature by the log key, 404 unknown origin, 413 too large; a dead
 * peer raises an operational `peer-unreachable` alert and never a security
 * one, and the audit goes on.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { sha256 } from '../../merkle/index.js';
import { formatCheckpoint, generateSigner, parseSigner, signNote } from '../../src/note/index.js';
import { utf8 } from '../../src/encoding.js';
import { makeEntry, post, removeDir, startLog, tempDir } from '../log/harness.js';
import { jsonlAlerts } from './helpers.js';
import { freePort, portOf, startProc, waitFor } from './procs.js';

t.test('gossip endpoint statuses and an unreachable peer', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  for (let i = 0; i < 5; i++) await post(log.url, makeEntry());
  const state = join(tempDir(), 'mon');
  const deadPeer = `http://127.0.0.1:${await freePort()}`;
  const mon = startProc(['monitor', '--state', state, '--init', '--log', log.url, '--log-key', log.opened.verifierKey, '--listen', '127.0.0.1:0', '--peer', deadPeer, '--interval', '1', '--peer-timeout', '1']);
  t.teardown(() => mon.stop('SIGKILL'));
  const url = `http://127.0.0.1:${portOf(await mon.waitEvent('listen'))}`;
  const gossip = async (body: string | Uint8Array) => {
    const res = await fetch(`${url}/v1/gossip`, { method: 'POST', body });
    return { status: res.status, text: await res.text() };
  };
  const own = (await (await fetch(`${log.url}/checkpoint`)).text());
  await waitFor('the monitor to verify the log', async () => ((await gossip(own)).status === 200 ? true : undefined));
  t.equal((await gossip(own)).status, 200, "the log's own checkpoint is consistent: 200");
  t.equal((await gossip('not a note')).status, 400, 'garbage: 400');
  t.equal((await gossip(Uint8Array.of(0xff, 0xfe, 0x0a))).status, 400, 'not UTF-8: 400');
  const origin = log.opened.service.origin;
  const forged = signNote(formatCheckpoint({ origin, size: 5n, rootHash: sha256(utf8('forged')) }), [generateSigner(origin, nodeEd25519)], nodeEd25519);
  t.equal((await gossip(forged)).status, 403, 'the right origin signed by another key: 403');
  const stranger = generateSigner('stranger.example/log', nodeEd25519);
  t.equal((await gossip(signNote(formatCheckpoint({ origin: stranger.name, size: 1n, rootHash: sha256(utf8('x')) }), [stranger], nodeEd25519))).status, 404, 'an origin this monitor does not follow: 404');
  t.equal((await gossip('x'.repeat(70 * 1024))).status, 413, 'a body over the limit: 413');
  t.same(JSON.parse(await (await fetch(`${url}/v1/evidence`)).text()), [], 'none of that is evidence');

  const alerts = await waitFor('a peer-unreachable alert', async () => {
    const a = jsonlAlerts(state).filter((x) => x.kind === 'peer-unreachable');
    return a.length > 0 ? a : undefined;
  });
  t.equal(alerts[0]!.class, 'operational', 'an unreachable peer is an operational alert');
  t.notOk(jsonlAlerts(state).some((a) => a.class === 'security'), 'and never a security one');
  await post(log.url, makeEntry());
  const grown = await (await fetch(`${log.url}/checkpoint`)).text();
  await waitFor('the audit to go on past the dead peer', async () => ((await gossip(grown)).text.includes('consistent') ? true : undefined));
  t.pass('the audit goes on while the peer is down');
});

t.test('an undecided checkpoint and an open peer episode survive a kill -9', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  for (let i = 0; i < 3; i++) await post(log.url, makeEntry());
  const state = join(tempDir(), 'mon');
  t.teardown(() => removeDir(join(state, '..')));
  const deadPeer = `http://127.0.0.1:${await freePort()}`;
  const args = ['monitor', '--state', state, '--log', log.url, '--log-key', log.opened.verifierKey, '--listen', '127.0.0.1:0', '--peer', deadPeer, '--interval', '1', '--peer-timeout', '1'];
  const first = startProc([...args, '--init']);
  t.teardown(() => first.stop('SIGKILL'));
  const url1 = `http://127.0.0.1:${portOf(await first.waitEvent('listen'))}`;
  const own = await (await fetch(`${log.url}/checkpoint`)).text();
  await waitFor('the monitor to verify size 3', async () => ((await fetch(`${url1}/v1/gossip`, { method: 'POST', body: own })).status === 200 ? true : undefined));

  // A checkpoint of size 8 signed with the log's key, for a tree the log
  // never built: nothing this monitor holds can decide it yet.
  const logKey = parseSigner(readFileSync(join(log.dir, 'log.key'), 'utf8'), nodeEd25519);
  const fork = signNote(formatCheckpoint({ origin: logKey.name, size: 8n, rootHash: sha256(utf8('a tree the log never built')) }), [logKey], nodeEd25519);
  const res = await fetch(`${url1}/v1/gossip`, { method: 'POST', body: fork });
  t.equal(res.status, 200, 'a larger checkpoint is accepted for later');
  t.same(await res.json(), { status: 'undecided' }, 'and is undecided');
  await waitFor('a peer-unreachable alert', async () => (jsonlAlerts(state).some((a) => a.kind === 'peer-unreachable') ? true : undefined));
  await first.stop('SIGKILL');

  const second = startProc(args);
  t.teardown(() => second.stop('SIGKILL'));
  await second.waitEvent('listen');
  for (let i = 0; i < 5; i++) await post(log.url, makeEntry());
  const alerts = await waitFor('the split view once the audit reaches size 8', async () => {
    const a = jsonlAlerts(state).filter((x) => x.kind === 'split-view');
    return a.length > 0 ? a : undefined;
  }, 30_000);
  t.equal(alerts.length, 1, 'the checkpoint kept before the kill is decided after it: one split-view alert');
  t.ok(alerts[0]!.evidence?.checkpoints.includes(fork), 'its evidence holds the checkpoint met before the restart');
  await waitFor('two failed gossip rounds after the restart', async () => (second.stderr().split('"event":"peer-unreachable"').length > 2 ? true : undefined));
  t.equal(jsonlAlerts(state).filter((a) => a.kind === 'peer-unreachable').length, 1, 'the peer still down after the restart is the same episode: no second alert');
});
