/**
 * Property tests (fast-check) of merkle/ against the recursive RFC 6962
 * §2.1 reference in ./reference.ts: tree hashes, planned proofs read from a
 * store that CompactRange.append filled, and RFC 9162 §2.1.3.2/§2.1.4.2
 * verification, including every single-bit mutation of proofs, hashes,
 * indices and sizes.
 */
import t from 'tap';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  CompactRange,
  consistencyProof,
  consistencyRoots,
  inclusionProof,
  planConsistency,
  planInclusion,
  ProofError,
  rootFromStored,
  treeHash,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../merkle/index.js';
import { MalformedError } from '../../src/errors.js';
import {
  buildTree,
  flipBit,
  hex,
  mth,
  path,
  proof as refProof,
  refConsistencyRoots,
  RefLengthError,
  refRootFromPath,
  subproof,
} from './reference.js';
import { withoutStacks } from '../fuzz-helpers.js';

const N = 3000;
const leaves: Hash[] = Array.from({ length: N }, (_, i) => sha256(new TextEncoder().encode(`property leaf ${i}`)));
const { store } = buildTree(leaves);
const rootCache = new Map<number, Hash>();
function root(n: number): Hash {
  let r = rootCache.get(n);
  if (r === undefined) rootCache.set(n, (r = mth(leaves.slice(0, n))));
  return r;
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

type Outcome = 'ok' | 'malformed' | 'proof';

function outcome(f: () => void): Outcome {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof ProofError) return 'proof';
    if (err instanceof MalformedError) return 'malformed';
    throw err;
  }
}

/** What the recursive reference says of an inclusion proof. */
function refInclusion(leaf: Hash, index: bigint, size: bigint, p: Hash[], r: Hash): Outcome {
  if (index >= size || size > 2n ** 53n) return index >= size ? 'malformed' : p.length < 53 ? 'malformed' : 'proof';
  try {
    return hex(refRootFromPath(leaf, Number(index), Number(size), p)) === hex(r) ? 'ok' : 'proof';
  } catch (err) {
    if (err instanceof RefLengthError) return 'malformed';
    throw err;
  }
}

/** What the recursive reference says of a consistency proof. */
function refConsistency(m: bigint, n: bigint, p: Hash[], rm: Hash, rn: Hash): Outcome {
  if (m < 1n || m > n) return 'malformed';
  if (n > 2n ** 53n) return p.length < 50 ? 'malformed' : 'proof';
  try {
    const [o, nw] = refConsistencyRoots(Number(m), Number(n), true, p, rm);
    return hex(o) === hex(rm) && hex(nw) === hex(rn) ? 'ok' : 'proof';
  } catch (err) {
    if (err instanceof RefLengthError) return 'malformed';
    throw err;
  }
}

function flip(x: bigint, bit: number): bigint {
  const b = 2n ** BigInt(bit);
  return (x / b) % 2n === 0n ? x + b : x - b;
}

t.test('tree hashes agree with the reference MTH', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: N }), (n) => {
        const want = hex(root(n));
        check(hex(treeHash(leaves.slice(0, n))) === want, `treeHash(${n})`);
        check(hex(rootFromStored(n, store.read)) === want, `rootFromStored(${n})`);
        const range = new CompactRange();
        leaves.slice(0, n).forEach((l) => range.append(l));
        check(hex(range.root()) === want, `CompactRange root(${n})`);
      }),
      { numRuns: 60 },
    ),
  'treeHash, rootFromStored and CompactRange.root equal MTH');
});

t.test('small random trees: every proof against the reference', async (t) => {
  const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(hash32, { minLength: 1, maxLength: 40 }), (d) => {
        const { range, store: s } = buildTree(d);
        const n = d.length;
        const r = mth(d);
        check(hex(treeHash(d)) === hex(r) && hex(range.root()) === hex(r), 'root');
        for (let i = 0; i < n; i++) {
          const p = inclusionProof(i, n, s.read);
          check(p.map(hex).join() === path(i, d).map(hex).join(), `PATH(${i}, D[${n}])`);
          verifyInclusion(d[i]!, i, n, p, r);
        }
        for (let m = 1; m <= n; m++) {
          const p = consistencyProof(m, n, s.read);
          check(p.map(hex).join() === refProof(m, d).map(hex).join(), `PROOF(${m}, D[${n}])`);
          verifyConsistency(m, n, p, mth(d.slice(0, m)), r);
        }
      }),
      { numRuns: 60 },
    ),
  'all inclusion and consistency proofs of random trees match the reference and verify');
});

t.test('planned nodes are complete subtrees of the tree asked for', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (size, x) => {
        const index = x % size;
        for (const id of planInclusion(index, size).nodes) check((id.index + 1n) * 2n ** BigInt(id.level) <= size, `inclusion node (${id.level}, ${id.index}) in ${size}`);
        const m = (x % size) + 1n;
        for (const id of planConsistency(m, size).nodes) check((id.index + 1n) * 2n ** BigInt(id.level) <= size, `consistency node (${id.level}, ${id.index}) in ${size}`);
      }),
      { numRuns: 500 },
    ),
  'every planned node lies inside the tree');
});

t.test('inclusion: planned proofs match PATH, verify, and every mutation fails', async (t) => {
  t.doesNotThrow(() => withoutStacks(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))), ([n, i]) => {
        const p = inclusionProof(i, n, store.read);
        const d = leaves.slice(0, n);
        check(p.map(hex).join() === path(i, d).map(hex).join(), `PATH(${i}, D[${n}])`);
        const leaf = leaves[i]!;
        const r = root(n);
        verifyInclusion(leaf, i, n, p, r);
        for (let k = 0; k < p.length; k++) {
          for (let bit = 0; bit < 256; bit++) {
            const q = p.slice();
            q[k] = flipBit(p[k]!, bit);
            check(outcome(() => verifyInclusion(leaf, i, n, q, r)) === 'proof', `flip bit ${bit} of proof[${k}]`);
          }
        }
        for (let bit = 0; bit < 256; bit++) {
          check(outcome(() => verifyInclusion(flipBit(leaf, bit), i, n, p, r)) === 'proof', `flip bit ${bit} of the leaf hash`);
          check(outcome(() => verifyInclusion(leaf, i, n, p, flipBit(r, bit))) === 'proof', `flip bit ${bit} of the root`);
        }
        for (let bit = 0; bit < 63; bit++) {
          const i2 = flip(BigInt(i), bit);
          const got = outcome(() => verifyInclusion(leaf, i2, n, p, r));
          check(got !== 'ok', `flip bit ${bit} of the index (${i} -> ${i2}) must fail`);
          check(got === refInclusion(leaf, i2, BigInt(n), p, r), `index ${i2}: ${got} as the reference says`);
          // A size with the same shape of path gives the same root: RFC 9162 cannot tell, the signed
          // checkpoint binds the size to the root. So the outcome must be the reference's.
          const n2 = flip(BigInt(n), bit);
          const got2 = outcome(() => verifyInclusion(leaf, i, n2, p, r));
          check(got2 === refInclusion(leaf, BigInt(i), n2, p, r), `size ${n} -> ${n2}: ${got2} as the reference says`);
        }
      }),
      { numRuns: 40 },
    )),
  'inclusion proofs');
});

t.test('consistency: planned proofs match PROOF, verify, and every mutation fails', async (t) => {
  t.doesNotThrow(() => withoutStacks(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))), ([m, n]) => {
        const p = consistencyProof(m, n, store.read);
        const d = leaves.slice(0, n);
        check(p.map(hex).join() === refProof(m, d).map(hex).join(), `PROOF(${m}, D[${n}])`);
        const rm = root(m);
        const rn = root(n);
        verifyConsistency(m, n, p, rm, rn);
        for (let k = 0; k < p.length; k++) {
          for (let bit = 0; bit < 256; bit++) {
            const q = p.slice();
            q[k] = flipBit(p[k]!, bit);
            check(outcome(() => verifyConsistency(m, n, q, rm, rn)) === 'proof', `flip bit ${bit} of proof[${k}]`);
          }
        }
        for (let bit = 0; bit < 256; bit++) {
          check(outcome(() => verifyConsistency(m, n, p, flipBit(rm, bit), rn)) === 'proof', `flip bit ${bit} of the first root`);
          check(outcome(() => verifyConsistency(m, n, p, rm, flipBit(rn, bit))) === 'proof', `flip bit ${bit} of the second root`);
        }
        for (let bit = 0; bit < 63; bit++) {
          const m2 = flip(BigInt(m), bit);
          const got = outcome(() => verifyConsistency(m2, n, p, rm, rn));
          check(got === refConsistency(m2, BigInt(n), p, rm, rn), `from ${m} -> ${m2}: ${got} as the reference says`);
          const n2 = flip(BigInt(n), bit);
          const got2 = outcome(() => verifyConsistency(m, n2, p, rm, rn));
          check(got2 === refConsistency(BigInt(m), n2, p, rm, rn), `to ${n} -> ${n2}: ${got2} as the reference says`);
        }
      }),
      { numRuns: 40 },
    )),
  'consistency proofs');
});

t.test('evidence form (no prepend) is SUBPROOF(m, D[n], false)', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))), ([m, n]) => {
        const p = consistencyProof(m, n, store.read, { prependFirstRoot: false });
        const d = leaves.slice(0, n);
        const want = m === n ? [] : subproof(m, d, false);
        check(p.map(hex).join() === want.map(hex).join(), `SUBPROOF(${m}, D[${n}], false)`);
        if (m < n) {
          const got = consistencyRoots(m, n, p, { prependFirstRoot: false });
          check(hex(got.rootM) === hex(root(m)) && hex(got.rootN) === hex(root(n)), `roots of ${m} -> ${n}`);
        }
      }),
      { numRuns: 200 },
    ),
  'evidence-form proofs');
});
