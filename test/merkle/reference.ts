/**
 * Test-only helpers for test/merkle/: a recursive RFC 6962 §2.1 reference
 * written straight from the RFC's definitions (MTH, PATH, PROOF/SUBPROOF)
 * and recursive verifiers that mirror them, all on @noble/hashes so that
 * they share no code with merkle/; an in-memory node store; the vectors.
 */
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { CompactRange, type Hash, type NodeId, type StoredNode } from '../../merkle/index.js';
import { rootPath } from '../_root.js';

export const enc = new TextEncoder();

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function refLeafHash(data: Uint8Array): Hash {
  return sha256(Uint8Array.of(0, ...data));
}

export function refNodeHash(l: Hash, r: Hash): Hash {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(l, 1);
  buf.set(r, 33);
  return sha256(buf);
}

/** Largest power of two strictly below n (n > 1). */
export function refSplit(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 §2.1: MTH(D[n]) over leaf hashes. */
export function mth(d: readonly Hash[]): Hash {
  if (d.length === 0) return sha256(new Uint8Array(0));
  if (d.length === 1) return d[0]!;
  const k = refSplit(d.length);
  return refNodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}

/** RFC 6962 §2.1.1: PATH(m, D[n]). */
export function path(m: number, d: readonly Hash[]): Hash[] {
  if (d.length <= 1) return [];
  const k = refSplit(d.length);
  if (m < k) return [...path(m, d.slice(0, k)), mth(d.slice(k))];
  return [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}

/** RFC 6962 §2.1.2: SUBPROOF(m, D[n], b). */
export function subproof(m: number, d: readonly Hash[], b: boolean): Hash[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const k = refSplit(n);
  if (m <= k) return [...subproof(m, d.slice(0, k), b), mth(d.slice(k))];
  return [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

/** RFC 6962 §2.1.2: PROOF(m, D[n]). */
export function proof(m: number, d: readonly Hash[]): Hash[] {
  return subproof(m, d, true);
}

export class RefLengthError extends Error {}

/** The root a PATH leads to, mirroring PATH's recursion; throws RefLengthError for a wrong length. */
export function refRootFromPath(leaf: Hash, m: number, n: number, p: readonly Hash[]): Hash {
  if (n === 1) {
    if (p.length !== 0) throw new RefLengthError('path too long');
    return leaf;
  }
  if (p.length === 0) throw new RefLengthError('path too short');
  const k = refSplit(n);
  const last = p[p.length - 1]!;
  const rest = p.slice(0, -1);
  return m < k ? refNodeHash(refRootFromPath(leaf, m, k, rest), last) : refNodeHash(last, refRootFromPath(leaf, m - k, n - k, rest));
}

/**
 * The (old, new) roots a SUBPROOF(m, D[n], b) leads to, mirroring its
 * recursion; `oldRoot` stands for the part b == true leaves out.
 */
export function refConsistencyRoots(m: number, n: number, b: boolean, p: readonly Hash[], oldRoot: Hash): [Hash, Hash] {
  if (m === n) {
    if (b) {
      if (p.length !== 0) throw new RefLengthError('proof too long');
      return [oldRoot, oldRoot];
    }
    if (p.length !== 1) throw new RefLengthError('proof length');
    return [p[0]!, p[0]!];
  }
  if (p.length === 0) throw new RefLengthError('proof too short');
  const k = refSplit(n);
  const last = p[p.length - 1]!;
  const rest = p.slice(0, -1);
  if (m <= k) {
    const [o, nw] = refConsistencyRoots(m, k, b, rest, oldRoot);
    return [o, refNodeHash(nw, last)];
  }
  const [o, nw] = refConsistencyRoots(m - k, n - k, false, rest, oldRoot);
  return [refNodeHash(last, o), refNodeHash(last, nw)];
}

const key = (level: number, index: bigint): string => `${level}/${index}`;

/** An in-memory store of stored nodes, filled from CompactRange.append. */
export class MemoryStore {
  readonly nodes = new Map<string, Hash>();
  reads = 0;

  add(nodes: readonly StoredNode[]): void {
    for (const n of nodes) this.nodes.set(key(n.level, n.index), n.hash);
  }

  read = (ids: readonly NodeId[]): Hash[] => {
    this.reads++;
    return ids.map((id) => {
      const h = this.nodes.get(key(id.level, id.index));
      if (h === undefined) throw new Error(`node ${key(id.level, id.index)} is not stored`);
      return h;
    });
  };

  readAsync = async (ids: readonly NodeId[]): Promise<Hash[]> => this.read(ids);
}

/** A tree built by appending leaf hashes to a CompactRange, every produced node stored. */
export function buildTree(leafHashes: readonly Hash[]): { range: CompactRange; store: MemoryStore } {
  const range = new CompactRange();
  const store = new MemoryStore();
  for (const h of leafHashes) store.add(range.append(h));
  return { range, store };
}

/** Leaf hashes of the vectors' leaves: leaf i is the ASCII bytes of "leaf <i>". */
export function vectorLeafHashes(count: number): Hash[] {
  return Array.from({ length: count }, (_, i) => refLeafHash(enc.encode(`leaf ${i}`)));
}

export function loadVectors<T>(rel: string): T {
  return JSON.parse(readFileSync(rootPath('vectors', rel), 'utf8')) as T;
}

export function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice();
  c[Math.floor(bit / 8)]! ^= 1 << bit % 8;
  return c;
}
