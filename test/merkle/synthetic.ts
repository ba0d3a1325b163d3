/**
 * A consistent synthetic Merkle tree of up to 2^63-1 leaves for tests and
 * benchmarks: every leaf hash is U, except leaf `p`, which is S. Then every
 * complete subtree at level L has the same hash U[L] unless it contains p,
 * and the one that does has S[L], so stored nodes are answered in O(1)
 * without materialising the tree, and the RFC 9162 proofs planned from them
 * verify against the root folded from the same nodes.
 */
import { nodeHash, sha256, type Hash, type NodeId } from '../../merkle/index.js';

export class SyntheticTree {
  readonly u: Hash[] = [];
  readonly s: Hash[] = [];
  /** p / 2^L: the index of the special node at level L. */
  readonly at: bigint[] = [];
  reads = 0;

  constructor(readonly p: bigint, seed = 'synthetic') {
    const enc = new TextEncoder();
    this.u.push(sha256(enc.encode(`${seed} U`)));
    this.s.push(sha256(enc.encode(`${seed} S`)));
    this.at.push(p);
    for (let level = 1; level <= 62; level++) {
      const u = this.u[level - 1]!;
      const s = this.s[level - 1]!;
      const left = this.at[level - 1]! % 2n === 0n;
      this.u.push(nodeHash(u, u));
      this.s.push(left ? nodeHash(s, u) : nodeHash(u, s));
      this.at.push(this.at[level - 1]! / 2n);
    }
  }

  hash(id: NodeId): Hash {
    return id.index === this.at[id.level] ? this.s[id.level]! : this.u[id.level]!;
  }

  read = (ids: readonly NodeId[]): Hash[] => {
    this.reads++;
    return ids.map((id) => this.hash(id));
  };

  readAsync = async (ids: readonly NodeId[]): Promise<Hash[]> => this.read(ids);

  /** The leaf hash of leaf i. */
  leaf(i: bigint): Hash {
    return i === this.p ? this.s[0]! : this.u[0]!;
  }
}
