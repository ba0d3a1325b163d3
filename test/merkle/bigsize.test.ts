/**
 * Sizes and indices up to 2^63-1 (docs/formats.md §0): planning,
 * generation and RFC 9162 verification on a consistent synthetic tree that
 * big, compact ranges at the edge of the range, and number/bigint inputs.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  CompactRange,
  consistencyProof,
  inclusionProof,
  MAX_SIZE,
  planInclusion,
  ProofError,
  rootFromInclusionProof,
  rootFromStored,
  verifyConsistency,
  verifyInclusion,
} from '../../merkle/index.js';
import { MalformedError } from '../../src/errors.js';
import { flipBit, hex } from './reference.js';
import { SyntheticTree } from './synthetic.js';

const MAX = 2n ** 63n - 1n;

t.test('MAX_SIZE is 2^63-1', async (t) => {
  t.equal(MAX_SIZE, MAX, 'MAX_SIZE');
});

t.test('inclusion at 2^63-1', async (t) => {
  for (const index of [0n, 1n, 2n ** 62n - 1n, 2n ** 62n, MAX - 2n, MAX - 1n, 1234567890123456789n]) {
    const tree = new SyntheticTree(index);
    const root = rootFromStored(MAX, tree.read);
    const proof = inclusionProof(index, MAX, tree.read);
    t.ok(proof.length >= 62 && proof.length <= 63 + 62, `leaf ${index}: proof of ${proof.length} hashes`);
    t.doesNotThrow(() => verifyInclusion(tree.leaf(index), index, MAX, proof, root), `leaf ${index} verifies`);
    t.equal(hex(rootFromInclusionProof(tree.leaf(index), index, MAX, proof)), hex(root), `leaf ${index}: root from proof`);
    t.throws(() => verifyInclusion(tree.leaf(index), index, MAX, proof.slice(0, -1), root), MalformedError, `leaf ${index}: truncated proof is malformed`);
    const bad = proof.slice();
    bad[proof.length - 1] = flipBit(bad[proof.length - 1]!, 0);
    t.throws(() => verifyInclusion(tree.leaf(index), index, MAX, bad, root), ProofError, `leaf ${index}: flipped top element fails`);
  }
  t.throws(() => planInclusion(MAX, MAX), MalformedError, 'index 2^63-1 is not in a tree of 2^63-1');
});

t.test('random inclusion proofs in huge trees', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }), (size, x) => {
        const index = x % size;
        const tree = new SyntheticTree(index);
        const root = rootFromStored(size, tree.read);
        const proof = inclusionProof(index, size, tree.read);
        verifyInclusion(tree.leaf(index), index, size, proof, root);
        if (proof.length > 0) {
          const bad = proof.slice();
          bad[0] = flipBit(bad[0]!, 100);
          let failed = false;
          try {
            verifyInclusion(tree.leaf(index), index, size, bad, root);
          } catch (err) {
            failed = err instanceof ProofError;
          }
          if (!failed) throw new Error(`mutated proof of ${index} in ${size} was not a ProofError`);
        }
      }),
      { numRuns: 300 },
    ),
  'proofs verify, mutations fail');
});

t.test('consistency up to 2^63-1', async (t) => {
  const tree = new SyntheticTree(3n);
  const cases: [bigint, bigint][] = [
    [1n, MAX],
    [2n ** 62n, MAX],
    [2n ** 62n + 1n, MAX],
    [MAX - 1n, MAX],
    [MAX, MAX],
    [2n ** 53n + 1n, 2n ** 60n + 12345n],
  ];
  for (const [m, n] of cases) {
    const proof = consistencyProof(m, n, tree.read);
    const rm = rootFromStored(m, tree.read);
    const rn = rootFromStored(n, tree.read);
    t.doesNotThrow(() => verifyConsistency(m, n, proof, rm, rn), `${m} -> ${n} verifies (${proof.length} hashes)`);
    if (proof.length > 0) t.throws(() => verifyConsistency(m, n, proof.slice(1), rm, rn), MalformedError, `${m} -> ${n}: dropping proof[0] is malformed`);
    t.throws(() => verifyConsistency(m, n, proof, rm, flipBit(rn, 5)), ProofError, `${m} -> ${n}: wrong second root`);
  }
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }), (n, x, p) => {
        const m = (x % n) + 1n;
        const tr = new SyntheticTree(p % n);
        verifyConsistency(m, n, consistencyProof(m, n, tr.read), rootFromStored(m, tr.read), rootFromStored(n, tr.read));
      }),
      { numRuns: 300 },
    ),
  'random consistency proofs in huge trees verify');
});

t.test('numbers and bigints are interchangeable; unsafe numbers are refused', async (t) => {
  const tree = new SyntheticTree(5n);
  const a = inclusionProof(5, 1000, tree.read).map(hex);
  const b = inclusionProof(5n, 1000n, tree.read).map(hex);
  t.same(a, b, 'same proof for number and bigint arguments');
  const big = 2 ** 53;
  t.throws(() => planInclusion(0, big), new MalformedError(`size: ${big} is not a safe integer (pass a bigint for values above 2^53-1)`), '2^53 as a number');
  t.doesNotThrow(() => planInclusion(0, 2n ** 53n), '2^53 as a bigint');
  t.doesNotThrow(() => planInclusion(0, Number.MAX_SAFE_INTEGER), 'MAX_SAFE_INTEGER as a number');
});

t.test('compact ranges at 2^63-1', async (t) => {
  const ids = CompactRange.edgeNodes(MAX);
  t.equal(ids.length, 63, 'the edge of 2^63-1 has 63 nodes');
  t.same(ids.map((id) => id.level), Array.from({ length: 63 }, (_, i) => 62 - i), 'levels 62 down to 0');
  t.equal(ids[62]!.index, MAX - 1n, 'the last is the leaf 2^63-2');
  const tree = new SyntheticTree(MAX - 2n);
  const range = new CompactRange(MAX - 1n, tree.read(CompactRange.edgeNodes(MAX - 1n)));
  const added = range.append(tree.leaf(MAX - 1n));
  t.same(added.map((n) => [n.level, n.index]), [[0, MAX - 1n]], 'appending leaf 2^63-2 closes no subtree');
  t.equal(range.size, MAX, 'size is 2^63-1');
  t.equal(hex(range.root()), hex(rootFromStored(MAX, tree.read)), 'root matches the stored nodes');
  t.throws(() => range.append(tree.leaf(0n)), MalformedError, 'a tree of 2^63-1 leaves is full');
  const full = new CompactRange(2n ** 62n - 1n, tree.read(CompactRange.edgeNodes(2n ** 62n - 1n)));
  const closed = full.append(tree.leaf(2n ** 62n - 1n));
  t.equal(closed.length, 63, 'the 2^62-th leaf closes 62 subtrees');
  t.same([closed[62]!.level, closed[62]!.index], [62, 0n], 'the last closed subtree is (62, 0)');
  t.equal(hex(closed[62]!.hash), hex(tree.hash({ level: 62, index: 0n })), 'its hash is the tree of 2^62 leaves');
});
