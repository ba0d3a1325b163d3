/**
 * Proof verification exactly as RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
 * (consistency) write it, with docs/formats.md §1's choices: every element is 32
 * bytes, m == n takes an empty proof and equal roots, m == 0 has no proof.
 * docs/formats.md §9's split-view evidence runs the §2.1.4.2 loop without the
 * step that prepends the first root (`prependFirstRoot: false`).
 *
 * The loops' control flow depends only on the sizes, never on hashes, so it
 * runs first, on fn and sn split into 32-bit halves (exact up to 2^63-1
 * without bitwise operators on sizes). That fixes the exact proof length,
 * checked before any hashing, and the side each element joins on. The hash
 * chain then runs on 32-bit words (./_sha256.ts) without allocating.
 */
import { InvalidError, MalformedError } from '../src/errors.js';
import { _hash, _hashes, _u63pair } from './_check.js';
import { _loadWords, _nodeWords, _storeWords, _wordsEqual } from './_sha256.js';
import type { Hash } from './hash.js';

/** A well-formed proof that does not lead to the expected root. HTTP 422. */
export class ProofError extends InvalidError {
  constructor(message: string, code = 'invalid-proof') {
    super(message, code);
  }
}

const TWO32 = 4294967296;
const TWO31 = 2147483648;

/**
 * fn and sn of the RFC 9162 loops, each held as high and low 32-bit halves
 * in Numbers: exact for any value up to 2^63-1 with plain arithmetic (no
 * bitwise operators on sizes, no BigInt in the loop).
 */
class ShiftPair {
  private fh: number;
  private fl: number;
  private sh: number;
  private sl: number;

  constructor(fn: number | bigint, sn: number | bigint) {
    if (typeof fn === 'number') {
      this.fh = Math.floor(fn / TWO32);
      this.fl = fn - this.fh * TWO32;
    } else {
      this.fh = Number(fn / 4294967296n);
      this.fl = Number(fn % 4294967296n);
    }
    if (typeof sn === 'number') {
      this.sh = Math.floor(sn / TWO32);
      this.sl = sn - this.sh * TWO32;
    } else {
      this.sh = Number(sn / 4294967296n);
      this.sl = Number(sn % 4294967296n);
    }
  }

  // Parity and halving use Math.floor, not %: the halves exceed the int32
  // range, where V8 compiles % to a slow floating-point library call.

  /** LSB(fn) is set. */
  lsb(): boolean {
    return this.fl !== 2 * Math.floor(this.fl / 2);
  }
  fnZero(): boolean {
    return this.fl === 0 && this.fh === 0;
  }
  snZero(): boolean {
    return this.sl === 0 && this.sh === 0;
  }
  equal(): boolean {
    return this.fl === this.sl && this.fh === this.sh;
  }
  /** Right-shift both fn and sn one time. */
  shift(): void {
    const fh = Math.floor(this.fh / 2);
    this.fl = Math.floor(this.fl / 2) + (this.fh - 2 * fh) * TWO31;
    this.fh = fh;
    const sh = Math.floor(this.sh / 2);
    this.sl = Math.floor(this.sl / 2) + (this.sh - 2 * sh) * TWO31;
    this.sh = sh;
  }
}

/** x is an exact power of two (x ≥ 1). */
function powerOfTwo(x: number | bigint): boolean {
  if (typeof x === 'bigint') return /^10*$/.test(x.toString(2));
  while (x > 1 && x === 2 * Math.floor(x / 2)) x /= 2;
  return x === 1;
}

/** Side of each proof element: 1 = HASH(0x01 || p || r), 0 = HASH(0x01 || r || p). Reused: the verifiers are synchronous. */
const SIDE = new Uint8Array(130);
/** Hash chain state: r / fr at 0, sr at 8, the current element at 16. */
const ACC = new Int32Array(24);

/**
 * RFC 9162 §2.1.3.2 steps 2-5 on the sizes alone: records in SIDE which
 * side each element joins on and returns how many elements the loop takes
 * before sn reaches 0 (fewer fail "sn is 0 at the end", more fail "sn is 0
 * during iteration").
 */
function inclusionSides(index: number | bigint, size: number | bigint): number {
  // 2. Set fn to leaf_index and sn to tree_size - 1.
  const p = new ShiftPair(index, typeof size === 'number' ? size - 1 : size - 1n);
  let count = 0;
  // 4. For each value p in the inclusion_path array: (a) if sn is 0, fail.
  while (!p.snZero()) {
    // (b) If LSB(fn) is set, or if fn is equal to sn, then:
    if (p.lsb() || p.equal()) {
      // 1. Set r to HASH(0x01 || p || r).
      SIDE[count++] = 1;
      // 2. If LSB(fn) is not set, right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!p.lsb()) while (!p.lsb() && !p.fnZero()) p.shift();
    } else {
      // Otherwise: set r to HASH(0x01 || r || p).
      SIDE[count++] = 0;
    }
    // (c) Finally, right-shift both fn and sn one time.
    p.shift();
  }
  return count;
}

/**
 * RFC 9162 §2.1.4.2 steps 3-6 on the sizes alone, for 0 < m < n: records
 * in SIDE, for each element after the first, whether it joins both roots
 * on the left (1) or only the second root on the right (0); returns how
 * many elements follow the first.
 */
function consistencySides(m: number | bigint, n: number | bigint): number {
  // 3. Set fn to first - 1 and sn to second - 1.
  const p = typeof m === 'number' && typeof n === 'number' ? new ShiftPair(m - 1, n - 1) : new ShiftPair(BigInt(m) - 1n, BigInt(n) - 1n);
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
  while (p.lsb()) p.shift();
  let count = 0;
  // 6. For each subsequent value c in the consistency_path array: (a) if sn is 0, fail.
  while (!p.snZero()) {
    // (b) If LSB(fn) is set, or if fn is equal to sn, then:
    if (p.lsb() || p.equal()) {
      // 1-2. Set fr to HASH(0x01 || c || fr) and sr to HASH(0x01 || c || sr).
      SIDE[count++] = 1;
      // 3. If LSB(fn) is not set, right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!p.lsb()) while (!p.lsb() && !p.fnZero()) p.shift();
    } else {
      // Otherwise: set sr to HASH(0x01 || sr || c).
      SIDE[count++] = 0;
    }
    // (c) Finally, right-shift both fn and sn one time.
    p.shift();
  }
  return count;
}

/** `what` describes the proof; a function, so that the message is built only on failure. */
function checkLength(proof: readonly Hash[], want: number, what: () => string): void {
  if (proof.length !== want) throw new MalformedError(`proof: ${what()} takes exactly ${want} hashes, got ${proof.length}`);
}

/** Runs the §2.1.3.2 hash chain; leaves r in ACC[0..7]. */
function inclusionChain(leafHash: Hash, index: unknown, size: unknown, proof: unknown): void {
  _hash(leafHash, 'leafHash');
  const [i, n] = _u63pair(index, 'index', size, 'size');
  _hashes(proof, 'proof');
  const path = proof as readonly Hash[];
  // 1. Compare leaf_index against tree_size. If leaf_index >= tree_size, fail.
  if (i >= n) throw new MalformedError(`index: ${i} is not below size ${n}`);
  const count = inclusionSides(i, n);
  checkLength(path, count, () => `leaf ${i} of a tree of ${n}`);
  // 3. Set r to hash.
  _loadWords(leafHash, ACC, 0);
  for (let k = 0; k < count; k++) {
    _loadWords(path[k]!, ACC, 16);
    if (SIDE[k] === 1) _nodeWords(ACC, 16, ACC, 0, ACC, 0);
    else _nodeWords(ACC, 0, ACC, 16, ACC, 0);
  }
}

/**
 * The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 without the
 * final comparison). Throws MalformedError for a proof of the wrong length
 * or shape, or index ≥ size.
 */
export function rootFromInclusionProof(leafHash: Hash, index: number | bigint, size: number | bigint, proof: readonly Hash[]): Hash {
  inclusionChain(leafHash, index, size, proof);
  return _storeWords(ACC, 0);
}

/**
 * RFC 9162 §2.1.3.2: checks that `leafHash` is leaf `index` of the tree of
 * `size` leaves with root `root`. Throws MalformedError for malformed input
 * and ProofError when the proof does not lead to `root`.
 */
export function verifyInclusion(leafHash: Hash, index: number | bigint, size: number | bigint, proof: readonly Hash[], root: Hash): void {
  _hash(root, 'root');
  inclusionChain(leafHash, index, size, proof);
  // 5. Compare r against root_hash. (sn is 0: the length was checked.)
  if (!_wordsEqual(ACC, 0, root)) throw new ProofError(`inclusion proof for leaf ${index} in a tree of ${size} does not lead to the given root`);
}

export interface ConsistencyRootsOptions {
  /**
   * The first tree's root. Standard proofs omit it when m is a power of two
   * (§2.1.4.2 step 2 prepends it), so it is required then, and when m == n.
   */
  rootM?: Hash;
  /**
   * false: skip step 2 and take proof[0] as the larger tree's hash of its
   * first m leaves, as docs/formats.md §9 evidence does. Default true.
   */
  prependFirstRoot?: boolean;
}

/**
 * The two roots a consistency proof leads to (RFC 9162 §2.1.4.2 without
 * the final comparisons): `rootM`, the hash of the first m leaves that the
 * proof computes, and `rootN`, the larger tree's root. Throws MalformedError
 * for m == 0, m > n, an element that is not 32 bytes or a proof of the wrong
 * length.
 */
export function consistencyRoots(m: number | bigint, n: number | bigint, proof: readonly Hash[], opts: ConsistencyRootsOptions = {}): { rootM: Hash; rootN: Hash } {
  const [first, second] = _u63pair(m, 'm', n, 'n');
  _hashes(proof, 'proof');
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts: expected an object');
  const prepend = opts.prependFirstRoot ?? true;
  if (typeof prepend !== 'boolean') throw new TypeError('opts.prependFirstRoot: expected a boolean');
  if (opts.rootM !== undefined) _hash(opts.rootM, 'opts.rootM');
  if (first === 0 || first === 0n) throw new MalformedError('m: a consistency proof from the empty tree does not exist (m must be at least 1)');
  if (first > second) throw new MalformedError(`m: ${first} is larger than n ${second}`);
  const path = proof;
  if (first === second) {
    checkLength(path, 0, () => 'equal sizes');
    if (opts.rootM === undefined) throw new TypeError('opts.rootM: required when m == n');
    return { rootM: opts.rootM.slice(), rootN: opts.rootM.slice() };
  }
  // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
  const seeded = prepend && powerOfTwo(first);
  if (seeded && opts.rootM === undefined) throw new TypeError('opts.rootM: required when m is a power of two (the proof omits it)');
  const count = consistencySides(first, second);
  // 1. If consistency_path is an empty array, stop and fail (the length check covers it: count ≥ 1).
  checkLength(path, seeded ? count : count + 1, () => `a consistency proof from ${first} to ${second}`);
  // 5. Set both fr and sr to the first value in the consistency_path array.
  const seed = seeded ? opts.rootM! : path[0]!;
  _loadWords(seed, ACC, 0);
  _loadWords(seed, ACC, 8);
  const at = seeded ? 0 : 1;
  for (let k = 0; k < count; k++) {
    _loadWords(path[at + k]!, ACC, 16);
    if (SIDE[k] === 1) {
      _nodeWords(ACC, 16, ACC, 0, ACC, 0);
      _nodeWords(ACC, 16, ACC, 8, ACC, 8);
    } else {
      _nodeWords(ACC, 8, ACC, 16, ACC, 8);
    }
  }
  return { rootM: _storeWords(ACC, 0), rootN: _storeWords(ACC, 8) };
}

/**
 * RFC 9162 §2.1.4.2: checks that the tree of m leaves with root `rootM` is
 * a prefix of the tree of n leaves with root `rootN`. m == n needs an empty
 * proof and equal roots. Throws MalformedError for malformed input and
 * ProofError when a root does not match.
 */
export function verifyConsistency(m: number | bigint, n: number | bigint, proof: readonly Hash[], rootM: Hash, rootN: Hash): void {
  _hash(rootM, 'rootM');
  _hash(rootN, 'rootN');
  const got = consistencyRoots(m, n, proof, { rootM });
  // 7. Verify that fr equals first_hash and sr equals second_hash (sn is 0: the length was checked).
  if (!bytesEqual(got.rootM, rootM)) throw new ProofError(`consistency proof from ${m} to ${n} does not lead to the first root`);
  if (!bytesEqual(got.rootN, rootN)) throw new ProofError(`consistency proof from ${m} to ${n} does not lead to the second root`);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
