/**
 * The plan/read/assemble contract of merkle/proof.ts, input checks that
 * name their parameter (noble style), and docs/formats.md §9 split-view
 * evidence through consistencyRoots without the prepend step.
 */
import t from 'tap';
import {
  CompactRange,
  consistencyProof,
  consistencyRoots,
  inclusionProof,
  inclusionProofAsync,
  nodeId,
  planConsistency,
  planInclusion,
  planRoot,
  rootFromInclusionProof,
  rootFromStored,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../merkle/index.js';
import { MalformedError } from '../../src/errors.js';
import { buildTree, hex, mth, vectorLeafHashes } from './reference.js';

const leaves = vectorLeafHashes(64);
const { store } = buildTree(leaves);
const ids = (p: { nodes: readonly { level: number; index: bigint }[] }): string[] => p.nodes.map((n) => `${n.level}/${n.index}`);

t.test('plans name the stored nodes RFC 9162 needs', async (t) => {
  // Leaf 5 of 13: siblings 4, [6,7], [0,4), then the right edge [8,13) = (2,2) + (0,12).
  t.same(ids(planInclusion(5, 13)), ['0/4', '1/3', '2/0', '2/2', '0/12'], 'inclusion of 5 in 13');
  t.same(ids(planInclusion(0, 1)), [], 'a one-leaf tree needs nothing');
  // 5 -> 13: the subtree (0, 4), then 5 (leaf), [6,8), [0,4), [8,13).
  t.same(ids(planConsistency(5, 13)), ['0/4', '0/5', '1/3', '2/0', '2/2', '0/12'], 'consistency 5 -> 13');
  t.same(ids(planConsistency(4, 13)), ['2/1', '2/2', '0/12'], 'consistency 4 -> 13 omits the first root');
  t.same(ids(planConsistency(4, 13, { prependFirstRoot: false })), ['2/0', '2/1', '2/2', '0/12'], 'evidence form includes it');
  t.same(ids(planConsistency(7, 7)), [], 'equal sizes need nothing');
  t.same(ids(planRoot(13)), ['3/0', '2/2', '0/12'], 'the root of 13');
  t.same(ids(planRoot(13)), CompactRange.edgeNodes(13).map((n) => `${n.level}/${n.index}`), 'planRoot reads the compact range edge');
});

t.test('read is called once, and not at all when nothing is needed', async (t) => {
  let calls = 0;
  const read = (x: readonly { level: number; index: bigint }[]) => {
    calls++;
    return store.read(x);
  };
  inclusionProof(7, 40, read);
  t.equal(calls, 1, 'one read for a proof');
  inclusionProof(0, 1, read);
  consistencyProof(9, 9, read);
  rootFromStored(0, read);
  t.equal(calls, 1, 'no read for empty plans');
});

t.test('assemble checks what the reader returned', async (t) => {
  const plan = planInclusion(5, 13);
  const hashes = store.read(plan.nodes);
  t.same(plan.assemble(hashes).map(hex), inclusionProof(5, 13, store.read).map(hex), 'assemble of the read hashes is the proof');
  t.throws(() => plan.assemble(hashes.slice(1)), new MalformedError('hashes: expected 5 hashes (one per planned node), got 4'), 'too few hashes');
  t.throws(() => plan.assemble([...hashes.slice(0, 4), new Uint8Array(31)]), new MalformedError('hashes[4]: must be 32 bytes, got 31'), 'a short hash');
  t.throws(() => inclusionProof(5, 13, () => []), MalformedError, 'a reader that returns nothing');
  await t.rejects(inclusionProofAsync(5, 13, async () => hashes.slice(2)), MalformedError, 'an async reader that returns too few');
  t.throws(() => inclusionProof(5, 13, 'read' as never), TypeError, 'read must be a function');
  t.equal(hex(planRoot(0).assemble([])), hex(mth([])), 'empty tree root');
});

t.test('input checks name the parameter', async (t) => {
  const h = leaves[0]!;
  const cases: [string, () => unknown, string][] = [
    ['planInclusion index >= size', () => planInclusion(13, 13), 'index: 13 is not below size 13'],
    ['planInclusion negative index', () => planInclusion(-1, 13), 'index: -1 is negative'],
    ['planInclusion fractional size', () => planInclusion(0, 1.5), 'size: 1.5 is not a safe integer (pass a bigint for values above 2^53-1)'],
    ['planInclusion NaN', () => planInclusion(NaN, 3), 'index: NaN is not a safe integer (pass a bigint for values above 2^53-1)'],
    ['planInclusion size 2^63', () => planInclusion(0, 2n ** 63n), 'size: 9223372036854775808 is outside 0..2^63-1'],
    ['planConsistency from 0', () => planConsistency(0, 5), 'm: a consistency proof from the empty tree does not exist (m must be at least 1)'],
    ['planConsistency from > to', () => planConsistency(6, 5), 'm: 6 is larger than n 5'],
    ['verifyInclusion short leaf', () => verifyInclusion(h.slice(1), 0, 1, [], h), 'leafHash: must be 32 bytes, got 31'],
    ['verifyInclusion short root', () => verifyInclusion(h, 0, 1, [], h.slice(1)), 'root: must be 32 bytes, got 31'],
    ['verifyInclusion index == size', () => verifyInclusion(h, 1, 1, [], h), 'index: 1 is not below size 1'],
    ['verifyInclusion long proof', () => verifyInclusion(h, 0, 1, [h], h), 'proof: leaf 0 of a tree of 1 takes exactly 0 hashes, got 1'],
    ['verifyConsistency from 0', () => verifyConsistency(0, 1, [], h, h), 'm: a consistency proof from the empty tree does not exist (m must be at least 1)'],
    ['verifyConsistency short element', () => verifyConsistency(1, 2, [h.slice(0, 31)], h, h), 'proof[0]: must be 32 bytes, got 31'],
    ['verifyConsistency equal sizes with a proof', () => verifyConsistency(2, 2, [h], h, h), 'proof: equal sizes takes exactly 0 hashes, got 1'],
    ['nodeId level 63', () => nodeId(63, 0), 'level: 63 is not a tree level in 0..62'],
    ['nodeId beyond 2^63-1', () => nodeId(62, 1), 'index: node (62, 1) ends beyond leaf 2^63-1'],
    ['treeHash short leaf', () => treeHash([h, h.slice(1)]), 'leafHashes[1]: must be 32 bytes, got 31'],
  ];
  for (const [name, f, message] of cases) t.throws(f, new MalformedError(message), name);
  t.throws(() => planInclusion('1' as never, 3), TypeError, 'a string index is a TypeError');
  t.throws(() => verifyInclusion(h, 0, 1, 'x' as never, h), TypeError, 'a string proof is a TypeError');
  t.throws(() => consistencyRoots(4, 13, [h]), TypeError, 'a power-of-two m needs opts.rootM');
  t.throws(() => consistencyRoots(3, 3, []), TypeError, 'equal sizes need opts.rootM');
  t.throws(() => consistencyRoots(3, 5, [h], { prependFirstRoot: 'no' as never }), TypeError, 'prependFirstRoot must be boolean');
  t.same(nodeId(3, 5n), { level: 3, index: 5n }, 'nodeId builds a NodeId');
});

t.test('verifiers return nothing and throw on failure', async (t) => {
  const proof = inclusionProof(5, 13, store.read);
  const root = rootFromStored(13, store.read);
  t.equal(verifyInclusion(leaves[5]!, 5, 13, proof, root), undefined, 'verifyInclusion returns undefined');
  t.equal(hex(rootFromInclusionProof(leaves[5]!, 5, 13, proof)), hex(root), 'rootFromInclusionProof');
  const cp = consistencyProof(5, 13, store.read);
  t.equal(verifyConsistency(5, 13, cp, rootFromStored(5, store.read), root), undefined, 'verifyConsistency returns undefined');
  t.doesNotThrow(() => verifyConsistency(13, 13, [], root, root), 'equal sizes, equal roots, empty proof');
});

t.test('split-view evidence (docs/formats.md §9): the loop without the prepend step', async (t) => {
  // Log A's tree of 8 and a forked tree B of 13 whose first 8 leaves differ in leaf 3.
  const forked = leaves.slice(0, 13);
  forked[3] = leaves[40]!;
  const b = buildTree(forked);
  const rootA = rootFromStored(8, store.read);
  const rootB = rootFromStored(13, b.store.read);
  const evidence = consistencyProof(8, 13, b.store.read, { prependFirstRoot: false });
  t.equal(hex(evidence[0]!), hex(mth(forked.slice(0, 8))), 'proof[0] is B\'s hash of its first 8 leaves');
  const roots = consistencyRoots(8, 13, evidence, { prependFirstRoot: false });
  t.equal(hex(roots.rootN), hex(rootB), 'the proof reproduces B\'s signed root, so its hashes are genuine');
  t.not(hex(roots.rootM), hex(rootA), 'and B\'s first 8 leaves do not hash to A\'s root: a split view');
  t.throws(() => verifyConsistency(8, 13, evidence.slice(1), rootA, rootB), 'the standard verifier rejects the fork');
  // Same evidence for a non-power-of-two m: the two conventions agree.
  const e5 = consistencyProof(5, 13, b.store.read, { prependFirstRoot: false });
  t.same(e5.map(hex), consistencyProof(5, 13, b.store.read).map(hex), 'for m not a power of two both forms are the standard proof');
  const r5 = consistencyRoots(5, 13, e5, { prependFirstRoot: false });
  t.equal(hex(r5.rootM), hex(mth(forked.slice(0, 5))), 'rootM is B\'s first 5 leaves');
  t.not(hex(r5.rootM), hex(rootFromStored(5, store.read)), 'which differ from A\'s tree of 5');
  t.throws(() => consistencyRoots(8, 13, evidence.slice(1), { prependFirstRoot: false }), MalformedError, 'without proof[0] the evidence form is malformed');
});
