/**
 * `vitrine monitor alerts` and `vitrine monitor ack` through the built CLI,
 * on a state whose alerts are committed directly, and against a running
 * monitor (its control socket); `monitor --once --json` (the --once gate
 * itself, red until acknowledged, is in test/monitor/cli.test.ts). The
 * first `alerts` and `ack` and every `monitor` run are the binary; the other
 * `alerts` and `ack` cases run in this process (test/_cli.ts vitrineIn).
 */
import t from 'tap';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeAlert } from '../../src/monitor/alert.js';
import { MonitorState } from '../../src/monitor/state.js';
import { removeDir, tempDir } from '../log/harness.js';
import { badSignatureEntry, entry, FakeLog, signerA } from './fake-log.js';
import { vitrineIn } from '../_cli.js';
import { cli } from './helpers.js';
import { startProc } from './procs.js';

/** `vitrine ARGS` in this process (every path absolute), with the fields of helpers.ts cli(). */
async function cliIn(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await vitrineIn(process.cwd(), args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

t.test('alerts lists, ack records who and when, unknown ids change nothing', async (t) => {
  const log = new FakeLog('gate.example/log');
  const dir = tempDir('vitrine-gate-');
  t.teardown(() => removeDir(dir));
  const s = MonitorState.create(dir, [{ origin: log.origin, vkey: log.vkey, url: 'http://127.0.0.1:1' }]);
  s.commit(log.origin, {}, [
    makeAlert('k1', { kind: 'revoked-key', origin: log.origin, index: 4, message: 'Entry 4 is signed by a revoked key.' }),
    makeAlert('k2', { kind: 'log-unreachable', origin: log.origin, message: 'The log cannot be reached.' }),
    makeAlert('k3', { kind: 'rollback', origin: log.origin, message: 'The log serves a smaller checkpoint.' }),
  ]);
  s.close();

  const text = await cli(['monitor', 'alerts', '--state', dir]);
  t.equal(text.status, 1, 'monitor alerts exits 1 while security alerts stand unacknowledged');
  const lines = text.stdout.split('\n');
  t.match(lines[0], /^1\t\S+Z\tsecurity\trevoked-key\tgate\.example\/log entry 4\tOPEN$/, 'one line per alert: id, time, class, kind, origin and entry, OPEN');
  t.equal(lines[1], '\tEntry 4 is signed by a revoked key.', 'its message on the next line');
  t.match(lines[2], /^2\t.*\toperational\tlog-unreachable\tgate\.example\/log\topen \(operational: does not hold the gate\)$/, 'operational alerts do not hold the gate');
  t.match(text.stderr, /3 alert\(s\) listed, 2 unacknowledged security alert\(s\)/, 'a summary on stderr');

  const open = await cliIn(['monitor', 'alerts', '--state', dir, '--open', '--json']);
  t.same((JSON.parse(open.stdout) as Array<{ id: number; acknowledged: null; alert: { kind: string } }>).map((a) => [a.id, a.acknowledged, a.alert.kind]), [[1, null, 'revoked-key'], [3, null, 'rollback']], '--open --json: the two open security alerts');

  const unknown = await cliIn(['monitor', 'ack', '--state', dir, '1', '7']);
  t.equal(unknown.status, 2, 'an unknown id is a usage error');
  t.match(unknown.stderr, /no alert with id 7/, 'naming it');
  const neither = await cliIn(['monitor', 'ack', '--state', dir]);
  t.equal(neither.status, 2, 'ack needs ids or --all');
  t.match(neither.stderr, /give the ids/, 'and says so');

  const before = Date.now();
  const one = await cli(['monitor', 'ack', '--state', dir, '1', '--by', 'alice', '--json']);
  t.equal(one.status, 1, 'ack exits 1 while another security alert is left');
  t.same(JSON.parse(one.stdout), { acknowledged: [1], by: 'alice', unacknowledgedSecurity: 1 }, 'alert 1 acknowledged by alice; the unknown-id call recorded nothing');
  const all = await cliIn(['monitor', 'ack', '--state', dir, '--all']);
  t.equal(all.status, 0, 'ack --all leaves nothing: exit 0');
  t.match(all.stdout, /^acknowledged 2 alert\(s\) \(2, 3\) as \S+@\S+; 0 unacknowledged security alert\(s\) left\n$/, 'the rest, as user@host by default');

  const st = MonitorState.open(dir);
  const acks = st.listAlerts().map((a) => a.ack);
  st.close();
  t.equal(acks[0]!.by, 'alice', 'the state records who');
  const at = Date.parse(acks[0]!.at);
  t.ok(at >= before - 2000 && at <= Date.now() + 2000, `and when (${acks[0]!.at})`);
  t.equal(acks[1]!.by, acks[2]!.by, 'one name for one --all');
});

t.test('monitor --once --json: one document with the run\'s alerts and the gate', async (t) => {
  const log = await new FakeLog('json.example/log', [entry(signerA, 'pkg:generic/good@1'), badSignatureEntry(signerA, 'pkg:generic/bad@2')]).start();
  t.teardown(() => log.close());
  log.publish();
  const dir = tempDir('vitrine-gate-json-');
  t.teardown(() => removeDir(dir));
  const args = ['monitor', '--state', dir, '--log', log.url, '--log-key', log.vkey, '--once', '--json'];

  const first = await cli([...args, '--init']);
  t.equal(first.status, 1, `a bad signature: exit 1 (${first.stderr.slice(-300)})`);
  const doc = JSON.parse(first.stdout) as { alerts: Array<{ kind: string; index?: number; origin: string }>; security: number; unacknowledged: number; audited: number; exitCode: number };
  t.equal(first.stdout.split('\n').length, 2, 'stdout is one JSON line, not one line per alert');
  t.same(doc.alerts.map((a) => [a.kind, a.origin, a.index]), [['bad-entry', 'json.example/log', 1]], 'the alert of entry 1 is in the document');
  t.match(doc, { audited: 2, unacknowledged: 1, exitCode: 1 }, 'with the entries audited, the open alert and the exit code');
  t.ok(doc.security >= 1, 'counted as security');

  const again = await cli(args);
  t.equal(again.status, 1, 'the next run is still red');
  t.match(JSON.parse(again.stdout), { alerts: [], audited: 0, unacknowledged: 1, exitCode: 1 }, 'no new alert, the old one still open');
  t.equal((await cliIn(['monitor', 'ack', '--state', dir, '--all', '--by', 'ci'])).status, 0, 'acknowledged');
  const green = await cli(args);
  t.equal(green.status, 0, 'then green');
  t.match(JSON.parse(green.stdout), { alerts: [], unacknowledged: 0, exitCode: 0 }, 'and the document says so');

  const notOnce = await cli(args.filter((a) => a !== '--once'));
  t.equal(notOnce.status, 2, '--json without --once is a usage error');
  t.match(notOnce.stderr, /--json applies to --once/, 'saying so');
});

t.test('alerts and ack reach a running monitor through its control socket', async (t) => {
  const log = await new FakeLog('running.example/log', [badSignatureEntry(signerA, 'pkg:generic/bad@1')]).start();
  t.teardown(() => log.close());
  log.publish();
  const dir = tempDir('vitrine-gate-run-');
  t.teardown(() => removeDir(dir));
  const follow = ['--state', dir, '--log', log.url, '--log-key', log.vkey];
  t.equal((await cli(['monitor', ...follow, '--init', '--once'])).status, 1, 'the first run raises the alert of entry 0');

  const proc = startProc(['monitor', ...follow, '--interval', '1']);
  t.teardown(() => proc.stop('SIGKILL'));
  const ready = await proc.waitEvent('control', 60_000);
  t.equal(ready['socket'], join(dir, 'control.sock'), 'the running monitor listens on STATE/control.sock');
  t.equal(statSync(join(dir, 'control.sock')).mode & 0o777, 0o600, 'which only its owner may use');

  const listed = await cliIn(['monitor', 'alerts', '--state', dir, '--json']);
  t.equal(listed.status, 1, `alerts answers while the monitor holds the state (${listed.stderr})`);
  t.same((JSON.parse(listed.stdout) as Array<{ id: number; acknowledged: unknown; alert: { kind: string; index: number } }>).map((a) => [a.id, a.acknowledged, a.alert.kind, a.alert.index]), [[1, null, 'bad-entry', 0]], 'the open alert, from the running monitor');

  const unknown = await cliIn(['monitor', 'ack', '--state', dir, '1', '9']);
  t.equal(unknown.status, 2, 'an unknown id is refused by the running monitor too');
  t.match(unknown.stderr, /no alert with id 9/, 'naming it');

  const acked = await cli(['monitor', 'ack', '--state', dir, '1', '--by', 'bob', '--json']);
  t.equal(acked.status, 0, `ack succeeds while the monitor runs (${acked.stderr})`);
  t.same(JSON.parse(acked.stdout), { acknowledged: [1], by: 'bob', unacknowledgedSecurity: 0 }, 'alert 1 acknowledged by bob, none left (and the 1 refused above was not recorded)');
  const event = await proc.waitEvent('acknowledged');
  t.same(event['ids'], [1], 'the monitor logs the acknowledgement');
  const after = await cliIn(['monitor', 'alerts', '--state', dir, '--json']);
  t.equal(after.status, 0, 'nothing open any more');
  t.equal((JSON.parse(after.stdout) as Array<{ acknowledged: { by: string } }>)[0]!.acknowledged.by, 'bob', 'the running monitor shows who acknowledged');

  t.equal(await proc.stop('SIGTERM'), 0, 'the monitor stops cleanly');
  t.notOk(existsSync(join(dir, 'control.sock')), 'and removes its socket');
  const st = MonitorState.open(dir);
  const ack = st.listAlerts()[0]!.ack;
  st.close();
  t.equal(ack?.by, 'bob', 'the acknowledgement is in the state on disk');
  t.equal((await cli(['monitor', ...follow, '--once'])).status, 0, 'and the --once gate is green');

  // A socket left by a monitor that died (kill -9) is not mistaken for a running one.
  const killed = startProc(['monitor', ...follow, '--interval', '1']);
  await killed.waitEvent('control', 60_000);
  await killed.stop('SIGKILL');
  t.ok(existsSync(join(dir, 'control.sock')), 'kill -9 leaves the socket file');
  const offline = await cliIn(['monitor', 'alerts', '--state', dir, '--json']);
  t.equal(offline.status, 0, `alerts then reads the state itself (${offline.stderr})`);
  t.equal((JSON.parse(offline.stdout) as unknown[]).length, 1, 'listing its one alert');
});
