import t from 'tap';
import fc from 'fast-check';
import { ByteLru } from '../../src/util/lru.js';

const bytes = (n: number, fill = 0) => new Uint8Array(n).fill(fill);

t.test('evicts the least recently used entries to stay within its byte bound', async (t) => {
  const c = new ByteLru<string>(100);
  c.set('a', bytes(40, 1));
  c.set('b', bytes(40, 2));
  t.equal(c.get('a')?.[0], 1, 'a hit returns the stored bytes');
  c.set('c', bytes(40, 3)); // 120 > 100: b is the least recently used
  t.equal(c.get('b'), undefined, 'the least recently used entry went first');
  t.equal(c.get('a')?.[0], 1, 'the recently read one stayed');
  t.equal(c.bytes, 80, 'bytes are accounted');
  c.set('a', bytes(10, 4));
  t.equal(c.bytes, 50, 'replacing a key replaces its size');
  c.set('huge', bytes(101));
  t.equal(c.get('huge'), undefined, 'a value larger than the bound is not cached');
  t.equal(c.hits, 2, 'hits counted');
  t.equal(c.misses, 2, 'misses counted');
});

t.test('size 0 caches nothing; a negative size is refused', async (t) => {
  const c = new ByteLru<number>(0);
  let loads = 0;
  const load = () => (loads++, bytes(1));
  c.through(1, load);
  c.through(1, load);
  t.equal(loads, 2, 'every read loads');
  t.throws(() => new ByteLru(-1), RangeError);
  t.throws(() => new ByteLru(1.5), RangeError);
});

t.test('property: matches a reference LRU for any sequence of operations', async (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 7 }), len: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 7 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
      const c = new ByteLru<number>(max);
      // Reference: an array of [key, length], least recent first.
      let ref: Array<[number, number]> = [];
      for (const o of ops) {
        if (o.kind === 'get') {
          const i = ref.findIndex(([k]) => k === o.key);
          const got = c.get(o.key);
          if (i < 0) {
            if (got !== undefined) return false;
          } else {
            const [e] = ref.splice(i, 1);
            ref.push(e!);
            if (got === undefined || got.length !== e![1]) return false;
          }
        } else {
          c.set(o.key, bytes(o.len));
          // Values larger than the bound, and empty ones, are not cached (the key keeps its old value).
          if (o.len > max || o.len === 0) continue;
          ref = ref.filter(([k]) => k !== o.key);
          ref.push([o.key, o.len]);
          while (ref.reduce((n, [, l]) => n + l, 0) > max) ref.shift();
        }
        if (c.bytes !== ref.reduce((n, [, l]) => n + l, 0) || c.size !== ref.length) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('500 random operation sequences agree with the reference');
});
