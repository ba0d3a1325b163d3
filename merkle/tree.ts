/**
 * The Merkle Tree Hash of RFC 9162 §2.1.1 (MTH) over a list of leaf hashes,
 * and the addressing of stored nodes shared by the rest of merkle/.
 *
 * A stored node is a complete subtree: `{level: L, index: K}` covers leaves
 * [K·2^L, (K+1)·2^L), as in c2sp.org/tlog-tiles and transparency-dev/merkle.
 * A log stores exactly these nodes (CompactRange.append produces them); any
 * other hash a proof needs lies on the right edge of a tree and is rebuilt
 * from a few stored nodes. Sizes and indices are bigints up to 2^63-1.
 */
import type { Arith } from './_arith.js';
import { _hash, _pow2, _u63, MAX_SIZE } from './_check.js';
import { _loadWords, _nodeWords, _storeWords } from './_sha256.js';
import { EMPTY_ROOT, type Hash } from './hash.js';
import { MalformedError } from '../src/errors.js';

/** A stored node: the complete subtree at `level` covering leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: bigint;
}

/** A stored node with its hash, as CompactRange.append hands them to the log. */
export interface StoredNode extends NodeId {
  readonly hash: Hash;
}

/**
 * A checked NodeId. The node must fit in a tree of at most 2^63-1 leaves:
 * (index+1)·2^level ≤ 2^63-1.
 */
export function nodeId(level: number, index: number | bigint): NodeId {
  _level(level, 'level');
  const k = _u63(index, 'index');
  if ((k + 1n) * _pow2(level) > MAX_SIZE) throw new MalformedError(`index: node (${level}, ${k}) ends beyond leaf 2^63-1`);
  return { level, index: k };
}

/** Checks a tree level (0..62: a complete subtree of 2^63 leaves cannot exist). */
export function _level(level: unknown, name: string): number {
  if (typeof level !== 'number') throw new TypeError(`${name}: expected a number`);
  if (!Number.isInteger(level) || level < 0 || level > 62) throw new MalformedError(`${name}: ${level} is not a tree level in 0..62`);
  return level;
}

/** Checks a NodeId coming from a caller. */
export function _node(x: unknown, name: string): NodeId {
  if (typeof x !== 'object' || x === null) throw new TypeError(`${name}: expected a NodeId`);
  const { level, index } = x as NodeId;
  _level(level, `${name}.level`);
  if (typeof index !== 'bigint') throw new TypeError(`${name}.index: expected a bigint`);
  if (index < 0n || (index + 1n) * _pow2(level) > MAX_SIZE) throw new MalformedError(`${name}: node (${level}, ${index}) is outside a tree of 2^63-1 leaves`);
  return x as NodeId;
}

/**
 * Appends to `out` the stored nodes that cover leaves [begin, end), left to
 * right, each as large as alignment allows, and returns how many. For the
 * ranges proofs use (a prefix [0, n), or a subtree's right part starting at
 * a multiple of a power of two at least as large as the range) the sizes
 * strictly decrease, so folding them from the right gives the range's MTH.
 */
export function _rangeNodes<T extends number | bigint>(A: Arith<T>, begin: T, end: T, out: NodeId[]): number {
  let count = 0;
  while (begin < end) {
    let level = A.bitLen(A.sub(end, begin)) - 1;
    while (A.mod(begin, A.pow2(level)) !== A.zero) level--;
    const width = A.pow2(level);
    out.push({ level, index: A.big(A.div(begin, width)) });
    begin = A.add(begin, width);
    count++;
  }
  return count;
}

const FOLD = new Int32Array(16);

/** MTH of a right edge given as its stored-node hashes, largest first: fold from the right. */
export function _fold(hashes: readonly Hash[], from: number, count: number): Hash {
  if (count === 1) return hashes[from]!;
  _loadWords(hashes[from + count - 1]!, FOLD, 8);
  for (let i = from + count - 2; i >= from; i--) {
    _loadWords(hashes[i]!, FOLD, 0);
    _nodeWords(FOLD, 0, FOLD, 8, FOLD, 8);
  }
  return _storeWords(FOLD, 8);
}

/**
 * RFC 9162 §2.1.1 MTH of n leaf hashes (each already SHA-256(0x00 || leaf)).
 * Runs in O(n) hashes and O(log n) memory; the empty list gives EMPTY_ROOT.
 */
export function treeHash(leafHashes: readonly Hash[]): Hash {
  if (!Array.isArray(leafHashes)) throw new TypeError('leafHashes: expected an array of Uint8Array');
  if (leafHashes.length === 0) return EMPTY_ROOT.slice();
  // A stack of complete subtrees (the right edge so far): 8 words each.
  const stack = new Int32Array(64 * 8);
  const levels: number[] = [];
  for (let i = 0; i < leafHashes.length; i++) {
    let top = levels.length;
    _loadWords(_hash(leafHashes[i], `leafHashes[${i}]`), stack, top * 8);
    let level = 0;
    while (top > 0 && levels[top - 1] === level) {
      _nodeWords(stack, (top - 1) * 8, stack, top * 8, stack, (top - 1) * 8);
      levels.pop();
      top--;
      level++;
    }
    levels.push(level);
  }
  for (let top = levels.length - 1; top > 0; top--) _nodeWords(stack, (top - 1) * 8, stack, top * 8, stack, (top - 1) * 8);
  return _storeWords(stack, 0);
}
