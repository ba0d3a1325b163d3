/**
 * The Go-compatible checks of the read API at EVERY node of a three-node
 * PostgreSQL log (issue 10 §6), real `vitrine serve` processes on port 0:
 * submissions spread over all nodes, then at each node the independent Go
 * client test/go/tlog-check (golang.org/x/mod/sumdb/{note,tlog}) opens the
 * checkpoint with Go's note package, rebuilds the tree from the entry
 * bundles with tlog.StoredHashes and compares every hash tile with
 * tlog.ReadTileData, proves records from the served tiles and checks the
 * node's own inclusion and consistency proofs with tlog.CheckRecord and
 * tlog.CheckTree; and the test's own reference audit (audit.ts). A node
 * whose tile was tampered with on the way (a proxy flipping one byte) fails
 * the Go check, so the check is not one that cannot fail.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry } from '../../src/entry/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit } from './audit.js';
import { logKey, ORIGIN, startNodes, submitRetrying, waitServed, type Node } from './cluster-fixture.js';
import { runGoTlogCheck } from './go-tlog.js';
import { makeEntry, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';

t.test('three nodes on one database: the Go tlog/note checks pass at every node', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const dir = tempDir();
  const { path: keyPath, vkey } = logKey(dir);
  const began = Date.now();
  const nodes = await startNodes(t, url, keyPath, ['g1', 'g2', 'g3'], dir);
  t.comment(`three nodes started in ${Date.now() - began} ms`);

  // 300 entries (a full level-0 tile, a partial one, and a level-1 tile),
  // round-robin over the nodes, 30 at a time; 503 pushback is retried as a client does.
  const notes: string[] = [];
  const perNode = new Map<string, number>();
  let bad = '';
  const submitAt = async (node: Node): Promise<void> => {
    const e = makeEntry();
    const r = await submitRetrying(node, e, 100);
    if (!r) {
      bad ||= `${node.name} kept answering 503`;
      return;
    }
    if (r.status !== 201) {
      bad ||= `${node.name} answered ${r.status}: ${JSON.stringify(r.json)}`;
      return;
    }
    if (!verifyBundle({ digest: decodeEntry(e).digest }, r.json.bundle, { logKey: vkey }, nodeEd25519).ok) bad ||= `the bundle ${node.name} gave for index ${r.json.index} does not verify`;
    notes.push(r.json.checkpoint);
    perNode.set(node.name, (perNode.get(node.name) ?? 0) + 1);
  };
  for (let k = 0; k < 300; k += 30) await Promise.all(Array.from({ length: 30 }, (_, i) => submitAt(nodes[(k + i) % 3]!)));
  t.comment(`300 submissions answered ${Date.now() - began} ms after the start`);
  t.equal(bad, '', 'every submission at every node answered 201 with a bundle that verifies');
  t.same([...perNode.keys()].sort(), ['g1', 'g2', 'g3'], `each node answered its share (${JSON.stringify(Object.fromEntries(perNode))})`);

  // Followers poll the database: wait until every node serves the whole tree.
  for (const n of nodes) t.equal(await waitServed(n, 300), 300, `${n.name} serves the tree of 300`);

  // A few earlier checkpoints, of different sizes, handed out by any node.
  const bySize = new Map(notes.map((n) => [Number(n.split('\n')[1]), n]));
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const earlier = [sizes[0]!, sizes[Math.floor(sizes.length / 3)]!, sizes[Math.floor((2 * sizes.length) / 3)]!, sizes[sizes.length - 1]!].map((s) => bySize.get(s)!);
  const roots = new Set<string>();
  for (const n of nodes) {
    const r = await runGoTlogCheck(n.base, vkey, { earlier, proofs: 40 });
    t.equal(r.status, 0, `the Go check passes at ${n.name}${r.status === 0 ? '' : `: ${r.stderr}`}`);
    t.equal(r.summary?.origin, ORIGIN, `${n.name}: Go's note package opens its checkpoint for ${ORIGIN}`);
    t.equal(r.summary?.size, 300, `${n.name}: Go rebuilds the signed root from its 300 entries`);
    t.equal(r.summary?.tiles, 46, `${n.name}: every hash tile it serves, full and each partial width (tlog.NewTiles(8, 0, 300): tile/0/000, tile/0/001.p/1..44, tile/1/000.p/1), is Go's, byte for byte`);
    t.equal(r.summary?.proved, 43, `${n.name}: record proofs from its tiles and its own inclusion proofs pass tlog.CheckRecord`);
    t.equal(r.summary?.consistent, earlier.length, `${n.name}: its consistency proofs from ${earlier.length} earlier checkpoints pass tlog.CheckTree`);
    if (r.summary) roots.add(r.summary.root);
    // Every checkpoint handed out is checked once (at the first node); the same few at the others.
    const seen = n === nodes[0] ? notes : earlier;
    const ours = await audit(n.base, vkey, seen);
    t.equal(ours.size, 300, `${n.name}: the reference audit agrees, with ${seen.length} checkpoints handed out`);
  }
  t.comment(`Go checks and audits done ${Date.now() - began} ms after the start`);
  t.equal(roots.size, 1, 'every node serves the same root');

  // The Go check fails on a node whose hash tile is altered on the way.
  const target = new URL(nodes[1]!.base);
  const proxy = createServer((req, res) => {
    void (async () => {
      const up = await fetch(`${target.origin}${req.url}`);
      const body = new Uint8Array(await up.arrayBuffer());
      if (req.url === '/tile/0/000') body[100]! ^= 1;
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(body);
    })();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())));
  const tampered = await runGoTlogCheck(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, vkey);
  t.equal(tampered.status, 1, 'the Go check fails when one byte of a tile is changed');
  t.match(tampered.stderr, /tile\/0\/000 is not the tile Go computes from the entries/, `and names the tile (${tampered.stderr.trim()})`);
});
