/**
 * Several `vitrine serve` nodes on one PostgreSQL database, as real
 * processes on port 0 (issue 10 §3, docs/operations.md "Running several
 * nodes on PostgreSQL"): submissions spread over every node get the same
 * synchronous answer with a .tlog-proof, wherever they land; followers
 * serve every read path; of six nodes started together (restarting killed
 * ones one by one was too slow on a loaded 2-core machine), the sequencer is
 * killed with SIGKILL five times
 * under load and another node takes over each time within 5 s; every
 * acknowledged entry stays at its index and every checkpoint any node
 * handed out is consistent with the final tree, audited at every node.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry } from '../../src/entry/index.js';
import { formatSigner, formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit } from './audit.js';
import { makeEntry, ORIGIN, post, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

const LEASE_MS = 2000;

interface Node {
  name: string;
  proc: Proc;
  base: string;
  dead: boolean;
}

function keyFile(): { path: string; vkey: string } {
  const signer = generateSigner(ORIGIN, nodeEd25519);
  const path = join(tempDir(), 'log.key');
  writeFileSync(path, `${formatSigner(signer)}\n`, { mode: 0o600 });
  return { path, vkey: formatVerifier(verifierFromSigner(signer)) };
}

async function startNode(url: string, key: string, name: string, dir: string): Promise<Node> {
  const proc = startProc([
    'serve', '--storage', url, '--key', key, '--state-file', join(dir, `${name}.state`), '--origin', ORIGIN,
    '--listen', '127.0.0.1:0', '--node-name', name, '--lease-ms', String(LEASE_MS),
  ]);
  const start = await proc.waitEvent('start', 90_000);
  return { name, proc, base: `http://127.0.0.1:${portOf(start)}`, dead: false };
}

/** Every JSON event named `event` a node logged so far. */
function events(node: Node, event: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of node.proc.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      if (e['event'] === event) out.push(e);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** The live node that took the lease with the highest epoch above `after`, once there is one. */
async function leaderAfter(nodes: Node[], after: number, timeoutMs = 20_000): Promise<{ node: Node; epoch: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let best: { node: Node; epoch: number } | undefined;
    for (const node of nodes) {
      if (node.dead) continue;
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

async function metric(base: string, name: string): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(name)) ?? '';
}

t.test('six nodes: submissions everywhere, reads everywhere, SIGKILL of the sequencer x5 under load', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const key = keyFile();
  const dir = tempDir();
  const nodes: Node[] = [];
  t.teardown(() => Promise.all(nodes.map((n) => n.proc.stop('SIGKILL'))));
  // Six nodes, started together: five are killed in turn, one is left.
  nodes.push(...(await Promise.all(['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((name) => startNode(url, key.path, name, dir)))));
  let leader = await leaderAfter(nodes, 0);
  t.pass(`one node (${leader.node.name}) sequences, with epoch ${leader.epoch}`);
  const followers = nodes.filter((n) => n !== leader.node).slice(0, 2);
  t.match(await metric(leader.node.base, 'vitrine_sequencing{'), new RegExp(`^vitrine_sequencing\\{node="${leader.node.name}"\\} 1$`), 'the sequencer says so in its metrics');
  for (const f of followers) t.match(await metric(f.base, 'vitrine_sequencing{'), new RegExp(`^vitrine_sequencing\\{node="${f.name}"\\} 0$`), `${f.name} says it does not sequence`);

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
  const acked = new Map<number, Uint8Array>();
  const notes = new Map<number, string>();
  const perNode = new Map<string, number>();
  const statuses = new Map<number, number>();
  let wrong = '';
  let running = true;
  const client = async () => {
    while (running) {
      const live = nodes.filter((n) => !n.dead);
      const node = live[Math.floor(Math.random() * live.length)];
      if (!node) {
        await new Promise((res) => setTimeout(res, 50));
        continue;
      }
      const e = makeEntry();
      const r = await post(node.base, e).catch(() => undefined);
      if (!r) continue;
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 201 || r.status === 200) {
        const index = r.json.index as number;
        const had = acked.get(index);
        if (had && Buffer.compare(had, e) !== 0) wrong ||= `two different entries were acknowledged at index ${index}`;
        acked.set(index, e);
        perNode.set(node.name, (perNode.get(node.name) ?? 0) + 1);
        if (!verifyBundle({ digest: decodeEntry(e).digest }, r.json.bundle, { logKey: key.vkey }, nodeEd25519).ok) wrong ||= `the bundle for index ${index} does not verify`;
        notes.set(Number(String(r.json.checkpoint).split('\n')[1]), r.json.checkpoint);
      } else if (r.status === 503) {
        if (!/^[1-9][0-9]*$/.test(r.headers.get('retry-after') ?? '')) wrong ||= '503 without Retry-After';
        await new Promise((res) => setTimeout(res, 50));
      } else {
        wrong ||= `unexpected status ${r.status}: ${JSON.stringify(r.json)}`;
      }
    }
  };
  const clients = Array.from({ length: 6 }, client);
  const waitAcked = async (more: number) => {
    const want = acked.size + more;
    for (let i = 0; i < 300 && acked.size < want; i++) await new Promise((r) => setTimeout(r, 50));
    return acked.size >= want;
  };
  const takeovers: number[] = [];
  for (let round = 1; round <= 5; round++) {
    t.ok(await waitAcked(20), `round ${round}: the log is taking entries`);
    // The current sequencer (the lease may have moved by itself under load).
    leader = await leaderAfter(nodes, 0);
    const victim = leader.node;
    victim.proc.child.kill('SIGKILL');
    victim.dead = true;
    const killed = Date.now();
    leader = await leaderAfter(nodes, leader.epoch);
    takeovers.push(Date.now() - killed);
  }
  t.ok(await waitAcked(20), 'the log is taking entries after the fifth failover');
  running = false;
  await Promise.all(clients);
  t.equal(wrong, '', 'no wrong answer, no bundle that fails to verify, every 503 with Retry-After');
  t.ok(takeovers.every((ms) => ms < 5000), `every takeover within 5 s of the kill (${takeovers.join(', ')} ms with --lease-ms ${LEASE_MS})`);
  t.ok(perNode.size >= 4, `acknowledgements came from many nodes (${JSON.stringify(Object.fromEntries(perNode))})`);
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}; ${acked.size} entries acknowledged; ${notes.size} checkpoints seen`);

  // Every live node serves the same tree, which holds every acknowledged entry at its index.
  const live = nodes.filter((n) => !n.dead);
  const size = Math.max(...acked.keys()) + 1;
  for (const n of live) {
    let got;
    for (let i = 0; i < 100; i++) {
      got = await audit(n.base, key.vkey);
      if (got.size >= size) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(got!.size >= size, `${n.name} serves a tree of at least ${size} (it serves ${got!.size})`);
  }
  const all = [...notes.values()];
  const final = await audit(live[0]!.base, key.vkey, all);
  t.pass(`all ${all.length} checkpoints handed out by any node are consistent with the final tree of ${final.size}`);
  let lost = 0;
  for (const [index, e] of acked) if (Buffer.compare(final.entries[index] ?? new Uint8Array(), e) !== 0) lost++;
  t.equal(lost, 0, `every one of the ${acked.size} acknowledged entries is at its index`);
  for (const n of live.slice(1)) {
    const other = await audit(n.base, key.vkey, all.slice(-20));
    t.ok(other.size >= final.size || Buffer.compare(final.entries[other.size - 1]!, other.entries[other.size - 1]!) === 0, `${n.name}'s tree is the same tree`);
  }
});
