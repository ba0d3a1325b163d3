/**
 * The browser build's small CBOR codec (src/entry/_cbor-small.ts) against
 * cbor-x with the pinned options of src/entry/cbor.ts, which Node uses:
 * the same values from every entry in the vector files that the strict
 * scanner accepts, the same bytes when those values are encoded again, and
 * the same bytes for generated values across every head size. Expected
 * values come from cbor-x (an independent implementation) and from the
 * vector files, never from the small codec itself.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cborx, scanDeterministic } from '../../src/entry/cbor.js';
import { Encoder } from '../../src/entry/_cbor-small.js';
import { ROOT } from '../proof/_helpers.js';

const small = new Encoder();

/** Values as plain data for t.same: byte strings (Buffer or Uint8Array) as hex, Maps as [key, value] pairs. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (v instanceof Map) return { map: [...v].map(([k, x]) => [plain(k), plain(x)]) };
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'bigint') return { bigint: v.toString() };
  return v;
}

function hexStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string' && v.length >= 2 && v.length % 2 === 0 && /^[0-9a-f]+$/.test(v)) out.push(v);
  else if (Array.isArray(v)) for (const x of v) hexStrings(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) hexStrings(x, out);
}

t.test('every deterministic CBOR item in the vector files decodes and re-encodes as with cbor-x', async (t) => {
  const items: string[] = [];
  for (const dir of ['vectors/entry', 'vectors/dsse', 'vectors/ecdsa']) {
    for (const f of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.json'))) hexStrings(JSON.parse(readFileSync(join(ROOT, dir, f), 'utf8')), items);
  }
  let checked = 0;
  for (const h of items) {
    const bytes = Uint8Array.from(Buffer.from(h, 'hex'));
    try {
      scanDeterministic(bytes, { label: 'item', maxDepth: 4 });
    } catch {
      continue; // Only what the scanner accepts ever reaches a decoder.
    }
    const want = cborx.decode(bytes) as unknown;
    const got = small.decode(bytes);
    t.same(plain(got), plain(want), `${h.slice(0, 24)}…: the same value as cbor-x`);
    t.equal(Buffer.from(small.encode(got)).toString('hex'), Buffer.from(cborx.encode(want)).toString('hex'), `${h.slice(0, 24)}…: encoded again, the same bytes as cbor-x`);
    if (want instanceof Map) checked++;
  }
  t.ok(checked >= 20, `at least 20 entries checked (${checked})`);
});

t.test('generated values across every head size encode to the bytes cbor-x gives, and decode back', async (t) => {
  const ints = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1];
  const values: unknown[] = [
    ...ints,
    ...ints.map((n) => -1 - n),
    2n ** 32n,
    2n ** 64n - 1n,
    -1n - 2n ** 40n,
    '',
    'a',
    'ü€😀',
    'x'.repeat(23),
    'x'.repeat(24),
    'x'.repeat(256),
    new Uint8Array(0),
    new Uint8Array(24).fill(7),
    new Uint8Array(70000).fill(1),
    [],
    [new Uint8Array([1, 2]), new Uint8Array(0)],
    new Map<unknown, unknown>([
      [1, 2],
      [2, 'ssh'],
      [3, new Uint8Array(32).fill(9)],
      [4, new Map([['commit', 'abc'], ['k', '']])],
      [5, Array.from({ length: 30 }, (_, i) => new Uint8Array([i]))],
    ]),
  ];
  for (const v of values) {
    const want = Buffer.from(cborx.encode(v as Map<unknown, unknown>)).toString('hex');
    const got = small.encode(v);
    t.equal(Buffer.from(got).toString('hex'), want, `${JSON.stringify(plain(v)).slice(0, 40)}: the same bytes as cbor-x`);
    t.same(plain(small.decode(got)), plain(cborx.decode(got)), 'and decodes to what cbor-x decodes');
  }
  t.same(plain(small.decode(Uint8Array.from([0x1b, 0, 0, 0, 1, 0, 0, 0, 0]))), plain(cborx.decode(Uint8Array.from([0x1b, 0, 0, 0, 1, 0, 0, 0, 0]))), 'a 64-bit integer decodes to a bigint, as with cbor-x');
  t.throws(() => small.decode(Uint8Array.from([0x42, 1])), /end of CBOR data/, 'a cut byte string is refused');
  t.throws(() => small.decode(Uint8Array.from([0xf6])), /unsupported/, 'a simple value is refused');
  t.throws(() => small.decode(Uint8Array.from([0x01, 0x01])), /trailing/, 'trailing bytes are refused');
  t.throws(() => small.encode(1.5), /cannot encode/, 'a float is refused');
  t.throws(() => small.encode(2 ** 32), /cannot encode/, 'and a number beyond 32 bits, which cbor-x writes as a float');
});
