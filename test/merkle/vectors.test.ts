/**
 * The reference vectors (vectors/merkle/*.json, generated with Go's
 * golang.org/x/mod/sumdb/tlog over leaves "leaf <i>"): RFC 9162 §2.1 roots,
 * inclusion proofs and consistency proofs, through every path that computes
 * them: treeHash, CompactRange, stored nodes, planned proofs, verification.
 */
import t from 'tap';
import {
  CompactRange,
  consistencyProof,
  consistencyProofAsync,
  consistencyRoots,
  inclusionProof,
  inclusionProofAsync,
  rootFromInclusionProof,
  rootFromStored,
  rootFromStoredAsync,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../merkle/index.js';
import { buildTree, hex, loadVectors, mth, unhex, vectorLeafHashes } from './reference.js';

interface Roots { cases: { size: number; root: string }[] }
interface Inclusion { cases: { index: number; size: number; leafHash: string; proof: string[] }[] }
interface Consistency { cases: { from: number; to: number; proof: string[] }[] }

const roots = loadVectors<Roots>('merkle/roots.json').cases;
const inclusion = loadVectors<Inclusion>('merkle/inclusion.json').cases;
const consistency = loadVectors<Consistency>('merkle/consistency.json').cases;
const maxSize = Math.max(...roots.map((c) => c.size));
const leaves = vectorLeafHashes(maxSize);
const { store } = buildTree(leaves);
const rootOf = new Map(roots.map((c) => [c.size, unhex(c.root)]));

t.test('vectors are present', async (t) => {
  t.ok(roots.length >= 300, `roots.json has ${roots.length} cases`);
  t.ok(inclusion.length >= 800, `inclusion.json has ${inclusion.length} cases`);
  t.ok(consistency.length >= 800, `consistency.json has ${consistency.length} cases`);
});

t.test('roots', async (t) => {
  const range = new CompactRange();
  for (const c of roots) {
    while (range.size < BigInt(c.size)) range.append(leaves[Number(range.size)]!);
    const want = c.root;
    const prefix = leaves.slice(0, c.size);
    t.equal(hex(treeHash(prefix)), want, `treeHash of ${c.size} leaves`);
    t.equal(hex(range.root()), want, `CompactRange root at size ${c.size}`);
    t.equal(hex(rootFromStored(c.size, store.read)), want, `rootFromStored(${c.size})`);
    t.equal(hex(await rootFromStoredAsync(BigInt(c.size), store.readAsync)), want, `rootFromStoredAsync(${c.size})`);
    t.equal(hex(mth(prefix)), want, `reference MTH of ${c.size} leaves`);
    const restarted = new CompactRange(c.size, range.hashes());
    t.equal(hex(restarted.root()), want, `CompactRange rebuilt from its edge at size ${c.size}`);
  }
});

t.test('inclusion proofs', async (t) => {
  for (const c of inclusion) {
    const name = `leaf ${c.index} of ${c.size}`;
    const want = c.proof;
    const root = rootOf.get(c.size)!;
    t.equal(c.leafHash, hex(leaves[c.index]!), `${name}: leaf hash`);
    const got = inclusionProof(c.index, c.size, store.read);
    t.same(got.map(hex), want, `${name}: generated proof`);
    t.same((await inclusionProofAsync(BigInt(c.index), BigInt(c.size), store.readAsync)).map(hex), want, `${name}: async generated proof`);
    const proof = want.map(unhex);
    t.doesNotThrow(() => verifyInclusion(unhex(c.leafHash), c.index, c.size, proof, root), `${name}: verifies`);
    t.equal(hex(rootFromInclusionProof(unhex(c.leafHash), BigInt(c.index), BigInt(c.size), proof)), hex(root), `${name}: root from proof`);
  }
});

t.test('consistency proofs', async (t) => {
  for (const c of consistency) {
    const name = `${c.from} -> ${c.to}`;
    const want = c.proof;
    const rootM = rootOf.get(c.from)!;
    const rootN = rootOf.get(c.to)!;
    t.same(consistencyProof(c.from, c.to, store.read).map(hex), want, `${name}: generated proof`);
    t.same((await consistencyProofAsync(BigInt(c.from), BigInt(c.to), store.readAsync)).map(hex), want, `${name}: async generated proof`);
    const proof = want.map(unhex);
    t.doesNotThrow(() => verifyConsistency(c.from, c.to, proof, rootM, rootN), `${name}: verifies`);
    const got = consistencyRoots(c.from, c.to, proof, { rootM });
    t.equal(hex(got.rootM), hex(rootM), `${name}: first root from proof`);
    t.equal(hex(got.rootN), hex(rootN), `${name}: second root from proof`);
  }
});
