/**
 * Faults of a log of several `vitrine serve` nodes on one PostgreSQL (issue
 * 10 §3), real processes on port 0, each node with `--workers 2` (issue 11
 * §2: the failover guarantees hold with HTTP workers in front of each
 * node's one primary):
 *
 * - the sequencer's primary stopped with SIGSTOP past its lease (its
 *   workers still take requests) and continued with SIGCONT commits and
 *   signs nothing (its events say so, and every checkpoint either node
 *   recorded is consistent with the new sequencer's tree) while another
 *   node took over;
 * - /metrics on any worker add up every process of the node;
 * - PostgreSQL crashing under load (`pg_ctl stop -m immediate`): every node
 *   answers 503 with Retry-After meanwhile, /healthz says the database is
 *   unreachable, and the log recovers without restarting any node;
 * - then SIGKILL of the sequencer's primary under load: its workers exit by
 *   themselves, the other node takes over, nothing acknowledged is lost, no
 *   checkpoint a node signed is off the final tree, and SIGTERM stops the
 *   survivor and all its workers with exit code 0.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { audit } from './audit.js';
import { alive, checkNothingLost, events, fresh, Load, logKey, metric, postWithin, recordSize, sequencerAfter, sleep, startNodes, workerPids, type Node } from './cluster-fixture.js';
import { makeEntry, post, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';

const CLUSTER = join(process.cwd(), '.ci', 'pg-cluster');
/**
 * .ci/pg-cluster, without blocking the event loop: the other test of this
 * file runs meanwhile, and the nodes' stderr pipes must keep being read.
 */
const pgCluster = async (...args: string[]): Promise<string> => (await promisify(execFile)(CLUSTER, args, { encoding: 'utf8' })).stdout;
/** Every node here runs HTTP workers in front of its primary (issue 11: failover under several workers). */
const WORKERS = 2;

// The two tests share nothing (a database each, the second on a PostgreSQL cluster of its own) and
// mostly wait on processes and timers: they run side by side.
t.jobs = 2;

t.test('SIGSTOP of the sequencer past its lease, then SIGCONT: it commits and signs nothing', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const dir = tempDir();
  const key = logKey(dir);
  const nodes = await startNodes(t, url, key.path, ['a', 'b'], dir, { workers: WORKERS });
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
  const stuck = postWithin(paused.base, makeEntry(), 90_000).catch((err: Error) => ({ status: 0, json: err.message, headers: new Headers() }));
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
  // Its record now holds what it took up as a follower: a checkpoint of the new sequencer's tree (audited below).
  t.ok(recordSize(paused, key.vkey) >= recordBefore, `its record did not go back (${recordSize(paused, key.vkey)} >= ${recordBefore})`);
  notes.push(readFileSync(paused.state, 'utf8'), readFileSync(other.state, 'utf8'));
  const final = await audit(other.base, key.vkey, notes);
  // 4 before the pause, 3 during it, 1 after it, and the held one if it was answered 201 (it may get 503).
  const answered = 8 + (late.status === 201 ? 1 : 0);
  t.ok(final.size >= answered, `the new sequencer's tree holds every entry answered 201 (${answered}; its size is ${final.size})`);
  const seenByPaused = await audit(paused.base, key.vkey, notes);
  t.equal(seenByPaused.size, final.size, 'the woken node follows and serves the same tree');
});

/** The value of the sample `line` (e.g. `vitrine_submissions_total{outcome="new"}`) in the node's /metrics, 0 if absent. */
async function sample(n: Node, line: string): Promise<number> {
  const text = (await fresh(`${n.base}/metrics`)).text;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

t.test('two nodes with --workers 2: metrics add up, PostgreSQL crash under load, SIGKILL of the sequencer, nothing lost, graceful stop', async (t) => {
  if (!existsSync('/usr/lib/postgresql/15/bin/pg_ctl') && !process.env['PG_BIN']) {
    if (process.env['CI'] === 'true') t.fail('PostgreSQL binaries are missing under CI=true');
    else t.pass('skipped: no PostgreSQL binaries (/usr/lib/postgresql/15/bin)');
    return;
  }
  // A cluster of its own: stopping the shared one would break the tests running beside this one.
  const out = await pgCluster('start');
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const pgDir = env['VITRINE_TEST_PG_DIR']!;
  t.teardown(() => pgCluster('destroy', pgDir));
  const dir = tempDir();
  const key = logKey(dir);
  const nodes = await startNodes(t, env['VITRINE_TEST_PG_URL']!, key.path, ['a', 'b'], dir, { workers: WORKERS });
  for (const n of nodes) t.equal(workerPids(n).length, WORKERS, `${n.name} runs ${WORKERS} HTTP workers`);
  const first = await sequencerAfter(nodes, 0);
  t.match(await metric(first.node.base, 'vitrine_sequencing{'), new RegExp(`^vitrine_sequencing\\{node="${first.node.name}"\\} 1$`), 'the sequencer says so in /metrics, whichever worker answers');

  // /metrics add up across the workers of each node: six submissions at each node, each on a
  // connection of its own, which node:cluster hands to the workers in turn (three each).
  const counted = {
    fresh: (n: Node) => sample(n, 'vitrine_submissions_total{outcome="new"}'),
    batched: (n: Node) => sample(n, 'vitrine_batch_entries_sum'),
  };
  const before = await Promise.all(nodes.map(async (n) => ({ fresh: await counted.fresh(n), batched: await counted.batched(n) })));
  const direct = new Map<string, number>();
  const metricsPhase = new Load(t, { logKey: key.vkey });
  for (const n of nodes) {
    for (let i = 0; i < 6; i++) {
      const e = makeEntry();
      // 503 (the lease moving on a loaded machine) is retried as a client does, each time on a new connection.
      for (let attempt = 0; attempt < 100; attempt++) {
        const r = await fresh(`${n.base}/v1/entries`, 'POST', e);
        const answer = { status: r.status, json: JSON.parse(r.text), headers: new Headers(r.headers as Record<string, string>) };
        metricsPhase.record(n, e, answer);
        if (r.status === 201) direct.set(n.name, (direct.get(n.name) ?? 0) + 1);
        if (r.status !== 503) break;
        await sleep(100);
      }
    }
  }
  t.equal(metricsPhase.wrong, '', 'the twelve submissions are answered with bundles that verify');
  t.equal(metricsPhase.acked.size, 12, 'all twelve are logged');
  const after = await Promise.all(nodes.map(async (n) => ({ fresh: await counted.fresh(n), batched: await counted.batched(n) })));
  for (const [i, n] of nodes.entries()) {
    // A submission forwarded from the other node counts there and here: at least the 201s answered here.
    const own = direct.get(n.name) ?? 0;
    t.ok(own >= 3 && after[i]!.fresh - before[i]!.fresh >= own, `${n.name}: vitrine_submissions_total{outcome="new"} grew by at least the ${own} answered 201 there, summed over both workers (${after[i]!.fresh - before[i]!.fresh})`);
  }
  const batched = after.reduce((s, x) => s + x.batched, 0) - before.reduce((s, x) => s + x.batched, 0);
  t.equal(batched, 12, "the sequencers' batches (each node's primary registry) hold the 12 entries once");
  const size = metricsPhase.largest;
  for (const n of nodes) {
    let tree = -1;
    for (let i = 0; i < 400 && tree !== size; i++) {
      tree = await sample(n, 'vitrine_tree_size');
      if (tree !== size) await sleep(25);
    }
    t.equal(tree, size, `${n.name}: vitrine_tree_size is the log's size (${size}), not a sum over its processes`);
  }

  // PostgreSQL crashes under load, and comes back.
  const load = new Load(t, { logKey: key.vkey });
  for (const [index, e] of metricsPhase.acked) load.acked.set(index, e);
  for (const [size, note] of metricsPhase.notes) load.notes.set(size, note);
  load.start(6, (i, k) => {
    const up = nodes.filter((n) => !n.dead);
    return up[(i + k) % up.length];
  });
  const unavailable = () => load.statuses.get(503) ?? 0;
  t.ok(await load.waitAcked(20), 'entries are acknowledged through both nodes');
  await pgCluster('stop', pgDir, 'immediate');
  const refusedBefore = unavailable();
  for (let i = 0; i < 400 && unavailable() === refusedBefore; i++) await sleep(25);
  for (const n of nodes) {
    const h = await fetch(`${n.base}/healthz`).catch((err: Error) => {
      t.comment(`${n.name} (exit ${n.proc.child.exitCode}) stderr:\n${n.proc.stderr().slice(-3000)}`);
      throw err;
    });
    t.equal(h.status, 503, `${n.name}: /healthz answers 503 while PostgreSQL is down`);
  }
  t.ok(unavailable() > refusedBefore, 'submissions answered 503 while PostgreSQL was down');
  await pgCluster('up', pgDir);
  t.ok(await load.waitAcked(20), 'the log recovered without restarting a node: 20 more entries acknowledged');
  for (const n of nodes) t.equal((await fetch(`${n.base}/healthz`)).status, 200, `${n.name}: /healthz answers 200 again`);

  // SIGKILL of the sequencer's primary process under load: its workers go with it, the other node takes over.
  const current = await sequencerAfter(nodes, 0);
  const victim = current.node;
  const orphans = workerPids(victim);
  victim.proc.child.kill('SIGKILL');
  victim.dead = true;
  await victim.proc.exited;
  const next = await sequencerAfter(nodes, current.epoch);
  t.not(next.node, victim, `${next.node.name} took over from ${victim.name} (epoch ${next.epoch})`);
  let left = orphans;
  for (let i = 0; i < 800 && left.length > 0; i++) {
    await sleep(25);
    left = left.filter(alive);
  }
  t.same(left, [], `the killed primary's workers (${orphans.join(', ')}) exit by themselves`);
  t.ok(await load.waitAcked(20), 'the log takes entries after the failover: 20 more acknowledged');
  await load.stop();
  t.equal(load.wrong, '', 'every answer was 201/200 with a bundle that verifies, or 503 with Retry-After');
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(load.statuses))}; ${load.acked.size} entries acknowledged`);
  // No fork: the newest checkpoint each node recorded as signed is one of the final tree's too.
  for (const n of nodes) load.notes.set(recordSize(n, key.vkey), readFileSync(n.state, 'utf8'));
  await checkNothingLost(t, nodes, key.vkey, load);

  // Graceful stop of the survivor: exit 0, and every one of its workers is gone.
  const survivor = next.node;
  const workers = workerPids(survivor);
  // Not proc.stop(): it would SIGKILL after 10 s, and a loaded machine may take longer to drain.
  survivor.proc.child.kill('SIGTERM');
  t.equal(await survivor.proc.exited, 0, `${survivor.name} stops on SIGTERM with exit code 0`);
  survivor.dead = true;
  t.equal(events(survivor, 'stopped').length, 1, 'after logging that it stopped');
  t.same(workers.filter(alive), [], `its workers (${workers.join(', ')}) have exited`);
});
