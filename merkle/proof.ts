/**
 * Proof generation, RFC 9162 §2.1.3.1 (inclusion, PATH) and §2.1.4.1
 * (consistency, PROOF/SUBPROOF), split into a plan and a read as in
 * transparency-dev/merkle and golang.org/x/mod/sumdb/tlog.
 *
 * A planner computes which stored nodes (complete subtrees, see ./tree.ts)
 * a proof needs. The caller reads their hashes however it stores them (a
 * SQLite table, fetched tiles, a Map in tests) and hands them to the plan's
 * `assemble`, which folds each right-edge proof element that is not a
 * complete subtree from the several stored nodes that cover it. Nothing
 * here does I/O, so the same code serves the log, the monitor and the
 * browser.
 */
import { MalformedError } from '../src/errors.js';
import { BIG, NUM, SAFE, type Arith } from './_arith.js';
import { _fn, _hashes, _u63, _u63pair } from './_check.js';
import { EMPTY_ROOT, type Hash } from './hash.js';
import { _fold, _rangeNodes, type NodeId } from './tree.js';

/** Reads the hashes of stored nodes, in the order asked. */
export type ReadHashes = (ids: readonly NodeId[]) => readonly Hash[];
/** Reads the hashes of stored nodes, in the order asked, asynchronously. */
export type ReadHashesAsync = (ids: readonly NodeId[]) => Promise<readonly Hash[]>;

/** The stored nodes a proof needs, and how to turn their hashes into the proof. */
export interface ProofPlan {
  readonly nodes: readonly NodeId[];
  /** `hashes[i]` is the hash of `nodes[i]`; returns the proof, ordered as RFC 9162 orders it. */
  assemble(hashes: readonly Hash[]): Hash[];
}

/** The stored nodes that make up a tree's root, and how to fold them into it. */
export interface RootPlan {
  readonly nodes: readonly NodeId[];
  assemble(hashes: readonly Hash[]): Hash;
}

/** A proof element: leaves [begin, end) of the tree. */
type Range<T> = readonly [begin: T, end: T];

/** Largest power of two strictly below n (n ≥ 2): RFC 9162's split point k. */
function split<T extends number | bigint>(A: Arith<T>, n: T): T {
  return A.pow2(A.bitLen(A.sub(n, A.one)) - 1);
}

/**
 * Checks a (smaller, larger) pair of sizes/indices and returns them as
 * numbers when the larger fits in 2^53-1, else as bigints.
 */
function pair(a: unknown, aName: string, b: unknown, bName: string): [number, number] | [bigint, bigint] {
  const [x, y] = _u63pair(a, aName, b, bName);
  if (typeof x === 'bigint' && y <= SAFE && x <= SAFE) return [Number(x), Number(y)];
  return [x, y] as [number, number] | [bigint, bigint];
}

function checkHashes(hashes: readonly Hash[], nodes: readonly NodeId[]): void {
  _hashes(hashes, 'hashes');
  if (hashes.length !== nodes.length) throw new MalformedError(`hashes: expected ${nodes.length} hashes (one per planned node), got ${hashes.length}`);
}

function planRanges<T extends number | bigint>(A: Arith<T>, ranges: readonly Range<T>[]): ProofPlan {
  const nodes: NodeId[] = [];
  const groups = ranges.map(([begin, end]) => _rangeNodes(A, begin, end, nodes));
  return {
    nodes,
    assemble(hashes) {
      checkHashes(hashes, nodes);
      const proof: Hash[] = [];
      let at = 0;
      for (const count of groups) {
        proof.push(_fold(hashes, at, count));
        at += count;
      }
      return proof;
    },
  };
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as the leaf ranges of its elements. */
function pathRanges<T extends number | bigint>(A: Arith<T>, m: T, n: T): Range<T>[] {
  // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) : MTH(D[0:k]),
  // walked from the root down; the siblings met on the way are the proof, last first.
  const ranges: Range<T>[] = [];
  let start = A.zero;
  let end = n;
  while (A.sub(end, start) > A.one) {
    const mid = A.add(start, split(A, A.sub(end, start)));
    if (m < mid) {
      ranges.push([mid, end]);
      end = mid;
    } else {
      ranges.push([start, mid]);
      start = mid;
    }
  }
  return ranges.reverse();
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b) as the leaf ranges of its elements. */
function subproofRanges<T extends number | bigint>(A: Arith<T>, m: T, n: T, b: boolean): Range<T>[] {
  // Walked from the root down. Elements met on the way come after the
  // recursive part, so they are collected and reversed.
  const ranges: Range<T>[] = [];
  let start = A.zero;
  let end = n;
  let rest = m;
  while (rest !== A.sub(end, start)) {
    const k = split(A, A.sub(end, start));
    if (rest <= k) {
      ranges.push([A.add(start, k), end]);
      end = A.add(start, k);
    } else {
      ranges.push([start, A.add(start, k)]);
      start = A.add(start, k);
      rest = A.sub(rest, k);
      b = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}: a complete subtree of the old tree.
  if (!b) ranges.push([start, end]);
  return ranges.reverse();
}

/**
 * Plans the inclusion proof of leaf `index` in the tree of `size` leaves
 * (RFC 9162 §2.1.3.1 PATH). Throws MalformedError unless index < size.
 */
export function planInclusion(index: number | bigint, size: number | bigint): ProofPlan {
  const [m, n] = pair(index, 'index', size, 'size');
  if (m >= n) throw new MalformedError(`index: ${m} is not below size ${n}`);
  return typeof m === 'number' ? planRanges(NUM, pathRanges(NUM, m, n as number)) : planRanges(BIG, pathRanges(BIG, m, n as bigint));
}

export interface ConsistencyProofOptions {
  /**
   * The verifier's convention. true (default): RFC 9162 §2.1.4.2, which
   * prepends the first root when m is a power of two, so the proof omits it.
   * false: docs/formats.md §9 evidence, verified without that step, so the proof
   * starts with the larger tree's hash of its first m leaves; this is RFC
   * 6962's SUBPROOF(m, D[n], false).
   */
  prependFirstRoot?: boolean;
}

function prependOption(opts: unknown): boolean {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts: expected an object');
  const v = (opts as ConsistencyProofOptions).prependFirstRoot ?? true;
  if (typeof v !== 'boolean') throw new TypeError('opts.prependFirstRoot: expected a boolean');
  return v;
}

/**
 * Plans the consistency proof between the trees of `m` and `n` leaves
 * (RFC 9162 §2.1.4.1 PROOF). m == n gives an empty proof; m == 0 and m > n
 * throw MalformedError (docs/formats.md §1: a proof from the empty tree does not
 * exist).
 */
export function planConsistency(m: number | bigint, n: number | bigint, opts: ConsistencyProofOptions = {}): ProofPlan {
  const [first, second] = pair(m, 'm', n, 'n');
  const prepend = prependOption(opts);
  if (first === 0 || first === 0n) throw new MalformedError('m: a consistency proof from the empty tree does not exist (m must be at least 1)');
  if (first > second) throw new MalformedError(`m: ${first} is larger than n ${second}`);
  // b = false from the start is SUBPROOF(m, D[n], false): the evidence form.
  const b = prepend || first === second;
  return typeof first === 'number'
    ? planRanges(NUM, subproofRanges(NUM, first, second as number, b))
    : planRanges(BIG, subproofRanges(BIG, first, second as bigint, b));
}

/** Plans the root of the tree of `size` leaves from the stored nodes of its right edge. */
export function planRoot(size: number | bigint): RootPlan {
  const n = _u63(size, 'size');
  const nodes: NodeId[] = [];
  const count = n <= SAFE ? _rangeNodes(NUM, 0, Number(n), nodes) : _rangeNodes(BIG, 0n, n, nodes);
  return {
    nodes,
    assemble(hashes) {
      checkHashes(hashes, nodes);
      return count === 0 ? EMPTY_ROOT.slice() : _fold(hashes, 0, count);
    },
  };
}

function readSync(read: ReadHashes, nodes: readonly NodeId[]): readonly Hash[] {
  _fn(read, 'read');
  return nodes.length === 0 ? [] : read(nodes);
}

async function readAsync(read: ReadHashesAsync, nodes: readonly NodeId[]): Promise<readonly Hash[]> {
  _fn(read, 'read');
  return nodes.length === 0 ? [] : await read(nodes);
}

/** Inclusion proof of leaf `index` in the tree of `size`, reading stored nodes through `read`. */
export function inclusionProof(index: number | bigint, size: number | bigint, read: ReadHashes): Hash[] {
  const plan = planInclusion(index, size);
  return plan.assemble(readSync(read, plan.nodes));
}

/** Consistency proof between trees of `m` and `n` leaves, reading stored nodes through `read`. */
export function consistencyProof(m: number | bigint, n: number | bigint, read: ReadHashes, opts: ConsistencyProofOptions = {}): Hash[] {
  const plan = planConsistency(m, n, opts);
  return plan.assemble(readSync(read, plan.nodes));
}

/** Root of the tree of `size` leaves, reading the stored nodes of its right edge through `read`. */
export function rootFromStored(size: number | bigint, read: ReadHashes): Hash {
  const plan = planRoot(size);
  return plan.assemble(readSync(read, plan.nodes));
}

/** inclusionProof with an asynchronous reader (fetched tiles, an async database). */
export async function inclusionProofAsync(index: number | bigint, size: number | bigint, read: ReadHashesAsync): Promise<Hash[]> {
  const plan = planInclusion(index, size);
  return plan.assemble(await readAsync(read, plan.nodes));
}

/** consistencyProof with an asynchronous reader. */
export async function consistencyProofAsync(
  m: number | bigint,
  n: number | bigint,
  read: ReadHashesAsync,
  opts: ConsistencyProofOptions = {},
): Promise<Hash[]> {
  const plan = planConsistency(m, n, opts);
  return plan.assemble(await readAsync(read, plan.nodes));
}

/** rootFromStored with an asynchronous reader. */
export async function rootFromStoredAsync(size: number | bigint, read: ReadHashesAsync): Promise<Hash> {
  const plan = planRoot(size);
  return plan.assemble(await readAsync(read, plan.nodes));
}
