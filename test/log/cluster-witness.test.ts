/**
 * The witness quorum with several nodes on one PostgreSQL database (issue 10
 * §3), real processes on port 0: three `vitrine serve` nodes with
 * `--witness` a real witness process (`vitrine monitor --witness-key`) and
 * `--quorum 1`. The sequencer collects the cosignatures; every node answers
 * submissions with cosigned bundles and serves the cosigned checkpoint;
 * after the sequencer is killed with SIGKILL (twice), the node that takes
 * over keeps getting checkpoints cosigned (the witness's latest size for
 * the log is learned, not guessed), and every surviving node keeps serving
 * cosigned checkpoints consistent with every one handed out before, checked
 * by the independent Go client (test/go/tlog-check, which verifies the
 * tlog-cosignature/v1 line itself).
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry } from '../../src/entry/index.js';
import { parseVerifier, verifyCosignatures } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit } from './audit.js';
import { keyFile, killNode, logKey, ORIGIN, sequencerAfter, sleep, startNodes, submitRetrying, type Node } from './cluster-fixture.js';
import { runGoTlogCheck } from './go-tlog.js';
import { makeEntry, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { portOf, startProc } from '../monitor/procs.js';

t.test('three nodes, one witness process: cosigned at every node, through two failovers', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const dir = tempDir();
  const { path: keyPath, vkey } = logKey(dir);
  const wvkey = keyFile(join(dir, 'w1.key'), 'w1.example').cosignerVkey;
  const witnessVerifier = parseVerifier(wvkey);

  const nodes: Node[] = [];
  // The monitor follows the log through one address: this front, which goes to a live node.
  const front = createServer((req, res) => {
    void (async () => {
      try {
        const node = nodes.find((n) => !n.dead);
        if (!node) throw new Error('no node yet');
        const up = await fetch(`${node.base}${req.url}`);
        const body = new Uint8Array(await up.arrayBuffer());
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(502).end();
      }
    })();
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    front.closeAllConnections();
    return new Promise<void>((r) => front.close(() => r()));
  });
  const frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const monitor = startProc([
    'monitor', '--state', join(dir, 'mon'), '--init', '--log', frontUrl, '--log-key', vkey,
    '--listen', '127.0.0.1:0', '--witness-key', join(dir, 'w1.key'), '--interval', '1', '--workers', '0',
  ]);
  t.teardown(() => monitor.stop('SIGKILL'));
  const witnessUrl = `http://127.0.0.1:${portOf(await monitor.waitEvent('listen', 60_000))}`;

  nodes.push(...(await startNodes(t, url, keyPath, ['w1', 'w2', 'w3'], dir, {
    extra: ['--witness', `${witnessUrl}=${wvkey}`, '--quorum', '1', '--witness-timeout', '30000'],
  })));

  const notes: string[] = [];
  let bad = '';
  /** Submits a new entry at `node`, retrying 503 (a failover, a witness not yet reached) as a client does. */
  const submitAt = async (node: Node): Promise<void> => {
    const e = makeEntry();
    const r = await submitRetrying(node, e);
    if (!r) {
      bad ||= `${node.name} kept answering 503`;
      return;
    }
    if (r.status !== 201 && r.status !== 200) {
      bad ||= `${node.name} answered ${r.status}: ${JSON.stringify(r.json)}`;
      return;
    }
    const v = verifyBundle({ digest: decodeEntry(e).digest }, r.json.bundle, { logKey: vkey, witnesses: [wvkey], quorum: 1 }, nodeEd25519);
    if (!v.ok) bad ||= `the bundle ${node.name} gave for index ${r.json.index} does not verify with the witness: ${v.message}`;
    notes.push(r.json.checkpoint);
  };
  /** Waits until every live node serves a checkpoint of `size` cosigned by the witness, then runs the Go check there. */
  const checkEveryNode = async (size: number, phase: string) => {
    for (const n of nodes.filter((x) => !x.dead)) {
      let served = '';
      for (let i = 0; i < 600; i++) {
        served = await (await fetch(`${n.base}/checkpoint`)).text();
        if (served.split('\n')[1] === String(size) && verifyCosignatures(served, [witnessVerifier], nodeEd25519).length === 1) break;
        await sleep(25);
      }
      t.equal(served.split('\n')[1], String(size), `${phase}: ${n.name} serves the checkpoint of ${size}`);
      t.equal(verifyCosignatures(served, [witnessVerifier], nodeEd25519).length, 1, `${phase}: ${n.name} serves it cosigned by the witness`);
      const bySize = [...new Map(notes.map((x) => [x.split('\n')[1], x])).values()];
      const go = await runGoTlogCheck(n.base, vkey, { witnesses: [wvkey], earlier: bySize, proofs: 8 });
      t.equal(go.status, 0, `${phase}: the Go check passes at ${n.name}, cosignature included${go.status === 0 ? '' : `: ${go.stderr}`}`);
      t.same(go.summary?.cosigned, ['w1.example'], `${phase}: Go verifies the tlog-cosignature/v1 of w1.example at ${n.name}`);
      t.equal(go.summary?.consistent, bySize.length, `${phase}: all ${bySize.length} checkpoint sizes handed out so far are prefixes of ${n.name}'s tree`);
    }
  };

  let leader = await sequencerAfter(nodes, 0);
  await Promise.all(Array.from({ length: 30 }, (_, i) => submitAt(nodes[i % 3]!)));
  t.equal(bad, '', 'every submission at every node is answered with a bundle cosigned by the witness');
  await checkEveryNode(30, 'before any failover');

  let size = 30;
  for (const round of [1, 2]) {
    const victim = leader.node;
    await killNode(victim);
    leader = await sequencerAfter(nodes, leader.epoch);
    t.pass(`failover ${round}: ${leader.node.name} took over from ${victim.name} (epoch ${leader.epoch})`);
    const live = nodes.filter((n) => !n.dead);
    await Promise.all(Array.from({ length: 10 }, (_, i) => submitAt(live[i % live.length]!)));
    size += 10;
    t.equal(bad, '', `failover ${round}: the new sequencer's answers at every live node are cosigned and verify`);
    await checkEveryNode(size, `after failover ${round}`);
  }

  // The witness itself: it cosigned the final tree, and the whole tree is one tree.
  const hash = createHash('sha256').update(ORIGIN).digest('hex');
  const cosigned = await (await fetch(`${witnessUrl}/${hash}/checkpoint`)).text();
  t.equal(cosigned.split('\n')[1], String(size), `the witness's latest cosigned checkpoint for the log is of size ${size}`);
  const other = keyFile(join(dir, 'other.key'), 'w1.example').cosignerVkey;
  const wrong = await runGoTlogCheck(leader.node.base, vkey, { witnesses: [other], proofs: 0 });
  t.equal(wrong.status, 1, 'the Go check fails for a witness key of the same name that did not cosign');
  t.match(wrong.stderr, /carries no cosignature of w1\.example/, `saying so (${wrong.stderr.trim()})`);
  const final = await audit(leader.node.base, vkey, notes);
  t.equal(final.size, size, `the reference audit of the last node agrees with all ${notes.length} checkpoints handed out`);
});
