/**
 * A compact range over [0, size): the right edge of an RFC 9162 §2.1 tree,
 * i.e. the hashes of its maximal complete subtrees, largest first (one per
 * set bit of size). It is the log's and the monitor's whole in-memory tree
 * state: appending a leaf needs only the edge, produces the new stored nodes
 * (which the log persists for tiles and proofs, see ./tree.ts), and the root
 * is the edge folded from the right. The same idea as transparency-dev's
 * compact.Range restricted to ranges that start at 0.
 */
import { MalformedError } from '../src/errors.js';
import { BIG, NUM, SAFE } from './_arith.js';
import { _hash, _hashes, _u63, MAX_SIZE } from './_check.js';
import { _loadWords, _nodeWords, _storeWords } from './_sha256.js';
import { EMPTY_ROOT, type Hash } from './hash.js';
import { _rangeNodes, type NodeId, type StoredNode } from './tree.js';

/** Set bits of x, highest first: the levels of the edge of a tree of size x. */
function edgeLevels(x: bigint): number[] {
  const bits = x.toString(2);
  const levels: number[] = [];
  if (x === 0n) return levels;
  for (let i = 0; i < bits.length; i++) if (bits.charCodeAt(i) === 49) levels.push(bits.length - 1 - i);
  return levels;
}

export class CompactRange {
  #size: bigint;
  /** Levels of the edge's subtrees, strictly decreasing. */
  #levels: number[];
  /** Their hashes, 8 words each, in the same order; one spare slot for the leaf being appended. */
  #words: Int32Array;

  /**
   * The compact range of a tree of `size` leaves from the hashes of its
   * right edge (`hashes()` of a range of that size, i.e. the stored nodes
   * `CompactRange.edgeNodes(size)`), so a log restarts without reading its
   * tree. Defaults to the empty tree.
   */
  constructor(size: number | bigint = 0n, hashes: readonly Hash[] = []) {
    const n = _u63(size, 'size');
    _hashes(hashes, 'hashes');
    const levels = edgeLevels(n);
    if (hashes.length !== levels.length) throw new MalformedError(`hashes: a tree of ${n} leaves has ${levels.length} edge hashes, got ${hashes.length}`);
    this.#size = n;
    this.#levels = levels;
    this.#words = new Int32Array(65 * 8);
    hashes.forEach((h, i) => _loadWords(h, this.#words, i * 8));
  }

  /** The stored nodes whose hashes form the right edge of a tree of `size` leaves, largest first. */
  static edgeNodes(size: number | bigint): NodeId[] {
    const n = _u63(size, 'size');
    const nodes: NodeId[] = [];
    if (n <= SAFE) _rangeNodes(NUM, 0, Number(n), nodes);
    else _rangeNodes(BIG, 0n, n, nodes);
    return nodes;
  }

  /** Number of leaves. */
  get size(): bigint {
    return this.#size;
  }

  /**
   * Appends a leaf hash. Returns the stored nodes that now exist and did not
   * before, lowest first: the leaf itself (level 0) and each complete subtree
   * it closes.
   */
  append(leafHash: Hash): StoredNode[] {
    _hash(leafHash, 'leafHash');
    const index = this.#size;
    if (index === MAX_SIZE) throw new MalformedError('leafHash: the tree already holds 2^63-1 leaves');
    const levels = this.#levels;
    const words = this.#words;
    let top = levels.length;
    _loadWords(leafHash, words, top * 8);
    const added: StoredNode[] = [{ level: 0, index, hash: leafHash.slice() }];
    let level = 0;
    let k = index;
    // Merge while the edge's lowest subtree has the same level as the new one.
    while (top > 0 && levels[top - 1] === level) {
      _nodeWords(words, (top - 1) * 8, words, top * 8, words, (top - 1) * 8);
      levels.pop();
      top--;
      level++;
      k /= 2n;
      added.push({ level, index: k, hash: _storeWords(words, top * 8) });
    }
    levels.push(level);
    this.#size = index + 1n;
    return added;
  }

  /** RFC 9162 §2.1.1 MTH of the leaves so far. */
  root(): Hash {
    const top = this.#levels.length;
    if (top === 0) return EMPTY_ROOT.slice();
    const acc = new Int32Array(16);
    acc.set(this.#words.subarray((top - 1) * 8, top * 8), 8);
    for (let i = top - 2; i >= 0; i--) {
      acc.set(this.#words.subarray(i * 8, i * 8 + 8), 0);
      _nodeWords(acc, 0, acc, 8, acc, 8);
    }
    return _storeWords(acc, 8);
  }

  /** The right edge's hashes, largest subtree first (the hashes of `CompactRange.edgeNodes(size)`). */
  hashes(): Hash[] {
    return this.#levels.map((_, i) => _storeWords(this.#words, i * 8));
  }

  /** An independent copy (e.g. to try a batch and keep the old state if committing it fails). */
  clone(): CompactRange {
    return new CompactRange(this.#size, this.hashes());
  }
}
