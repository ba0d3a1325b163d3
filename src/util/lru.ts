/**
 * A least-recently-used cache of byte strings, bounded by their total size
 * (lru-cache, with each value's byteLength as its size). For immutable
 * data only (full tiles, full entry bundles): a hit returns the stored
 * bytes themselves, which callers must not modify. test/bench/cache.ts
 * measures it against the Map-based cache it replaced.
 */
import { LRUCache } from 'lru-cache';

export class ByteLru<K extends NonNullable<unknown>> {
  readonly #max: number;
  readonly #cache: LRUCache<K, Uint8Array> | undefined;
  hits = 0;
  misses = 0;

  /** `maxBytes` of 0 disables the cache. */
  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`cache size must be a non-negative integer, got ${maxBytes}`);
    this.#max = maxBytes;
    // lru-cache refuses a bound of 0: a disabled cache holds nothing at all.
    this.#cache = maxBytes > 0 ? new LRUCache<K, Uint8Array>({ maxSize: maxBytes, sizeCalculation: (v) => v.byteLength }) : undefined;
  }

  /** The bound; 0 when the cache is off. */
  get maxBytes(): number {
    return this.#max;
  }

  get bytes(): number {
    return this.#cache?.calculatedSize ?? 0;
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }

  get(key: K): Uint8Array | undefined {
    const v = this.#cache?.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  set(key: K, value: Uint8Array): void {
    // A value larger than the whole cache is not kept (lru-cache would refuse it too), nor an empty
    // one: lru-cache sizes must be positive, and no tile or bundle is empty.
    if (this.#cache === undefined || value.byteLength > this.#max || value.byteLength === 0) return;
    this.#cache.set(key, value);
  }

  /** The cached value, or `load()`'s, which is cached. */
  through(key: K, load: () => Uint8Array): Uint8Array {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const v = load();
    this.set(key, v);
    return v;
  }
}
