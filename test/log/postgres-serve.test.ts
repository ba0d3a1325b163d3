/**
 * `vitrine serve --storage postgres://...` as a real process on port 0
 * (issue 10 §2): submissions answered with bundles that verify offline, an
 * independent audit of every read path, the password never printed, one
 * second node that follows, another origin or key refused, a restart that keeps
 * everything, and a PostgreSQL crash (`pg_ctl stop -m immediate`) under
 * load: 503 with Retry-After meanwhile, recovery without a restart, and
 * every acknowledged entry still at its index.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode } from '../../src/encoding.js';
import { decodeEntry } from '../../src/entry/index.js';
import { formatSigner, formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit, refLeaf } from './audit.js';
import { DB_RETRY_MAX_MS } from './cluster-fixture.js';
import { makeEntry, ORIGIN, post, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { cli } from '../monitor/helpers.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

const CLUSTER = join(process.cwd(), '.ci', 'pg-cluster');
/**
 * .ci/pg-cluster, without blocking the event loop: the other test of this
 * file runs meanwhile, and the nodes' stderr pipes must keep being read.
 */
const pgCluster = async (...args: string[]): Promise<string> => (await promisify(execFile)(CLUSTER, args, { encoding: 'utf8' })).stdout;

// The two tests share nothing (a database each, the second on a PostgreSQL cluster of its own) and
// mostly wait on processes and timers: they run side by side.
t.jobs = 2;

function keyFile(origin = ORIGIN): { path: string; vkey: string } {
  const signer = generateSigner(origin, nodeEd25519);
  const path = join(tempDir(), 'log.key');
  writeFileSync(path, `${formatSigner(signer)}\n`, { mode: 0o600 });
  return { path, vkey: formatVerifier(verifierFromSigner(signer)) };
}

async function serve(url: string, key: string, origin = ORIGIN, state = `${key}.state`): Promise<{ proc: Proc; base: string }> {
  const proc = startProc(['serve', '--storage', url, '--key', key, '--state-file', state, '--origin', origin, '--listen', '127.0.0.1:0', '--batch-interval', '20', '--db-retry-max-ms', String(DB_RETRY_MAX_MS)]);
  const start = await proc.waitEvent('start', 30_000);
  return { proc, base: `http://127.0.0.1:${portOf(start)}` };
}

/** serve(), then wait until the node took the sequencer lease (alone on its database, it does at once). */
async function serveAlone(url: string, key: string, origin = ORIGIN): Promise<{ proc: Proc; base: string }> {
  const node = await serve(url, key, origin);
  await node.proc.waitEvent('sequencing', 30_000);
  return node;
}

/** `url` with a password the trust-authenticated test server ignores, to see that it is never printed. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

t.test('serve on PostgreSQL: submit, audit, refusals, restart', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = withPassword(await freshDatabase(t, server), 'Sekr1t-pw');
  const key = keyFile();
  let node = await serveAlone(url, key.path);
  t.teardown(() => node.proc.stop('SIGKILL'));

  const entries = Array.from({ length: 300 }, () => makeEntry());
  // A 503 (pushback, e.g. the lease lapsing on a starved machine) is retried, as a client does.
  let retried = 0;
  const answers = await Promise.all(entries.map(async (e) => {
    for (;;) {
      // A node must answer, if only with a refusal: a hang fails here, not at the file's timeout.
      const a = await post(node.base, e, 'application/cbor', 90_000);
      if (a.status !== 503) return a;
      retried++;
      await new Promise((r) => setTimeout(r, 200));
    }
  }));
  if (retried > 0) t.comment(`${retried} submissions were retried after 503`);
  t.ok(answers.every((a) => a.status === 201 || (a.status === 200 && retried > 0)), 'every submission answers 201 (or 200 when a retry found it logged)', { bad: answers.filter((a) => a.status !== 201).slice(0, 3).map((a) => a.json) });
  t.same(answers.map((a) => a.json.index).sort((a, b) => a - b), entries.map((_, i) => i), 'indexes 0..299, each once');
  const bad = answers.filter((a, i) => !verifyBundle({ digest: decodeEntry(entries[i]!).digest }, a.json.bundle, { logKey: key.vkey }, nodeEd25519).ok);
  t.equal(bad.length, 0, 'every bundle verifies offline with the log key');
  const again = await post(node.base, entries[7]!);
  t.equal(again.status, 200, 'a duplicate answers 200');
  t.equal(again.json.index, answers[7]!.json.index, 'at its index');
  const audited = await audit(node.base, key.vkey, [answers[0]!.json.checkpoint]);
  t.equal(audited.size, 300, 'the audit recomputes the tree of 300 from the entry bundles, tiles and checkpoint');
  answers.forEach((a) => {
    if (Buffer.compare(refLeaf(audited.entries[a.json.index]!), b64decode(a.json.leafHash, 'leaf')) !== 0) t.fail(`entry ${a.json.index} is not the one acknowledged`);
  });

  // A second node on the same database follows (test/log/cluster.test.ts has the rest).
  const second = await serve(url, key.path, ORIGIN, `${key.path}.second`);
  t.equal(await (await fetch(`${second.base}/checkpoint`)).text(), await (await fetch(`${node.base}/checkpoint`)).text(), 'a second node on the database serves the same checkpoint');
  await second.proc.stop('SIGTERM');

  await node.proc.stop('SIGTERM');
  const otherOrigin = keyFile('other.example/log');
  const otherKey = keyFile();
  // Three refused starts, independent of each other: run at once.
  const [r1, r2, noKey] = await Promise.all([
    cli(['serve', '--storage', url, '--key', otherOrigin.path, '--state-file', `${otherOrigin.path}.state`, '--origin', 'other.example/log', '--listen', '127.0.0.1:0'], { timeout: 60_000 }),
    cli(['serve', '--storage', url, '--key', otherKey.path, '--state-file', `${otherKey.path}.state`, '--origin', ORIGIN, '--listen', '127.0.0.1:0'], { timeout: 60_000 }),
    cli(['serve', '--storage', url, '--origin', ORIGIN], { timeout: 60_000 }),
  ]);
  t.match(r1.stderr, /refusing to start: the database belongs to origin test\.example\/log, not other\.example\/log/, 'another origin is refused');
  t.match(r2.stderr, /refusing to start: the database was made with the log key .*, not .*; start it with its own key/, 'another key is refused');
  t.equal(noKey.status, 2, 'postgres without --key is a usage error');

  node = await serveAlone(url, key.path);
  const after = await audit(node.base, key.vkey, [audited.note]);
  t.equal(after.size, 300, 'after a restart the log has its 300 entries and a consistent checkpoint');
  for (const out of [node.proc.stderr(), node.proc.stdout(), second.proc.stderr(), r1.stderr, r2.stderr, noKey.stderr]) {
    if (out.includes('Sekr1t-pw')) t.fail('the database password was printed');
  }
  t.match(node.proc.stderr(), /"storage":"postgres:\/\/vitrine:\*\*\*@/, 'the start event names the database with the password hidden');
});

t.test('a PostgreSQL crash under load: 503 meanwhile, recovery without restart, nothing acknowledged lost', async (t) => {
  if (!existsSync('/usr/lib/postgresql/15/bin/pg_ctl') && !process.env['PG_BIN']) {
    if (process.env['CI'] === 'true') t.fail('PostgreSQL binaries are missing under CI=true');
    else t.pass('skipped: no PostgreSQL binaries (/usr/lib/postgresql/15/bin)');
    return;
  }
  // A cluster of its own: stopping the shared one would break the tests running beside this one.
  const out = await pgCluster('start');
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const dir = env['VITRINE_TEST_PG_DIR']!;
  t.teardown(() => pgCluster('destroy', dir));
  const key = keyFile();
  const node = await serveAlone(env['VITRINE_TEST_PG_URL']!, key.path);
  t.teardown(() => node.proc.stop('SIGKILL'));

  const acked = new Map<number, Uint8Array>();
  const statuses = new Map<number, number>();
  let retryAfterOk = true;
  let running = true;
  const client = async () => {
    while (running) {
      const e = makeEntry();
      const r = await post(node.base, e, 'application/cbor', 90_000).catch((err: Error) => {
        // A node must answer, if only with a refusal (undici would wait 5 minutes); a reset connection owes nothing.
        if (err.name === 'TimeoutError') t.fail('the node did not answer a submission within 90 s');
        return undefined;
      });
      if (!r) continue;
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 201) acked.set(r.json.index, e);
      else if (r.status === 503 && !/^[1-9][0-9]*$/.test(r.headers.get('retry-after') ?? '')) retryAfterOk = false;
      else if (r.status !== 503) t.fail(`unexpected status ${r.status}: ${JSON.stringify(r.json)}`);
      if (r.status === 503) await new Promise((res) => setTimeout(res, 100));
    }
  };
  const clients = Array.from({ length: 8 }, client);
  // Load before the crash: wait for some acknowledgements (not a fixed time, which a busy machine may not fill).
  for (const until = Date.now() + 30_000; acked.size < 5 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  const before = acked.size;
  const healthUp = await fetch(`${node.base}/healthz`);
  t.equal(healthUp.status, 200, '/healthz answers 200 while the database is reachable');
  const metricsUp = await (await fetch(`${node.base}/metrics`)).text();
  t.match(metricsUp, /^vitrine_database_up 1$/m, 'vitrine_database_up is 1');
  t.match(metricsUp, /^vitrine_sequencing\{node="[^"]+"\} 1$/m, 'the lone node says it sequences');
  const refusedBefore = statuses.get(503) ?? 0;
  await pgCluster('stop', dir, 'immediate');
  // Wait for a submission refused because of the outage (not a fixed time: at most 30 s).
  for (const until = Date.now() + 30_000; (statuses.get(503) ?? 0) === refusedBefore && Date.now() < until; ) await new Promise((r) => setTimeout(r, 25));
  const healthDown = await fetch(`${node.base}/healthz`);
  t.equal(healthDown.status, 503, '/healthz answers 503 while PostgreSQL is down');
  t.equal(healthDown.headers.get('retry-after'), '1', 'with Retry-After');
  t.equal(await healthDown.text(), 'database unreachable', 'and says why');
  t.match(await (await fetch(`${node.base}/metrics`)).text(), /^vitrine_database_up 0$/m, 'vitrine_database_up is 0');
  const during = (statuses.get(503) ?? 0) - refusedBefore;
  await pgCluster('up', dir);
  // Back up: wait until new entries are acknowledged again.
  const resumed = acked.size;
  for (let i = 0; i < 100 && acked.size < resumed + 20; i++) await new Promise((r) => setTimeout(r, 200));
  running = false;
  await Promise.all(clients);
  t.equal((await fetch(`${node.base}/healthz`)).status, 200, '/healthz answers 200 again once PostgreSQL is back');
  t.ok(before > 0, `entries were acknowledged before the crash (${before})`);
  t.ok(during > 0, `submissions answered 503 while PostgreSQL was down (${during})`);
  t.ok(retryAfterOk, 'every 503 carried Retry-After');
  t.ok(acked.size >= resumed + 20, `the node recovered without a restart (${acked.size - resumed} entries acknowledged after)`);
  const audited = await audit(node.base, key.vkey);
  let lost = 0;
  for (const [index, e] of acked) if (Buffer.compare(audited.entries[index] ?? new Uint8Array(), e) !== 0) lost++;
  t.equal(lost, 0, `every one of the ${acked.size} acknowledged entries is at its index`);
});
