/**
 * A least-recently-used cache of byte strings, bounded by their total size.
 * For immutable data only (full tiles, full entry bundles): a hit returns
 * the stored bytes themselves, which callers must not modify.
 */
export class ByteLru<K> {
  readonly #max: number;
  readonly #map = new Map<K, Uint8Array>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  /** `maxBytes` of 0 disables the cache. */
  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`cache size must be a non-negative integer, got ${maxBytes}`);
    this.#max = maxBytes;
  }

  /** The bound; 0 when the cache is off. */
  get maxBytes(): number {
    return this.#max;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): Uint8Array | undefined {
    const v = this.#map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Map keeps insertion order: re-inserting makes this the most recent.
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  set(key: K, value: Uint8Array): void {
    if (value.byteLength > this.#max) return;
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#bytes -= old.byteLength;
      this.#map.delete(key);
    }
    this.#map.set(key, value);
    this.#bytes += value.byteLength;
    while (this.#bytes > this.#max) {
      const [k, v] = this.#map.entries().next().value as [K, Uint8Array];
      this.#map.delete(k);
      this.#bytes -= v.byteLength;
    }
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
