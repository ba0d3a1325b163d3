/**
 * `vitrine serve --workers N` (issue 11 §2, src/log/workers.ts): real
 * processes on port 0. Submissions spread over the HTTP workers all land in
 * the one sequencer, dense and unique; every read path answers the same
 * bytes from every worker (each request on a new connection, which the
 * cluster's round-robin hands to the workers in turn); /metrics sums every
 * process; SIGTERM answers what waits and stops every worker; a worker
 * killed with SIGKILL is replaced and nothing acknowledged is lost.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode, hexEncode } from '../../src/encoding.js';
import { decodeEntry } from '../../src/entry/index.js';
import { openCheckpoint, parseVerifier } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit } from './audit.js';
import { makeEntry, removeDir, tempDir } from './harness.js';

const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');
const ORIGIN = 'workers.example/log';

interface Running {
  child: ChildProcess;
  url: string;
  vkey: string;
  log: () => string;
  exited: Promise<number | null>;
}

function serve(dir: string, extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0', '--workers', '2', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s: ${err}`)), 60_000);
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /"event":"start".*?"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${m[1]}`, vkey: out.trim(), log: () => err, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}

/**
 * One request on a connection of its own (no keep-alive), so that
 * round-robin spreads requests over the workers; `signal` abandons it.
 */
function fresh(url: string, method = 'GET', body?: Uint8Array, signal?: AbortSignal): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, signal, headers: body ? { 'Content-Type': 'application/cbor', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A connection handed to a worker that is being killed is never answered: give up on it (only the kill test meets this).
    req.setTimeout(5000, () => req.destroy(new Error("no answer within 5 s")));
    req.end(body);
  });
}

function workerPids(log: string): number[] {
  return [...log.matchAll(/"event":"worker-started","pid":(\d+)/g)].map((m) => Number(m[1]));
}

t.test('two workers: one sequencer, every read path from every worker, metrics summed', async (t) => {
  const dir = tempDir('vitrine-workers-');
  t.teardown(() => removeDir(dir));
  const s = await serve(dir);
  t.teardown(() => s.child.kill('SIGKILL'));
  t.equal(workerPids(s.log()).length, 2, 'the primary started two HTTP workers');
  const verifier = parseVerifier(s.vkey);

  const entries = Array.from({ length: 30 }, () => makeEntry());
  const answers = await Promise.all(entries.map((e) => fresh(`${s.url}/v1/entries`, 'POST', e)));
  t.same(answers.map((a) => a.status), entries.map(() => 201), 'every submission is answered 201');
  const bodies = answers.map((a) => JSON.parse(a.body.toString()) as { index: number; bundle: string; checkpoint: string; leafHash: string });
  t.same(bodies.map((b) => b.index).sort((a, b) => a - b), entries.map((_, i) => i), 'one sequencer: indexes are dense and unique');
  bodies.forEach((b, i) => {
    const v = verifyBundle({ digest: decodeEntry(entries[i]!).digest }, b.bundle, { logKey: s.vkey }, nodeEd25519);
    if (!v.ok) t.fail(`the bundle of index ${b.index} does not verify: ${v.message}`);
  });
  // A duplicate, sent to whichever worker, gets the same index with 200.
  const dup = await fresh(`${s.url}/v1/entries`, 'POST', entries[3]!);
  t.equal(dup.status, 200, 'a duplicate answers 200');
  t.equal((JSON.parse(dup.body.toString()) as { index: number }).index, bodies[3]!.index, 'at the same index');

  // Right after the answers: reads from any worker cover every answered entry.
  const last = bodies.reduce((a, b) => (a.index > b.index ? a : b));
  const leafHex = hexEncode(b64decode(last.leafHash, 'leafHash', 32));
  const digestHex = hexEncode(decodeEntry(entries[5]!).digest);
  const paths = [
    '/checkpoint',
    '/tile/0/000.p/30',
    '/tile/entries/000.p/30',
    `/v1/proof/inclusion?leaf=${leafHex}&size=30`,
    '/v1/proof/consistency?from=7&to=30',
    '/v1/entries/29',
    `/v1/entries?digest=${digestHex}`,
    '/v1/log',
    '/healthz',
  ];
  const repeats = 6;
  for (const path of paths) {
    const got: Array<{ status: number; body: Buffer }> = [];
    for (let i = 0; i < repeats; i++) got.push(await fresh(`${s.url}${path}`));
    t.same(got.map((g) => g.status), got.map(() => 200), `${path}: 200 on ${repeats} connections`);
    t.ok(got.every((g) => g.body.equals(got[0]!.body)), `${path}: the same bytes from every worker`);
  }
  const cp = openCheckpoint((await fresh(`${s.url}/checkpoint`)).body.toString(), verifier, nodeEd25519);
  t.equal(cp.size, 30n, 'the checkpoint every worker serves covers all 30 entries');
  // /metrics, from any worker, adds up every process: the sums are the requests this test made.
  const metrics = (await fresh(`${s.url}/metrics`)).body.toString();
  const value = (re: RegExp) => Number(re.exec(metrics)?.[1]);
  t.equal(value(/^vitrine_submissions_total\{outcome="new"\} (\d+)$/m), 30, 'new submissions: 30, summed over the workers');
  t.equal(value(/^vitrine_submissions_total\{outcome="duplicate"\} (\d+)$/m), 1, 'duplicates: 1');
  t.equal(value(/^vitrine_http_request_duration_seconds_count\{route="submit",status="201"\} (\d+)$/m), 30, 'submit requests answered 201: 30');
  t.equal(value(/^vitrine_http_request_duration_seconds_count\{route="tile",status="200"\} (\d+)$/m), 2 * repeats, 'tile requests: every one counted once');
  t.equal(value(/^vitrine_tree_size (\d+)$/m), 30, 'the tree size is the log\'s, not a sum');
  t.equal(value(/^vitrine_batch_entries_sum (\d+)$/m), 30, "the sequencer's batches (the primary's registry) hold the 30 entries");
  const result = await audit(s.url, s.vkey, bodies.map((b) => b.checkpoint));
  t.equal(result.size, 30, 'an independent audit of tiles, bundles and every answered checkpoint passes');
});

t.test('SIGTERM with two workers answers what waits, stops every worker, exits 0', async (t) => {
  const dir = tempDir('vitrine-workers-');
  t.teardown(() => removeDir(dir));
  // The batch interval is a minute: the submissions wait in the pool until shutdown commits them.
  const s = await serve(dir, ['--batch-interval', '60000']);
  t.teardown(() => s.child.kill('SIGKILL'));
  const pids = workerPids(s.log());
  const pending = Array.from({ length: 4 }, () => fresh(`${s.url}/v1/entries`, 'POST', makeEntry()));
  for (let tries = 0; !/^vitrine_pool_depth 4$/m.test((await fresh(`${s.url}/metrics`)).body.toString()); tries++) {
    if (tries > 300) throw new Error('the four submissions never reached the pool');
    await new Promise((r) => setTimeout(r, 100));
  }
  s.child.kill('SIGTERM');
  const answers = await Promise.all(pending);
  t.same(answers.map((a) => a.status), [201, 201, 201, 201], 'every waiting submission is answered 201');
  t.equal(await s.exited, 0, 'the server exits 0');
  t.match(s.log(), /"event":"stopped","size":4/, 'after committing the four entries');
  for (const pid of pids) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    t.notOk(alive, `worker ${pid} has exited too`);
  }
});

t.test('a worker killed with SIGKILL under load is replaced; nothing acknowledged is lost', async (t) => {
  const dir = tempDir('vitrine-workers-');
  t.teardown(() => removeDir(dir));
  const s = await serve(dir);
  t.teardown(() => s.child.kill('SIGKILL'));
  const [victim] = workerPids(s.log());
  const acknowledged = new Map<number, string>();
  let stop = false;
  let answered = 0;
  // At the end, requests still unanswered are abandoned: one handed to the worker as it was killed
  // would otherwise hold the test for its 5 s timeout. An abandoned request was not acknowledged.
  const abandon = new AbortController();
  setMaxListeners(0, abandon.signal); // one listener per request in flight
  const clients = Array.from({ length: 8 }, async () => {
    while (!stop) {
      try {
        const r = await fresh(`${s.url}/v1/entries`, 'POST', makeEntry(), abandon.signal);
        if (r.status === 201) {
          const b = JSON.parse(r.body.toString()) as { index: number; leafHash: string };
          acknowledged.set(b.index, b.leafHash);
          answered++;
        }
      } catch {
        // The killed worker's connections are reset: not acknowledged, nothing owed.
      }
    }
  });
  // Kill once the load is visibly flowing, then let it flow again through the replacement.
  while (answered < 20) await new Promise((r) => setTimeout(r, 20));
  process.kill(victim!, 'SIGKILL');
  while (workerPids(s.log()).length < 3) await new Promise((r) => setTimeout(r, 20));
  const after = answered;
  while (answered < after + 20) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  abandon.abort();
  await Promise.all(clients);
  t.match(s.log(), new RegExp(`"event":"worker-exited","pid":${victim},"code":null,"signal":"SIGKILL"`), 'the primary saw the worker die');
  t.equal(workerPids(s.log()).length, 3, 'and started a replacement');
  const result = await audit(s.url, s.vkey);
  t.ok(result.size >= acknowledged.size, `the audit passes at size ${result.size}`);
  for (const [index, leafHash] of acknowledged) {
    const body = JSON.parse((await fresh(`${s.url}/v1/entries/${index}`)).body.toString()) as { leafHash?: string };
    if (body.leafHash !== leafHash) t.fail(`acknowledged entry ${index} is missing or moved`);
  }
  t.pass(`all ${acknowledged.size} acknowledged entries are at their indexes`);
});
