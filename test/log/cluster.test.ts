/**
 * Several `vitrine serve` nodes on one PostgreSQL database, as real
 * processes on port 0 (issue 10 §3, docs/operations.md "Running several
 * nodes on PostgreSQL"): submissions spread over every node get the same
 * synchronous answer with a .tlog-proof, wherever they land; followers
 * serve every read path; of six nodes started together (restarting killed
 * ones one by one was too slow on a loaded 2-core machine), the sequencer is
 * killed with SIGKILL five times
 * under load and another node takes over each time (a later lease epoch;
 * how long it took is printed, never asserted: no timing thresholds in
 * tests, and the machine may be loaded); every
 * acknowledged entry stays at its index and every checkpoint any node
 * handed out is consistent with the final tree, audited at every node.
 */
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry } from '../../src/entry/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { checkNothingLost, LEASE_MS, Load, logKey, metric, sequencerAfter, startNodes } from './cluster-fixture.js';
import { makeEntry, post, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';

t.test('six nodes: submissions everywhere, reads everywhere, SIGKILL of the sequencer x5 under load', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const dir = tempDir();
  const key = logKey(dir);
  // Six nodes, started together: five are killed in turn, one is left.
  const nodes = await startNodes(t, url, key.path, ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'], dir);
  // On a starved machine the lease can move between finding the sequencer and reading the
  // metrics: compare with the metrics only a snapshot in which the newest epoch did not change
  // while they were read (a few tries; a lease that never holds still fails below).
  let leader = await sequencerAfter(nodes, 0);
  let followers = nodes.filter((n) => n !== leader.node).slice(0, 2);
  let seen = await Promise.all([leader.node, ...followers].map((n) => metric(n.base, 'vitrine_sequencing{')));
  for (let tries = 1; tries < 5; tries++) {
    const now = await sequencerAfter(nodes, 0);
    if (now.epoch === leader.epoch) break;
    leader = now;
    followers = nodes.filter((n) => n !== leader.node).slice(0, 2);
    seen = await Promise.all([leader.node, ...followers].map((n) => metric(n.base, 'vitrine_sequencing{')));
  }
  t.pass(`one node (${leader.node.name}) sequences, with epoch ${leader.epoch}`);
  t.match(seen[0], new RegExp(`^vitrine_sequencing\\{node="${leader.node.name}"\\} 1$`), 'the sequencer says so in its metrics');
  followers.forEach((f, i) => t.match(seen[i + 1], new RegExp(`^vitrine_sequencing\\{node="${f.name}"\\} 0$`), `${f.name} says it does not sequence`));

  // A submission at a follower is forwarded, and answered with the same kind of body.
  const first = makeEntry();
  const viaFollower = await post(followers[0]!.base, first);
  t.equal(viaFollower.status, 201, 'a submission at a follower answers 201');
  t.ok(verifyBundle({ digest: decodeEntry(first).digest }, viaFollower.json.bundle, { logKey: key.vkey }, nodeEd25519).ok, 'with a .tlog-proof that verifies offline');
  const dupAtLeader = await post(leader.node.base, first);
  t.equal(dupAtLeader.status, 200, 'the same entry at the sequencer is a duplicate');
  t.equal(dupAtLeader.json.index, viaFollower.json.index, 'at the same index');
  const dupAtOther = await post(followers[1]!.base, first);
  t.equal(dupAtOther.status, 200, 'and at the other follower too');
  t.equal(dupAtOther.json.index, viaFollower.json.index);
  const badSig = makeEntry();
  badSig[badSig.length - 1]! ^= 1;
  const refused = await post(followers[0]!.base, badSig);
  t.equal(refused.status, 422, 'a follower checks submissions itself: a bad signature is 422 there');

  // Load: clients spread over every live node.
  const load = new Load(t, { logKey: key.vkey });
  load.acked.set(viaFollower.json.index as number, first);
  load.start(6, () => {
    const live = nodes.filter((n) => !n.dead);
    return live[Math.floor(Math.random() * live.length)];
  });
  const takeovers: number[] = [];
  for (let round = 1; round <= 5; round++) {
    t.ok(await load.waitAcked(20), `round ${round}: the log is taking entries`);
    // The current sequencer (the lease may have moved by itself under load).
    leader = await sequencerAfter(nodes, 0);
    const victim = leader.node;
    victim.proc.child.kill('SIGKILL');
    victim.dead = true;
    const killed = Date.now();
    const before = leader.epoch;
    leader = await sequencerAfter(nodes, before);
    takeovers.push(Date.now() - killed);
    t.ok(leader.node !== victim && leader.epoch > before, `round ${round}: another node took the lease under a later epoch (${before} -> ${leader.epoch})`);
  }
  t.ok(await load.waitAcked(20), 'the log is taking entries after the fifth failover');
  await load.stop();
  t.equal(load.wrong, '', 'no wrong answer, no bundle that fails to verify, every 503 with Retry-After');
  t.comment(`takeovers after each kill: ${takeovers.join(', ')} ms with --lease-ms ${LEASE_MS}`);
  t.ok(load.perNode.size >= 4, `acknowledgements came from many nodes (${JSON.stringify(Object.fromEntries(load.perNode))})`);
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(load.statuses))}; ${load.acked.size} entries acknowledged; ${load.notes.size} checkpoints seen`);

  // Every live node serves the same tree, which holds every acknowledged entry at its index.
  await checkNothingLost(t, nodes, key.vkey, load);
});
