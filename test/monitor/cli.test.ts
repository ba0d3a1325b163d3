/**
 * `vitrine monitor` as the built binary: --once exit codes (0 clean, 1
 * security alert, 2 operational failure or usage error), the exec and
 * webhook sinks (retried with backoff from a persisted outbox, also across
 * a SIGKILL), and the continuous mode with --listen, stopped by SIGTERM.
 * `monitor ack` runs in this process (test/_cli.ts vitrineIn; the binary's
 * is in test/monitor/gate.test.ts).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { makeEntry, post, removeDir, startLog, tempDir, type TestLog } from '../log/harness.js';
import { vitrineIn } from '../_cli.js';
import { BIN, cli, jsonlAlerts, readState, writeJson } from './helpers.js';

const revoked = generateSigner('revoked.example', nodeEd25519);

async function testLog(t: { teardown(fn: () => unknown): void }): Promise<TestLog> {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  return log;
}

function workDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = tempDir('vitrine-cli-');
  t.teardown(() => removeDir(dir));
  return dir;
}

t.test('--once exit codes', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  const log = await testLog(t);
  const dir = workDir(t);
  const policy = writeJson(join(dir, 'policy.json'), { revoked: [formatVerifier(verifierFromSigner(revoked))] });
  // --workers 0: audit on the main thread, without starting a pool for one entry (the webhook and continuous tests below run the default pool).
  const args = ['monitor', '--state', join(dir, 'st'), '--log', log.url, '--log-key', log.opened.verifierKey, '--policy', policy, '--workers', '0', '--once'];
  await post(log.url, makeEntry());

  const clean = await cli([...args, '--init']);
  t.equal(clean.status, 0, `a clean audit exits 0 (${clean.stderr.slice(-200)})`);
  t.equal(clean.stdout, '', 'and prints no alert');

  await post(log.url, makeEntry(revoked, 'pkg:generic/after-revocation@1'));
  const alert = await cli(args);
  t.equal(alert.status, 1, 'a security alert exits 1');
  const lines = alert.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one line on stdout');
  const a = JSON.parse(lines[0]!);
  t.equal(a.kind, 'revoked-key', 'the revoked-key alert');
  t.equal(a.index, 1, 'for entry 1');
  t.same(jsonlAlerts(join(dir, 'st')), [a], 'alerts.jsonl holds the same alert');

  const retried = await cli(args);
  t.equal(retried.status, 1, 'a retried run still exits 1: the alert is not acknowledged (vitrine monitor ack; test/monitor/gate.test.ts)');
  t.equal(retried.stdout, '', 'but prints nothing: the alert fired once');
  t.match(retried.stderr, /"event":"unacknowledged","count":1/, 'and says one security alert waits for an acknowledgement');
  const ack = await vitrineIn(dir, ['monitor', 'ack', '--state', join(dir, 'st'), '--all', '--by', 'alice']);
  t.equal(ack.code, 0, `monitor ack --all exits 0 (${ack.stderr.slice(-200)})`);

  const quiet = await cli(args);
  t.equal(quiet.status, 0, `once acknowledged, the next run with nothing new exits 0 (${quiet.stderr.slice(-200)})`);
  t.equal(quiet.stdout, '', 'and prints nothing');

  writeFileSync(join(dir, 'log.vkey'), `${log.opened.verifierKey}\n`);
  writeJson(join(dir, 'monitor.json'), { logs: [{ url: log.url, key: 'log.vkey' }], policy: 'policy.json' });
  const fromConfig = await cli(['monitor', '--state', join(dir, 'st'), '--config', join(dir, 'monitor.json'), '--once']);
  t.equal(fromConfig.status, 0, `--config with the log and a key file (paths relative to it) works the same (${fromConfig.stderr.slice(-200)})`);

  const down = await cli(['monitor', '--state', join(dir, 'st'), '--log', 'http://127.0.0.1:9', '--log-key', log.opened.verifierKey, '--once']);
  t.equal(down.status, 2, 'an unreachable log exits 2');
  const op = JSON.parse(down.stdout.trim());
  t.same([op.kind, op.class], ['log-unreachable', 'operational'], 'with an operational log-unreachable alert');

  const usage = await cli(['monitor', '--state', join(dir, 'st'), '--log', log.url, '--once']);
  t.equal(usage.status, 2, 'a usage error exits 2');
  t.match(usage.stderr, /one --log-key per --log/, 'with a message');
});

t.test('--exec runs the command with the alert in its environment and a file', async (t) => {
  const log = await testLog(t);
  const dir = workDir(t);
  const out = join(dir, 'out');
  mkdirSync(out);
  const policy = writeJson(join(dir, 'policy.json'), { revoked: [formatVerifier(verifierFromSigner(revoked))] });
  await post(log.url, makeEntry(revoked, 'pkg:generic/exec@1'));
  const command = `cp "$VITRINE_ALERT_FILE" "${out}/alert-$VITRINE_ALERT_INDEX.json" && env | grep '^VITRINE_ALERT_' | sort > "${out}/env-$VITRINE_ALERT_INDEX.txt"`;
  const r = await cli(['monitor', '--state', join(dir, 'st'), '--init', '--once', '--log', log.url, '--log-key', log.opened.verifierKey, '--policy', policy, '--workers', '0', '--exec', command]);
  t.equal(r.status, 1, 'exit 1: a security alert');
  const alert = JSON.parse(r.stdout.trim());
  t.same(JSON.parse(readFileSync(join(out, 'alert-0.json'), 'utf8')), alert, 'VITRINE_ALERT_FILE holds the alert JSON');
  const env = readFileSync(join(out, 'env-0.txt'), 'utf8');
  t.match(env, /^VITRINE_ALERT_KIND=revoked-key$/m, 'VITRINE_ALERT_KIND');
  t.match(env, /^VITRINE_ALERT_CLASS=security$/m, 'VITRINE_ALERT_CLASS');
  t.match(env, /^VITRINE_ALERT_ORIGIN=test\.example\/log$/m, 'VITRINE_ALERT_ORIGIN');
  t.match(env, /^VITRINE_ALERT_INDEX=0$/m, 'VITRINE_ALERT_INDEX');
  t.match(env, /^VITRINE_ALERT_NAME=pkg:generic\/exec@1$/m, 'VITRINE_ALERT_NAME');
  t.match(env, /^VITRINE_ALERT_KEY_HASH=[0-9a-f]{64}$/m, 'VITRINE_ALERT_KEY_HASH');
  t.equal(readState(join(dir, 'st')).outbox, 0, 'the outbox is empty once delivered');
  t.same(readdirSync(join(dir, 'st', 'exec')), [], 'the alert file is removed afterwards');
});

t.test('--webhook retries with backoff and survives a SIGKILL between failures', async (t) => {
  const log = await testLog(t);
  const dir = workDir(t);
  const received: Array<{ body: string; headers: IncomingHttpHeaders; status: number }> = [];
  const failFirst = 2;
  const app = express();
  app.post('/hook', express.text({ type: 'application/json' }), (req, res) => {
    const status = received.length < failFirst ? 500 : 204;
    received.push({ body: req.body as string, headers: req.headers, status });
    res.status(status).end();
  });
  const hook = createServer(app);
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => hook.close(r)));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const policy = writeJson(join(dir, 'policy.json'), { revoked: [formatVerifier(verifierFromSigner(revoked))] });
  await post(log.url, makeEntry(revoked, 'pkg:generic/hook@1'));
  const args = ['monitor', '--state', join(dir, 'st'), '--log', log.url, '--log-key', log.opened.verifierKey, '--policy', policy, '--webhook', url, '--once', '--retry-base-ms', '500'];

  // First run: the first attempt fails; kill the monitor before it retries
  // (a longer backoff here, so that a stalled test process still kills it in time).
  const firstArgs = [...args.slice(0, -1), '3000', '--init'];
  const child = spawn(process.execPath, [BIN, ...firstArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  for (let i = 0; i < 600 && received.length < 1; i++) await new Promise((r) => setTimeout(r, 25));
  child.kill('SIGKILL');
  await exited;
  t.equal(received.length, 1, 'one failed attempt before the kill');
  const pending = readState(join(dir, 'st'));
  t.equal(pending.outbox, 1, 'the delivery is still in the persisted outbox');
  t.equal(pending.alerts.length, 1, 'the alert is committed');

  // Second run: the outbox is delivered, retried after another failure.
  const r = await cli(args);
  t.equal(r.status, 1, `the second run exits 1: the alert the killed run raised is not acknowledged (${r.stderr.slice(-300)})`);
  t.match(r.stderr, /"event":"done","security":0,"operational":0,"unacknowledged":1,"audited":0,"undelivered":0/, 'it raised nothing new and delivered everything');
  t.equal(received.length, 3, 'three attempts in all: fail, fail, success');
  // The killed run may or may not have recorded its failed attempt: either way the next one backs off.
  t.match(r.stderr, /"event":"alert-delivery-failed","sink":"webhook","seq":1,"attempts":[12],"retryInMs":(500|1000)/, 'a failed attempt is rescheduled with backoff');
  t.match(r.stderr, /"event":"alert-delivered","sink":"webhook","seq":1/, 'then delivered');
  const bodies = new Set(received.map((x) => x.body));
  t.equal(bodies.size, 1, 'every attempt carried the same alert');
  const alert = JSON.parse(received[2]!.body);
  t.same(alert, jsonlAlerts(join(dir, 'st'))[0], 'the alert in alerts.jsonl');
  t.equal(alert.kind, 'revoked-key', 'the revoked-key alert');
  t.equal(received[2]!.headers['content-type'], 'application/json', 'sent as JSON');
  t.match(received[2]!.headers['idempotency-key'], /^[0-9a-f]{64}$/, 'with an idempotency key');
  t.equal(new Set(received.map((x) => x.headers['idempotency-key'])).size, 1, 'the same key on every attempt');
  t.equal(readState(join(dir, 'st')).outbox, 0, 'the outbox is empty');
  t.equal(jsonlAlerts(join(dir, 'st')).length, 1, 'alerts.jsonl holds the alert once');
  t.equal(stdout.trim().split('\n').length, 1, 'the first run printed it once');
});

t.test('continuous mode with --listen follows the log, stops on SIGTERM', async (t) => {
  const log = await testLog(t);
  const dir = workDir(t);
  await post(log.url, makeEntry());
  const child = spawn(process.execPath, [BIN, 'monitor', '--state', join(dir, 'st'), '--init', '--log', log.url, '--log-key', log.opened.verifierKey, '--interval', '1', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let port: string | undefined;
  for (let i = 0; i < 600 && port === undefined; i++) {
    port = /"event":"listen","listen":"127\.0\.0\.1:(\d+)"/.exec(stderr)?.[1];
    await new Promise((r) => setTimeout(r, 25));
  }
  t.ok(port, 'the monitor listens');
  const hash = createHash('sha256').update('test.example/log').digest('hex');
  for (let i = 0; i < 3; i++) await post(log.url, makeEntry());
  const want = log.opened.service.checkpoint();
  let got = '';
  for (let i = 0; i < 400 && got !== want; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/${hash}/checkpoint`);
    got = res.status === 200 ? await res.text() : '';
    if (got !== want) await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(got, want, 'it verified the log\'s new checkpoint on its own, and serves it');
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(metrics, /^vitrine_monitor_process_cpu_seconds_total \S+$/m, 'process metrics are named vitrine_monitor_process_*');
  t.match(metrics, /^vitrine_monitor_nodejs_heap_size_used_bytes \S+$/m, 'and vitrine_monitor_nodejs_*');
  t.notMatch(metrics, /process_process|process_nodejs/, 'with no doubled prefix');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops it with exit 0');
  t.equal(readState(join(dir, 'st')).logs[0]!.audited, 4, 'all four entries audited');
});
