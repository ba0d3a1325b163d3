/**
 * Faults of a log of several `vitrine serve` nodes on one PostgreSQL (issue
 * 10 §3), real processes on port 0: the sequencer stopped with SIGSTOP past
 * its lease and continued with SIGCONT commits and signs nothing (its
 * record, its events and the database say so) while another node took over;
 * and PostgreSQL crashing under load (`pg_ctl stop -m immediate`): every
 * node answers 503 with Retry-After meanwhile, /healthz says the database is
 * unreachable, and the log recovers without restarting any node, losing
 * nothing acknowledged.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatSigner, formatVerifier, generateSigner, openCheckpoint, parseVerifier, verifierFromSigner } from '../../src/note/index.js';
import { audit } from './audit.js';
import { makeEntry, ORIGIN, post, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

const CLUSTER = join(process.cwd(), '.ci', 'pg-cluster');
const LEASE_MS = 2000;

interface Node {
  name: string;
  proc: Proc;
  base: string;
  state: string;
}

function keyFile(): { path: string; vkey: string } {
  const signer = generateSigner(ORIGIN, nodeEd25519);
  const path = join(tempDir(), 'log.key');
  writeFileSync(path, `${formatSigner(signer)}\n`, { mode: 0o600 });
  return { path, vkey: formatVerifier(verifierFromSigner(signer)) };
}

async function startNode(url: string, key: string, name: string, dir: string): Promise<Node> {
  const state = join(dir, `${name}.state`);
  const proc = startProc([
    'serve', '--storage', url, '--key', key, '--state-file', state, '--origin', ORIGIN,
    '--listen', '127.0.0.1:0', '--node-name', name, '--lease-ms', String(LEASE_MS),
  ]);
  const start = await proc.waitEvent('start', 90_000);
  return { name, proc, base: `http://127.0.0.1:${portOf(start)}`, state };
}

function events(node: Node, event: string): Array<Record<string, unknown>> {
  return node.proc.stderr().split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      return e['event'] === event ? [e] : [];
    } catch {
      return [];
    }
  });
}

/** The node that took the lease with an epoch above `after`, once one did. */
async function sequencerAfter(nodes: Node[], after: number, timeoutMs = 30_000): Promise<{ node: Node; epoch: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let best: { node: Node; epoch: number } | undefined;
    for (const node of nodes) {
      for (const e of events(node, 'sequencing')) {
        const epoch = Number(e['epoch']);
        if (epoch > after && (!best || epoch > best.epoch)) best = { node, epoch };
      }
    }
    if (best) return best;
    if (Date.now() > deadline) throw new Error(`no node took the lease after epoch ${after}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function recordSize(node: Node, vkey: string): number {
  return Number(openCheckpoint(readFileSync(node.state, 'utf8'), parseVerifier(vkey), nodeEd25519).size);
}

t.test('SIGSTOP of the sequencer past its lease, then SIGCONT: it commits and signs nothing', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const key = keyFile();
  const dir = tempDir();
  const nodes = await Promise.all(['a', 'b'].map((n) => startNode(url, key.path, n, dir)));
  t.teardown(() => Promise.all(nodes.map((n) => {
    n.proc.child.kill('SIGCONT');
    return n.proc.stop('SIGKILL');
  })));
  await sequencerAfter(nodes, 0);
  const notes: string[] = [];
  for (const n of [...nodes, ...nodes]) {
    const r = await post(n.base, makeEntry());
    t.equal(r.status, 201, `a submission at ${n.name} is logged`, { answer: r.json });
    notes.push(r.json.checkpoint);
  }
  // The sequencer now (the lease may have moved under load), then its state.
  const current = await sequencerAfter(nodes, 0);
  const paused = current.node;
  const other = nodes.find((n) => n !== paused)!;
  const committedBefore = events(paused, 'batch-committed').length;
  const recordBefore = recordSize(paused, key.vkey);
  t.ok(recordBefore > 0, `the sequencer recorded the newest checkpoint it signed (${recordBefore})`);

  paused.proc.child.kill('SIGSTOP');
  // Sent to the paused node: it sits in the socket until SIGCONT.
  const stuck = post(paused.base, makeEntry()).catch((err: Error) => ({ status: 0, json: err.message, headers: new Headers() }));
  const second = await sequencerAfter([other], current.epoch);
  t.ok(second.epoch > current.epoch, `${other.name} took the lease with a later epoch (${second.epoch})`);
  for (let i = 0; i < 3; i++) {
    const r = await post(other.base, makeEntry());
    t.equal(r.status, 201, 'the new sequencer logs submissions');
    notes.push(r.json.checkpoint);
  }
  paused.proc.child.kill('SIGCONT');
  const late = await stuck;
  t.ok([503, 201].includes(late.status), `the submission held by the pause is refused (503) or forwarded to the new sequencer (201): ${late.status}`);
  if (late.status === 201) notes.push(late.json.checkpoint);
  await paused.proc.waitEvent('sequencing-stopped', 30_000);
  // Give the woken node time to do anything it still would.
  const r = await post(paused.base, makeEntry());
  t.equal(r.status, 201, 'a submission at the woken node is forwarded to the new sequencer');
  notes.push(r.json.checkpoint);
  t.equal(events(paused, 'batch-committed').length, committedBefore, 'the woken node committed no batch');
  t.equal(recordSize(paused, key.vkey), recordBefore, `and signed nothing: its record still holds the checkpoint of ${recordBefore}`);
  const final = await audit(other.base, key.vkey, notes);
  t.ok(final.size >= 9, `the new sequencer's tree holds every entry answered 201 (${final.size})`);
  const seenByPaused = await audit(paused.base, key.vkey, notes);
  t.equal(seenByPaused.size, final.size, 'the woken node follows and serves the same tree');
});

t.test('PostgreSQL crash under load with two nodes: 503 meanwhile, recovery without restart, nothing lost', async (t) => {
  if (!existsSync('/usr/lib/postgresql/15/bin/pg_ctl') && !process.env['PG_BIN']) {
    if (process.env['CI'] === 'true') t.fail('PostgreSQL binaries are missing under CI=true');
    else t.pass('skipped: no PostgreSQL binaries (/usr/lib/postgresql/15/bin)');
    return;
  }
  // A cluster of its own: stopping the shared one would break the tests running beside this one.
  const out = execFileSync(CLUSTER, ['start'], { encoding: 'utf8' });
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const pgDir = env['VITRINE_TEST_PG_DIR']!;
  t.teardown(() => execFileSync(CLUSTER, ['destroy', pgDir]));
  const key = keyFile();
  const dir = tempDir();
  const nodes = await Promise.all(['a', 'b'].map((n) => startNode(env['VITRINE_TEST_PG_URL']!, key.path, n, dir)));
  t.teardown(() => Promise.all(nodes.map((n) => n.proc.stop('SIGKILL'))));
  await sequencerAfter(nodes, 0);

  const acked = new Map<number, Uint8Array>();
  const notes = new Map<number, string>();
  let unavailable = 0;
  let wrong = '';
  let running = true;
  const client = async (i: number) => {
    for (let k = 0; running; k++) {
      const node = nodes[(i + k) % nodes.length]!;
      const e = makeEntry();
      const r = await post(node.base, e).catch(() => undefined);
      if (!r) continue;
      if (r.status === 201) {
        acked.set(r.json.index, e);
        notes.set(r.json.index, r.json.checkpoint);
      } else if (r.status === 503) {
        unavailable++;
        if (!/^[1-9][0-9]*$/.test(r.headers.get('retry-after') ?? '')) wrong ||= '503 without Retry-After';
        await new Promise((res) => setTimeout(res, 100));
      } else {
        wrong ||= `unexpected status ${r.status}: ${JSON.stringify(r.json)}`;
      }
    }
  };
  const clients = Array.from({ length: 6 }, (_, i) => client(i));
  const waitAcked = async (n: number) => {
    for (let i = 0; i < 600 && acked.size < n; i++) await new Promise((r) => setTimeout(r, 100));
    return acked.size >= n;
  };
  t.ok(await waitAcked(20), 'entries are acknowledged through both nodes');
  execFileSync(CLUSTER, ['stop', pgDir, 'immediate']);
  const before = unavailable;
  for (let i = 0; i < 100 && unavailable === before; i++) await new Promise((r) => setTimeout(r, 100));
  for (const n of nodes) {
    const h = await fetch(`${n.base}/healthz`).catch((err: Error) => {
      t.comment(`${n.name} (exit ${n.proc.child.exitCode}) stderr:\n${n.proc.stderr().slice(-3000)}`);
      throw err;
    });
    t.equal(h.status, 503, `${n.name}: /healthz answers 503 while PostgreSQL is down`);
  }
  t.ok(unavailable > before, 'submissions answered 503 while PostgreSQL was down');
  execFileSync(CLUSTER, ['up', pgDir]);
  const resumed = acked.size;
  t.ok(await waitAcked(resumed + 20), `the log recovered without restarting a node (${acked.size - resumed} entries acknowledged after)`);
  running = false;
  await Promise.all(clients);
  t.equal(wrong, '', 'every answer was 201 or 503 with Retry-After');
  for (const n of nodes) t.equal((await fetch(`${n.base}/healthz`)).status, 200, `${n.name}: /healthz answers 200 again`);
  // A follower takes up new checkpoints by polling (every --lease-ms/12): wait until each node
  // serves at least the largest checkpoint any answer handed out, then audit there.
  const largest = Math.max(...[...notes.values()].map((n) => Number(n.split('\n')[1])));
  for (const n of nodes) {
    let served = -1;
    for (let i = 0; i < 300 && served < largest; i++) {
      const res = await fetch(`${n.base}/checkpoint`);
      served = res.status === 200 ? Number((await res.text()).split('\n')[1]) : -1;
      if (served < largest) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(served >= largest, `${n.name} serves a tree of at least ${largest}, the largest handed out (it serves ${served})`);
  }
  const final = await audit(nodes[0]!.base, key.vkey, [...notes.values()].slice(-50));
  t.equal((await audit(nodes[1]!.base, key.vkey, [...notes.values()].slice(-50))).size, final.size, 'both nodes serve the same tree');
  let lost = 0;
  for (const [index, e] of acked) if (Buffer.compare(final.entries[index] ?? new Uint8Array(), e) !== 0) lost++;
  t.equal(lost, 0, `every one of the ${acked.size} acknowledged entries is at its index`);
});
