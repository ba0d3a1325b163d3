/**
 * The log's read cache (src/util/lru.ts, on lru-cache) against the
 * Map-based cache it replaced (kept below as the reference), on the read
 * hot path: hits on full tiles, and a working set larger than the cache
 * (a miss, a load and an eviction per read). The bound is one plain
 * Map.get per read, measured in the same run.
 *
 *   npm run bench -- cache
 */
import { ByteLru } from '../../src/util/lru.js';
import { machine, rate } from './_util.js';

/** The cache before lru-cache (src/util/lru.ts until this change). */
class MapLru<K> {
  readonly #max: number;
  readonly #map = new Map<K, Uint8Array>();
  #bytes = 0;
  hits = 0;
  misses = 0;
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }
  get(key: K): Uint8Array | undefined {
    const v = this.#map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
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
  through(key: K, load: () => Uint8Array): Uint8Array {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const v = load();
    this.set(key, v);
    return v;
  }
}

interface Cache {
  through(key: string, load: () => Uint8Array): Uint8Array;
}

const TILE = 8192;
const tiles = 4096; // 32 MiB of distinct tiles
const keys = Array.from({ length: tiles }, (_, i) => `0/${i}`);
const tile = new Uint8Array(TILE);
let seed = 1;
const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % tiles;

function measure(name: string, make: (bytes: number) => Cache, seconds: number): { hit: number; churn: number } {
  const big = make(tiles * TILE * 2);
  for (const k of keys) big.through(k, () => tile);
  const hit = rate(() => big.through(keys[next()]!, () => tile), seconds);
  const small = make((tiles * TILE) / 4); // a quarter of the working set: mostly misses and evictions
  const churn = rate(() => small.through(keys[next()]!, () => tile), seconds);
  console.log(`${name.padEnd(28)} hits ${(hit / 1e6).toFixed(2)} M reads/s   working set 4x the cache ${(churn / 1e6).toFixed(2)} M reads/s`);
  return { hit, churn };
}

const seconds = Number(process.env['BENCH_SECONDS'] ?? 2);
console.log(`machine: ${machine()}`);
const map = new Map(keys.map((k) => [k, tile]));
const bound = rate(() => map.get(keys[next()]!), seconds);
console.log(`${'bound: one Map.get per read'.padEnd(28)} ${(bound / 1e6).toFixed(2)} M reads/s`);
// Alternate the two, twice, so that neither gets the warmer JIT or the quieter second.
const runs = [measure('before: Map-based LRU', (b) => new MapLru<string>(b), seconds), measure('after: lru-cache (ByteLru)', (b) => new ByteLru<string>(b), seconds)];
runs.push(measure('before: Map-based LRU', (b) => new MapLru<string>(b), seconds), measure('after: lru-cache (ByteLru)', (b) => new ByteLru<string>(b), seconds));
const best = (i: number, f: 'hit' | 'churn') => Math.max(runs[i]![f], runs[i + 2]![f]);
console.log(`best of two: hits ${(best(0, 'hit') / 1e6).toFixed(2)} -> ${(best(1, 'hit') / 1e6).toFixed(2)} M reads/s; churn ${(best(0, 'churn') / 1e6).toFixed(2)} -> ${(best(1, 'churn') / 1e6).toFixed(2)} M reads/s (bound ${(bound / 1e6).toFixed(2)})`);
