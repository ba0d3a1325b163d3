/**
 * The CBOR layer (src/entry/cbor.ts): the pinned cbor-x configuration emits
 * RFC 8949 §4.2.1 deterministic bytes with bare major types, and the
 * scanner accepts exactly the deterministic, tag-free items.
 */
import { Encoder } from 'cbor-x';
import t from 'tap';
import { cborx, encodeCbor, isUtf8, scanDeterministic } from '../../src/entry/cbor.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import { expectError, hex, unhex } from './_helpers.js';

const scan = (b: Uint8Array, maxDepth = 3): number => scanDeterministic(b, { label: 'x', maxDepth });

t.test('encoder emits bare byte strings, text strings and maps', async (t) => {
  const digest = new Uint8Array(32).fill(7);
  t.equal(hex(encodeCbor(new Map([[3, digest]]))), 'a1035820' + '07'.repeat(32), 'Uint8Array → major type 2, no tag 64');
  t.equal(hex(encodeCbor(new Map([[3, Buffer.from(digest)]]))), 'a1035820' + '07'.repeat(32), 'Buffer → major type 2');
  t.equal(hex(encodeCbor(new Map([[2, 'é']]))), 'a10262c3a9', 'string → major type 3 with its UTF-8 byte length');
  t.equal(hex(encodeCbor(new Map([[6, new Map([['a', 'b']])]]))), 'a106a161616162', 'nested Map → bare major type 5, no tag 259');
  t.equal(hex(encodeCbor(new Map([[1, 1]]))), 'a10101', 'small integer → one byte');
  // The defaults are not what we need: prove each pinned option matters.
  const nodeDefault = new Encoder({ useRecords: false });
  t.equal(hex(nodeDefault.encode(digest)).slice(0, 4), 'd840', 'cbor-x default in Node tags a Uint8Array with 64 (why tagUint8Array: false)');
  const objMaps = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
  t.equal(hex(objMaps.encode(new Map([[1, 1]]))).slice(0, 6), 'd90103', 'with mapsAsObjects: true cbor-x tags Maps with 259 (why mapsAsObjects: false)');
  const records = new Encoder({ tagUint8Array: false, mapsAsObjects: false });
  t.not(hex(records.encode({ a: 1 })).slice(0, 2), 'a1', 'with records enabled a plain object is not a bare map (why useRecords: false)');
  t.equal(hex(cborx.encode({ a: 1 })), 'a1616101', 'our encoder writes a plain object as an exact-size bare map (variableMapSize: true)');
  t.equal(cborx.decode(unhex('a10101')) instanceof Map, true, 'maps decode to Map (integer keys stay numbers)');
});

t.test('encoder output is a fresh plain Uint8Array', async (t) => {
  const a = encodeCbor(new Map([[1, 1]]));
  const b = encodeCbor(new Map([[1, 2]]));
  t.equal(Object.getPrototypeOf(a), Uint8Array.prototype, 'not a Buffer');
  t.equal(hex(a), 'a10101', 'first result intact after a second encode');
  t.not(a.buffer, b.buffer, 'results do not share memory');
});

t.test('text head lengths are shortest-form at every boundary', async (t) => {
  for (const [len, headHex] of [
    [23, '77'],
    [24, '7818'],
    [255, '78ff'],
    [256, '790100'],
    [65535, '79ffff'],
    [65536, '7a00010000'],
  ] as const) {
    const out = encodeCbor(new Map([[2, 'n'.repeat(len)]]));
    t.equal(hex(out.subarray(2, 2 + headHex.length / 2)), headHex, `ASCII text of ${len} bytes has head ${headHex}`);
  }
  // cbor-x guesses the head size from the UTF-16 length, then moves the
  // bytes when the UTF-8 length crosses a boundary: check those moves.
  for (const [s, headHex] of [
    ['é'.repeat(11), '76'],
    ['é'.repeat(12), '7818'],
    ['é'.repeat(127), '78fe'],
    ['é'.repeat(128), '790100'],
    ['漢'.repeat(8), '7818'],
    ['🚀'.repeat(16), '7840'],
  ] as const) {
    const out = encodeCbor(new Map([[2, s]]));
    t.equal(hex(out.subarray(2, 2 + headHex.length / 2)), headHex, `${s.length} UTF-16 units → head ${headHex}`);
    t.equal(hex(out.subarray(2 + headHex.length / 2)), Buffer.from(s, 'utf8').toString('hex'), `${s.slice(0, 2)}…: content is its UTF-8`);
    t.doesNotThrow(() => scan(out), `${s.slice(0, 2)}… x${s.length}: encoder output passes the scanner`);
  }
});

t.test('scanner accepts deterministic items and returns the major type', async (t) => {
  t.equal(scan(unhex('a0')), 5, 'empty map');
  t.equal(scan(unhex('a201020304')), 5, 'sorted map');
  t.equal(scan(unhex('a2616101626161' + '02')), 5, 'text keys sorted length-first');
  t.equal(scan(unhex('83010203')), 4, 'array');
  t.equal(scan(unhex('1bffffffffffffffff')), 0, 'largest uint');
  t.equal(scan(unhex('3bffffffffffffffff')), 1, 'most negative int');
  t.equal(scan(unhex('1b0000000100000000')), 0, '2^32 in 8 bytes is shortest');
  t.equal(scan(unhex('40')), 2, 'empty byte string');
  t.equal(scan(unhex('60')), 3, 'empty text string');
  t.equal(scan(unhex('818181a0'), 4), 4, 'nesting at the depth limit');
});

t.test('scanner refusals', async (t) => {
  const cases: Array<[string, string, typeof MalformedError | typeof InvalidError, string, string]> = [
    ['1a0000ffff', 'uint 65535 in 4 bytes', InvalidError, 'non-canonical', 'shortest'],
    ['1b00000000ffffffff', 'uint 2^32-1 in 8 bytes', InvalidError, 'non-canonical', 'shortest'],
    ['3817', 'negative -24 in 1 byte', InvalidError, 'non-canonical', 'shortest'],
    ['a202010101', 'map keys 2 then 1', InvalidError, 'non-canonical', 'out of order'],
    ['a2626161016162' + '02', 'longer text key first', InvalidError, 'non-canonical', 'out of order'],
    ['a201010102', 'duplicate key', InvalidError, 'non-canonical', 'duplicate'],
    ['9f01ff', 'indefinite array', InvalidError, 'non-canonical', 'indefinite'],
    ['0001', 'trailing byte', InvalidError, 'non-canonical', 'trailing'],
    ['c101', 'tag 1', InvalidError, 'invalid', 'tag 1'],
    ['f4', 'false', InvalidError, 'invalid', 'simple value'],
    ['fa3f800000', 'float32', InvalidError, 'invalid', 'floating-point'],
    ['f820', 'simple 32', InvalidError, 'invalid', 'simple value 32'],
    ['61ff', 'invalid UTF-8', InvalidError, 'invalid', 'UTF-8'],
    ['81818181a0', 'too deep', InvalidError, 'invalid', 'deeper than 3'],
    ['', 'empty', MalformedError, 'malformed', 'truncated'],
    ['5b0000000100000000', 'byte string 2^32', MalformedError, 'malformed', 'truncated'],
    ['9bffffffffffffffff', 'array 2^64-1', MalformedError, 'malformed', 'truncated'],
    ['bbffffffffffffffff', 'map 2^64-1', MalformedError, 'malformed', 'truncated'],
    ['1c', 'ai 28', MalformedError, 'malformed', 'reserved'],
    ['ff', 'break', MalformedError, 'malformed', 'break'],
    ['f81f', 'simple 31 in 2 bytes', MalformedError, 'malformed', 'simple value'],
    ['3f', 'indefinite negative', MalformedError, 'malformed', 'indefinite'],
    ['a1', 'map without pairs', MalformedError, 'malformed', 'truncated'],
    ['fb3ff00000', 'truncated float64', MalformedError, 'malformed', 'truncated'],
  ];
  for (const [h, what, cls, code, field] of cases) expectError(t, () => scan(unhex(h)), cls, code, field, `${what} (${h})`);
});

t.test('scanner handles an 8 KiB nesting bomb without recursion trouble', async (t) => {
  for (const byte of [0x81, 0xa1, 0x9f, 0xbf, 0xc6]) {
    const bomb = new Uint8Array(8192).fill(byte);
    let err: unknown;
    try {
      scan(bomb, 3);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof InvalidError || err instanceof MalformedError, `0x${byte.toString(16)} x 8192: typed error (${err instanceof Error ? err.message : String(err)})`);
  }
});

t.test('the UTF-8 validator agrees with a fatal TextDecoder', async (t) => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const reference = (b: Uint8Array): boolean => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  // Every 1-, 2- and 3-byte sequence over the interesting lead and continuation bytes, and 4-byte ones around the edges.
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff];
  let checked = 0;
  const mismatches: string[] = [];
  const check = (b: Uint8Array): void => {
    checked++;
    if (isUtf8(b) !== reference(b)) mismatches.push(hex(b));
  };
  for (const a of interesting) {
    check(Uint8Array.of(a));
    for (const b of interesting) {
      check(Uint8Array.of(a, b));
      for (const c of interesting) {
        check(Uint8Array.of(a, b, c));
        for (const d of [0x80, 0xbf, 0x41, 0xc0]) check(Uint8Array.of(a, b, c, d));
      }
    }
  }
  for (const s of ['', 'ascii', 'café', '漢字', '🚀', '\u{10ffff}', '\ud7ff', '\ue000']) check(Buffer.from(s, 'utf8'));
  t.same(mismatches, [], `no disagreement over ${checked} byte strings`);
  const mid = Buffer.from('xx漢yy', 'utf8');
  t.equal(isUtf8(mid, 0, 3), false, 'a sequence cut by the range end is refused');
  t.equal(isUtf8(mid, 2, 5), true, 'a range holding exactly one sequence is valid');
});
