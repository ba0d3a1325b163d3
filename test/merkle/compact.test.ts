/**
 * CompactRange (the right edge of an RFC 9162 §2.1 tree): the stored nodes
 * each append produces, restarting from a stored edge, and its input checks.
 */
import t from 'tap';
import fc from 'fast-check';
import { CompactRange, EMPTY_ROOT, rootFromStored, type StoredNode } from '../../merkle/index.js';
import { MalformedError } from '../../src/errors.js';
import { buildTree, hex, mth, vectorLeafHashes } from './reference.js';

const leaves = vectorLeafHashes(600);
const ids = (nodes: readonly { level: number; index: bigint }[]): string[] => nodes.map((n) => `${n.level}/${n.index}`);

t.test('append returns the leaf and every subtree it closes, lowest first', async (t) => {
  const r = new CompactRange();
  t.same(ids(r.append(leaves[0]!)), ['0/0'], 'leaf 0');
  t.same(ids(r.append(leaves[1]!)), ['0/1', '1/0'], 'leaf 1 closes (1, 0)');
  t.same(ids(r.append(leaves[2]!)), ['0/2'], 'leaf 2');
  t.same(ids(r.append(leaves[3]!)), ['0/3', '1/1', '2/0'], 'leaf 3 closes (1, 1) and (2, 0)');
  const added = r.append(leaves[4]!);
  t.equal(hex(added[0]!.hash), hex(leaves[4]!), 'the level-0 node is the leaf hash');
  t.not(added[0]!.hash, leaves[4], 'a copy of it');
});

t.test('over n appends, the nodes produced are exactly the complete subtrees, with their MTH', async (t) => {
  const all: StoredNode[] = [];
  const r = new CompactRange();
  const n = 300;
  for (const l of leaves.slice(0, n)) all.push(...r.append(l));
  const want: string[] = [];
  for (let level = 0; 2 ** level <= n; level++) for (let k = 0; (k + 1) * 2 ** level <= n; k++) want.push(`${level}/${k}`);
  t.same(ids(all).sort(), want.sort(), 'every complete subtree once');
  for (const node of all.filter((x) => x.level > 0 && Number(x.index) % 7 === 0)) {
    const lo = Number(node.index) * 2 ** node.level;
    t.equal(hex(node.hash), hex(mth(leaves.slice(lo, lo + 2 ** node.level))), `(${node.level}, ${node.index}) is the MTH of its leaves`);
  }
});

t.test('edge, restart and clone', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 100 }), (n, more) => {
        const { range, store } = buildTree(leaves.slice(0, n));
        const edge = CompactRange.edgeNodes(n);
        if (hex(Buffer.concat(range.hashes())) !== hex(Buffer.concat(store.read(edge)))) throw new Error('hashes() are the edge nodes');
        if (edge.length !== n.toString(2).replace(/0/g, '').length) throw new Error('one edge node per set bit');
        const restarted = new CompactRange(BigInt(n), store.read(edge));
        const copy = range.clone();
        for (const l of leaves.slice(n, n + more)) {
          const a = range.append(l);
          const b = restarted.append(l);
          if (ids(a).join() !== ids(b).join() || a.map((x) => hex(x.hash)).join() !== b.map((x) => hex(x.hash)).join()) throw new Error('restarted range appends the same nodes');
        }
        if (hex(range.root()) !== hex(restarted.root()) || range.size !== restarted.size) throw new Error('restarted range has the same root');
        if (hex(copy.root()) !== hex(rootFromStored(n, store.read)) || copy.size !== BigInt(n)) throw new Error('a clone is not changed by appends to its original');
      }),
      { numRuns: 100 },
    ),
  'a range rebuilt from its stored edge behaves like the original');
});

t.test('root of the empty range', async (t) => {
  const r = new CompactRange();
  t.equal(r.size, 0n, 'size 0');
  t.equal(hex(r.root()), hex(EMPTY_ROOT), 'EMPTY_ROOT');
  r.root()[0] = 0;
  t.equal(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'returned root is a copy');
  t.same(r.hashes(), [], 'no edge');
  t.same(CompactRange.edgeNodes(0), [], 'no edge nodes');
});

t.test('input checks', async (t) => {
  const h = leaves[0]!;
  t.throws(() => new CompactRange(3, [h]), new MalformedError('hashes: a tree of 3 leaves has 2 edge hashes, got 1'), 'too few edge hashes');
  t.throws(() => new CompactRange(0, [h]), MalformedError, 'hashes for the empty tree');
  t.throws(() => new CompactRange(1, [h.slice(1)]), new MalformedError('hashes[0]: must be 32 bytes, got 31'), 'short edge hash');
  t.throws(() => new CompactRange(-1), MalformedError, 'negative size');
  t.throws(() => new CompactRange(2n ** 63n), MalformedError, 'size 2^63');
  t.throws(() => new CompactRange().append(new Uint8Array(33)), new MalformedError('leafHash: must be 32 bytes, got 33'), '33-byte leaf');
  t.throws(() => new CompactRange().append('x' as unknown as Uint8Array), TypeError, 'string leaf');
  t.throws(() => CompactRange.edgeNodes(1.5), MalformedError, 'fractional size');
});
