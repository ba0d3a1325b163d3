/**
 * The monitor's rebuilt tree: a compact range (merkle/compact.ts) split at
 * level 8, so that a full entry bundle joins the tree as the one hash of its
 * 256-leaf subtree (folded in the audit worker) instead of 256 appends,
 * while a partial bundle at the right edge joins leaf by leaf.
 *
 * `upper` is the compact range of the level-8 subtrees (its "leaves" are
 * those subtree hashes: RFC 9162 interior hashing does not care which level
 * it starts from), `tail` the compact range of the leaves after the last
 * full bundle. Their edges, upper first, are the edge of the whole tree
 * (the set bits of size, largest first), which is what the state persists.
 */
import { CompactRange, TILE_WIDTH, type Hash } from '../../merkle/index.js';

function popcount(x: number): number {
  let n = 0;
  for (; x > 0; x = Math.floor(x / 2)) n += x % 2;
  return n;
}

export class RebuildRange {
  #upper: CompactRange;
  #tail: CompactRange;

  private constructor(upper: CompactRange, tail: CompactRange) {
    this.#upper = upper;
    this.#tail = tail;
  }

  /** The range of a tree of `size` leaves from its edge hashes (largest first), as `hashes()` gives them. */
  static from(size: number, hashes: readonly Hash[]): RebuildRange {
    const high = Math.floor(size / TILE_WIDTH);
    const split = popcount(high);
    return new RebuildRange(new CompactRange(high, hashes.slice(0, split)), new CompactRange(size % TILE_WIDTH, hashes.slice(split)));
  }

  static empty(): RebuildRange {
    return new RebuildRange(new CompactRange(), new CompactRange());
  }

  get size(): number {
    return Number(this.#upper.size) * TILE_WIDTH + Number(this.#tail.size);
  }

  appendLeaf(leafHash: Hash): void {
    this.#tail.append(leafHash);
    if (this.#tail.size === BigInt(TILE_WIDTH)) {
      this.#upper.append(this.#tail.root());
      this.#tail = new CompactRange();
    }
  }

  /** Appends a full bundle as the hash of its 256-leaf subtree; the size must be a multiple of 256. */
  appendSubtree(hash: Hash): void {
    if (this.#tail.size !== 0n) throw new Error(`appendSubtree: size ${this.size} is not a multiple of ${TILE_WIDTH}`);
    this.#upper.append(hash);
  }

  hashes(): Hash[] {
    return [...this.#upper.hashes(), ...this.#tail.hashes()];
  }

  root(): Hash {
    return new CompactRange(this.size, this.hashes()).root();
  }
}
