/**
 * Generates vectors/merkle/negative.json: inclusion and consistency proofs
 * that RFC 9162 §2.1.3.2 / §2.1.4.2 verifiers (with docs/formats.md §1's rules)
 * must reject, each a named mutation of a valid case from the reference
 * vectors, with the error class it must raise: MalformedError for input of
 * the wrong shape (length, sizes out of range), ProofError for a
 * well-formed proof that does not lead to the roots. Where the class
 * depends on the tree's shape (a wrong index or size), the recursive RFC
 * 6962 reference in ./reference.ts decides, not merkle/.
 * Run `npx tsx test/merkle/gen-negative.ts --write`; negative.test.ts checks that
 * the committed file is this script's output.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flipBit, hex, loadVectors, refConsistencyRoots, RefLengthError, refRootFromPath, unhex } from './reference.js';
import { rootPath } from '../_root.js';

export interface NegativeCase {
  name: string;
  type: 'inclusion' | 'consistency';
  leafHash?: string;
  index?: string;
  size?: string;
  from?: string;
  to?: string;
  proof: string[];
  root?: string;
  rootFrom?: string;
  rootTo?: string;
  error: 'MalformedError' | 'ProofError';
}

interface Roots { cases: { size: number; root: string }[] }
interface Inclusion { cases: { index: number; size: number; leafHash: string; proof: string[] }[] }
interface Consistency { cases: { from: number; to: number; proof: string[] }[] }

const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function generate(): { description: string; cases: NegativeCase[] } {
  const roots = new Map(loadVectors<Roots>('merkle/roots.json').cases.map((c) => [c.size, c.root]));
  const inc = loadVectors<Inclusion>('merkle/inclusion.json').cases;
  const con = loadVectors<Consistency>('merkle/consistency.json').cases;
  const incCase = (i: number, n: number) => inc.find((c) => c.index === i && c.size === n)!;
  const conCase = (m: number, n: number) => con.find((c) => c.from === m && c.to === n)!;
  const flip = (h: string, bit = 0): string => hex(flipBit(unhex(h), bit));
  const cases: NegativeCase[] = [];

  // Inclusion: leaf 5 of the tree of 13.
  const base = incCase(5, 13);
  const L = base.leafHash;
  const P = base.proof;
  const R = roots.get(13)!;
  const last = P.length - 1;
  const inclusion = (name: string, o: Partial<NegativeCase> & { error: NegativeCase['error'] }): void => {
    cases.push({ name: `inclusion: ${name}`, type: 'inclusion', leafHash: L, index: '5', size: '13', proof: P, root: R, ...o });
  };
  /** The class of a well-formed inclusion proof for other sizes, from the reference. */
  const refInclusion = (index: number, size: number, proof: string[], root: string): NegativeCase['error'] => {
    if (index >= size) return 'MalformedError';
    try {
      const got = hex(refRootFromPath(unhex(L), index, size, proof.map(unhex)));
      // Not a negative case: a size with the same path shape gives the same root (the checkpoint binds size to root).
      if (got === root) throw new Error(`(${index}, ${size}) verifies: choose another mutation`);
      return 'ProofError';
    } catch (err) {
      if (err instanceof RefLengthError) return 'MalformedError';
      throw err;
    }
  };
  inclusion('flipped bit in proof[0]', { proof: [flip(P[0]!), ...P.slice(1)], error: 'ProofError' });
  inclusion(`flipped bit in proof[${last}] (the last)`, { proof: [...P.slice(0, last), flip(P[last]!, 255)], error: 'ProofError' });
  inclusion('flipped bit in the leaf hash', { leafHash: flip(L, 7), error: 'ProofError' });
  inclusion('flipped bit in the root', { root: flip(R, 128), error: 'ProofError' });
  inclusion('proof[0] and proof[1] swapped', { proof: [P[1]!, P[0]!, ...P.slice(2)], error: 'ProofError' });
  inclusion('truncated proof (last element dropped)', { proof: P.slice(0, -1), error: 'MalformedError' });
  inclusion('extra proof element', { proof: [...P, P[last]!], error: 'MalformedError' });
  inclusion('empty proof', { proof: [], error: 'MalformedError' });
  inclusion('element of 31 bytes', { proof: [P[0]!, P[1]!.slice(0, 62), ...P.slice(2)], error: 'MalformedError' });
  inclusion('element of 33 bytes', { proof: [P[0]!, P[1]! + '00', ...P.slice(2)], error: 'MalformedError' });
  inclusion('empty element', { proof: [P[0]!, '', ...P.slice(2)], error: 'MalformedError' });
  inclusion('leaf hash of 31 bytes', { leafHash: L.slice(0, 62), error: 'MalformedError' });
  inclusion('root of 33 bytes', { root: R + '00', error: 'MalformedError' });
  inclusion('index == size', { index: '13', error: 'MalformedError' });
  inclusion('index > size', { index: '14', error: 'MalformedError' });
  inclusion('size 0', { index: '0', size: '0', proof: [], root: EMPTY_ROOT, error: 'MalformedError' });
  inclusion('negative index', { index: '-1', error: 'MalformedError' });
  inclusion('size 2^63 (beyond 2^63-1)', { size: (2n ** 63n).toString(), error: 'MalformedError' });
  inclusion('index 2^63-1 == size', { index: (2n ** 63n - 1n).toString(), size: (2n ** 63n - 1n).toString(), error: 'MalformedError' });
  inclusion('wrong index (index + 1)', { index: '6', error: refInclusion(6, 13, P, R) });
  inclusion('wrong index (index - 1)', { index: '4', error: refInclusion(4, 13, P, R) });
  inclusion('wrong index (the last leaf, 12)', { index: '12', error: refInclusion(12, 13, P, R) });
  inclusion('wrong tree size (size - 5)', { size: '8', error: refInclusion(5, 8, P, R) });
  inclusion('wrong tree size (size + 4)', { size: '17', error: refInclusion(5, 17, P, R) });
  inclusion('wrong tree size (size * 2)', { size: '26', error: refInclusion(5, 26, P, R) });
  inclusion('wrong tree size (size 2^62)', { size: (2n ** 62n).toString(), error: 'MalformedError' });
  inclusion('proof of leaf 6 given for leaf 5', { proof: incCase(6, 13).proof, error: 'ProofError' });
  inclusion('root of the tree of size 12', { root: roots.get(12)!, error: 'ProofError' });
  inclusion('leaf hash given as the root of a 1-leaf tree with a proof', { index: '0', size: '1', proof: [P[0]!], root: L, error: 'MalformedError' });
  inclusion('leaf hash of leaf 5 as the whole proof for a 2-leaf tree', { index: '1', size: '2', proof: [L], root: roots.get(2)!, error: 'ProofError' });

  // Consistency: 5 -> 13 (proof starts with a stored subtree), and 4 -> 13 (power of two: the first root is implied).
  const c = conCase(5, 13);
  const C = c.proof;
  const RF = roots.get(5)!;
  const RT = roots.get(13)!;
  const clast = C.length - 1;
  const consistency = (name: string, o: Partial<NegativeCase> & { error: NegativeCase['error'] }): void => {
    cases.push({ name: `consistency: ${name}`, type: 'consistency', from: '5', to: '13', proof: C, rootFrom: RF, rootTo: RT, ...o });
  };
  const refConsistency = (m: number, n: number, proof: string[], rm: string, rn: string): NegativeCase['error'] => {
    if (m < 1 || m > n) return 'MalformedError';
    try {
      const [o, nw] = refConsistencyRoots(m, n, true, proof.map(unhex), unhex(rm));
      if (hex(o) === rm && hex(nw) === rn) throw new Error(`(${m}, ${n}) verifies`);
      return 'ProofError';
    } catch (err) {
      if (err instanceof RefLengthError) return 'MalformedError';
      throw err;
    }
  };
  consistency('flipped bit in proof[0]', { proof: [flip(C[0]!), ...C.slice(1)], error: 'ProofError' });
  consistency(`flipped bit in proof[${clast}] (the last)`, { proof: [...C.slice(0, clast), flip(C[clast]!, 200)], error: 'ProofError' });
  consistency('flipped bit in the first root', { rootFrom: flip(RF, 3), error: 'ProofError' });
  consistency('flipped bit in the second root', { rootTo: flip(RT, 3), error: 'ProofError' });
  consistency('roots swapped', { rootFrom: RT, rootTo: RF, error: 'ProofError' });
  consistency('proof[0] and proof[1] swapped', { proof: [C[1]!, C[0]!, ...C.slice(2)], error: 'ProofError' });
  consistency('truncated proof (last element dropped)', { proof: C.slice(0, -1), error: 'MalformedError' });
  consistency('extra proof element', { proof: [...C, C[clast]!], error: 'MalformedError' });
  consistency('empty proof with from < to', { proof: [], error: 'MalformedError' });
  consistency('element of 31 bytes', { proof: [C[0]!.slice(0, 62), ...C.slice(1)], error: 'MalformedError' });
  consistency('element of 33 bytes', { proof: [...C.slice(0, clast), C[clast]! + 'ff'], error: 'MalformedError' });
  consistency('first root of 31 bytes', { rootFrom: RF.slice(0, 62), error: 'MalformedError' });
  consistency('from == 0', { from: '0', proof: [], rootFrom: EMPTY_ROOT, error: 'MalformedError' });
  consistency('from == 0 with a proof', { from: '0', rootFrom: EMPTY_ROOT, error: 'MalformedError' });
  consistency('from > to', { from: '13', to: '5', rootFrom: RT, rootTo: RF, error: 'MalformedError' });
  consistency('from == to with a non-empty proof', { from: '13', proof: [C[0]!], rootFrom: RT, error: 'MalformedError' });
  consistency('from == to with different roots', { from: '13', proof: [], rootFrom: roots.get(12)!, error: 'ProofError' });
  consistency('negative from', { from: '-5', error: 'MalformedError' });
  consistency('to 2^63 (beyond 2^63-1)', { to: (2n ** 63n).toString(), error: 'MalformedError' });
  consistency('wrong from (from + 1)', { from: '6', error: refConsistency(6, 13, C, RF, RT) });
  consistency('wrong from (from - 1)', { from: '4', error: refConsistency(4, 13, C, RF, RT) });
  consistency('wrong to (to + 4)', { to: '17', error: refConsistency(5, 17, C, RF, RT) });
  consistency('wrong to (to - 5)', { to: '8', error: refConsistency(5, 8, C, RF, RT) });
  consistency('wrong to (to * 2)', { to: '26', error: refConsistency(5, 26, C, RF, RT) });
  const c4 = conCase(4, 13).proof;
  const R4 = roots.get(4)!;
  consistency('power-of-two from (4) with its root included in the proof', { from: '4', proof: [R4, ...c4], rootFrom: R4, error: 'MalformedError' });
  consistency('power-of-two from (4), flipped bit in the first root', { from: '4', proof: c4, rootFrom: flip(R4, 77), error: 'ProofError' });
  consistency('power-of-two from (4), flipped bit in proof[0]', { from: '4', proof: [flip(c4[0]!, 9), ...c4.slice(1)], rootFrom: R4, error: 'ProofError' });
  consistency('proof for 4 -> 13 given for 5 -> 13', { proof: c4, error: refConsistency(5, 13, c4, RF, RT) });
  consistency('first root of the tree of size 6', { rootFrom: roots.get(6)!, error: 'ProofError' });

  const names = new Set(cases.map((x) => x.name));
  if (names.size !== cases.length) throw new Error('duplicate case names');
  return {
    description:
      'Mutations of valid RFC 9162 proofs (vectors/merkle/{inclusion,consistency}.json over leaves "leaf <i>") that must be rejected, each named after its mutation, with the error class: MalformedError (wrong length, element not 32 bytes, index >= size, from == 0, from > to, out of range) or ProofError (root mismatch). Sizes and indices are decimal strings; hashes are hex. Generated by test/merkle/gen-negative.ts.',
    cases,
  };
}

export const TARGET = rootPath('vectors/merkle/negative.json');

// Writes only when asked: `tap test/merkle/` also loads this file.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(TARGET, JSON.stringify(generate(), null, 1) + '\n');
  console.log(`wrote ${TARGET}`);
}
