/**
 * A rolled-back log is misbehaviour from the first look (docs/monitoring.md,
 * "Rollback"): a signed checkpoint smaller than the one the monitor adopted,
 * or tiles of the verified tree no longer served, raise a `rollback`
 * security alert; the two signed checkpoints are its evidence, accepted by
 * `vitrine verify-evidence` and by an independent Go checker
 * (test/go/evidence-check, golang.org/x/mod/sumdb/note); a log that is
 * merely down stays operational. The built `vitrine verify-evidence`
 * accepts the evidence as a process; its refusals run in this process
 * (test/_cli.ts vitrineIn, the same program without a process start each).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { verifyEvidence, verifyRollbackEvidence, type Evidence, type RollbackEvidence } from '../../src/proof/index.js';
import { removeDir, tempDir } from '../log/harness.js';
import { buildTree, entry, FakeLog, signerA } from './fake-log.js';
import { vitrineIn } from '../_cli.js';
import { cli, ofKind, readState, runOnce } from './helpers.js';

const entries = Array.from({ length: 600 }, (_, i) => entry(signerA, `pkg:generic/r@${i}`));

async function setup(t: { teardown(fn: () => unknown): void }, n = 600): Promise<{ log: FakeLog; dir: string }> {
  const log = await new FakeLog('rollback.example/log', entries.slice(0, n)).start();
  const dir = tempDir('vitrine-rollback-');
  t.teardown(async () => {
    await log.close().catch(() => {});
    removeDir(dir);
  });
  return { log, dir };
}

/** The Go checker, built once from test/go/evidence-check with Debian's golang-go and golang-golang-x-mod-dev. */
let goChecker: string | undefined;
function checker(): string {
  if (goChecker !== undefined) return goChecker;
  const out = join(tempDir('vitrine-go-'), 'evidence-check');
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmpdir(), 'vitrine-go-cache'), GOFLAGS: '' };
  mkdirSync(env.GOCACHE, { recursive: true });
  const r = spawnSync('go', ['build', '-o', out, '.'], { cwd: join(process.cwd(), 'test/go/evidence-check'), env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`go build failed (${r.status}): ${r.stderr}${r.error?.message ?? ''}`);
  goChecker = out;
  return out;
}

function goCheck(vkey: string, doc: unknown): { status: number | null; stdout: string; stderr: string } {
  const file = join(tempDir('vitrine-ev-'), 'evidence.json');
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  const r = spawnSync(checker(), [vkey, file], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('a log restored to an earlier backup: rollback from the first look, with transferable evidence', async (t) => {
  const { log, dir } = await setup(t);
  const first = await runOnce(dir, [log], { init: true });
  t.same(first.alerts, [], 'the honest log audits clean');
  const verified = log.checkpoint;

  // The operator restores a backup of size 400: its tree, its checkpoint, and no tile beyond it.
  log.publish(undefined, buildTree(entries.slice(0, 400)));
  const r = await runOnce(dir, [log]);
  t.same(r.alerts.map((a) => [a.kind, a.class]), [['rollback', 'security']], 'one rollback alert, security class, and nothing operational');
  t.ok(r.summary.security > 0, 'the round is a security failure');
  t.equal(r.summary.unacknowledged, 1, 'which stands until acknowledged');
  const a = r.alerts[0]!;
  t.equal(a.checkpoint, log.checkpoint, 'the alert carries the smaller checkpoint the log serves now');
  t.match(a.message, /size 400, smaller than its checkpoint of size 600/, 'and says so with both sizes');
  const ev = a.evidence as RollbackEvidence;
  t.equal(ev.type, 'vitrine-rollback/v1', 'the evidence is a rollback document');
  t.same(ev.checkpoints, [verified, log.checkpoint], 'holding the two signed checkpoints, the larger first');
  t.same(ev.observed.map((o) => o.from), [log.url], 'and where the smaller one was served');
  const ok = verifyRollbackEvidence(ev, log.vkey, nodeEd25519);
  t.same(ok.ok ? [ok.kind, ok.sizes] : ok, ['rollback', [600n, 400n]], 'the document checks out with the log key alone');
  t.notOk(verifyEvidence(JSON.stringify(ev), log.vkey, nodeEd25519).ok, 'and is no split-view document');
  t.equal(readState(dir).conflicts.length, 0, 'it is not filed as a split view (/v1/evidence, gossip)');
  t.equal(readState(dir).logs[0]!.verified.size, 600, 'the verified checkpoint stays at 600');

  const again = await runOnce(dir, [log]);
  t.same(again.alerts, [], 'the alert is not repeated');
  t.ok(again.summary.security > 0, 'but every round that meets the rollback fails');

  // Transferable: the CLI and the Go checker accept it from a file.
  const file = join(dir, 'rollback.json');
  writeFileSync(file, JSON.stringify(ev));
  const vkeyFile = join(dir, 'log.vkey');
  writeFileSync(vkeyFile, `${log.vkey}\n`);
  const cliOk = await cli(['verify-evidence', '--log-key', vkeyFile, file, '--json']);
  t.equal(cliOk.status, 0, `vitrine verify-evidence accepts it (${cliOk.stderr.trim()})`);
  t.same(JSON.parse(cliOk.stdout), { ok: true, kind: 'rollback', origin: log.origin, sizes: ['600', '400'], observed: ev.observed }, 'as a rollback from 600 to 400');
  const go = goCheck(log.vkey, ev);
  t.equal(go.status, 0, `the Go checker accepts it (${go.stderr.trim()})`);
  t.match(go.stdout, /^rollback: rollback\.example\/log signed a tree of size 600 and one of size 400/, 'as a rollback');

  // Negative cases for both checkers: order swapped, the larger one re-signed by another key, an unknown field.
  const other = new FakeLog('rollback.example/log', entries.slice(0, 600));
  const bad: Array<[string, unknown, RegExp]> = [
    ['the smaller checkpoint first', { ...ev, checkpoints: [ev.checkpoints[1], ev.checkpoints[0]] }, /must be larger|not larger/],
    ['a checkpoint signed by another key', { ...ev, checkpoints: [other.checkpoint, ev.checkpoints[1]] }, /not validly signed/],
    ['an unknown field', { ...ev, proof: [] }, /unknown field|no proof field/],
    ['the same checkpoint twice', { ...ev, checkpoints: [ev.checkpoints[1], ev.checkpoints[1]] }, /must be larger|not larger/],
  ];
  for (const [what, doc, why] of bad) {
    writeFileSync(file, JSON.stringify(doc));
    const c = await vitrineIn(dir, ['verify-evidence', '--log-key', vkeyFile, file]);
    t.equal(c.code, 1, `verify-evidence refuses ${what}`);
    t.match(c.stderr, why, 'saying why');
    const g = goCheck(log.vkey, doc);
    t.equal(g.status, 1, `the Go checker refuses ${what} (${g.stderr.trim()})`);
  }
});

t.test('the Go checker agrees on split-view documents too', async (t) => {
  const { log, dir } = await setup(t, 300);
  await runOnce(dir, [log], { init: true });
  const fork = [...log.tree.entries];
  fork[3] = entry(signerA, 'pkg:generic/fork@3');
  log.publish(350, buildTree([...fork, ...entries.slice(300, 350)]));
  const r = await runOnce(dir, [log]);
  const inc = ofKind(r.alerts, 'inconsistent');
  t.equal(inc.length, 1, 'a forked larger tree is inconsistent');
  const go = goCheck(log.vkey, inc[0]!.evidence);
  t.equal(go.status, 0, `the Go checker accepts its §9 evidence (${go.stderr.trim()})`);
  t.match(go.stdout, /does not extend its tree of size 300/, 'as a tree that does not extend the other');
  const honest = { ...inc[0]!.evidence!, checkpoints: [log.sign(300, log.tree), log.checkpoint] };
  const refused = goCheck(log.vkey, honest);
  t.equal(refused.status, 1, 'and refuses the same proof against the consistent prefix');
});

t.test('an older checkpoint while the tiles are still served: rollback; forked as well: inconsistent too', async (t) => {
  const { log, dir } = await setup(t, 300);
  await runOnce(dir, [log], { init: true });
  log.checkpoint = log.sign(200);
  const stale = await runOnce(dir, [log]);
  t.same(stale.alerts.map((a) => a.kind), ['rollback'], 'a smaller consistent checkpoint is a rollback, and no fork');
  const fork = [...log.tree.entries];
  fork[3] = entry(signerA, 'pkg:generic/fork@3');
  log.checkpoint = log.sign(200, buildTree(fork));
  const r = await runOnce(dir, [log]);
  t.same(r.alerts.map((a) => a.kind).sort(), ['inconsistent', 'rollback'], 'a smaller forked checkpoint is a rollback and inconsistent');
  const inc = ofKind(r.alerts, 'inconsistent')[0]!;
  t.ok(verifyEvidence(inc.evidence as Evidence, log.vkey, nodeEd25519).ok, 'with split-view evidence that proves it by signatures alone');
  t.equal(readState(dir).logs[0]!.verified.size, 300, 'the verified checkpoint stays');
});

t.test('tiles of the verified tree no longer served: rollback; tiles beyond it missing, or the log down: operational', async (t) => {
  const { log, dir } = await setup(t);
  await runOnce(dir, [log], { init: true });

  // The checkpoint is still 600, but the tiles behind it are gone (a partial restore, a wiped bucket).
  log.tamper = (path, body) => (path.startsWith('tile/') ? undefined : body);
  const r = await runOnce(dir, [log]);
  t.same(r.alerts.map((a) => [a.kind, a.class]), [['rollback', 'security']], 'a rollback alert, not log-unreachable');
  t.match(r.alerts[0]!.message, /no longer serves tile\/\S+, part of its tree of size 600/, 'naming the missing tile');
  t.equal(r.alerts[0]!.checkpoint, log.checkpoint, 'with the checkpoint of the tree that held it');
  log.tamper = undefined;

  // A fresh state on a log that grew but has not published its new tiles yet: operational.
  const dir2 = tempDir('vitrine-rollback-');
  t.teardown(() => removeDir(dir2));
  await runOnce(dir2, [log], { init: true });
  log.append(...entries.slice(0, 300).map((_, i) => entry(signerA, `pkg:generic/new@${i}`)));
  log.tamper = (path, body) => (/^tile\/(entries\/|0\/)?(002|003)/.test(path) || path.includes('.p/132') ? undefined : body);
  const slow = await runOnce(dir2, [log]);
  t.same(slow.alerts.map((a) => [a.kind, a.class]), [['log-unreachable', 'operational']], 'tiles beyond the verified tree missing are log-unreachable');
  t.equal(slow.summary.security, 0, 'not a security failure');
  log.tamper = undefined;

  // Merely down.
  const url = log.url;
  await log.close();
  const down = await runOnce(dir2, [{ url, vkey: log.vkey }]);
  t.equal(down.summary.security, 0, 'a log that is down is no security failure');
  t.equal(down.summary.operational, 1, 'but an operational one');
});
