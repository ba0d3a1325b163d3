/**
 * src/encoding.ts: canonical base64 (RFC 4648 §4), lowercase hex and
 * canonical decimals (docs/formats.md §0). Every decoder must accept exactly
 * the canonical form, so decode-then-encode gives back the input.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import {
  b64decode,
  b64encode,
  b64encodeJs,
  bytesEqual,
  concatBytes,
  fromUtf8,
  hexDecode,
  hexEncode,
  hexEncodeJs,
  MAX_INT63,
  parseDecimal,
  parseSafeDecimal,
  utf8,
} from '../src/encoding.js';
import { MalformedError } from '../src/errors.js';

function rejects(t: Test, fn: () => unknown, field: string, label: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  t.ok(thrown instanceof MalformedError, `${label}: MalformedError, got ${String(thrown)}`);
  t.ok(thrown instanceof Error && thrown.message.startsWith(`${field}:`), `${label}: message starts with the field name, got ${String(thrown)}`);
}

t.test('b64encode matches Buffer for every length 0..70', async (t) => {
  for (let n = 0; n <= 70; n++) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 37 + n * 11) & 0xff);
    const want = Buffer.from(bytes).toString('base64');
    t.equal(b64encode(bytes), want, `encode ${n} bytes`);
    t.equal(b64encodeJs(bytes), want, `encode ${n} bytes (pure-JS path, as in browsers)`);
    t.ok(bytesEqual(b64decode(want, 'x'), bytes), `decode ${n} bytes`);
  }
});

t.test('b64decode rejects non-canonical and foreign forms', async (t) => {
  rejects(t, () => b64decode('AB==', 'f'), 'f', 'non-zero padding bits with "=="');
  rejects(t, () => b64decode('AAB=', 'f'), 'f', 'non-zero padding bits with "="');
  rejects(t, () => b64decode('AAAAAAB=', 'f'), 'f', 'non-zero padding bits in the last quantum');
  t.same(b64decode('AA==', 'f'), new Uint8Array([0]), 'zero padding bits accepted');
  t.same(b64decode('AAA=', 'f'), new Uint8Array([0, 0]), 'zero padding bits accepted (one "=")');
  rejects(t, () => b64decode('AA', 'f'), 'f', 'missing padding');
  rejects(t, () => b64decode('AAA', 'f'), 'f', 'missing one "="');
  rejects(t, () => b64decode('AA=', 'f'), 'f', 'partial padding');
  rejects(t, () => b64decode('A===', 'f'), 'f', 'three "="');
  rejects(t, () => b64decode('====', 'f'), 'f', 'only padding');
  rejects(t, () => b64decode('A=AA', 'f'), 'f', '"=" in the middle');
  rejects(t, () => b64decode('AA==AA==', 'f'), 'f', 'padding before the last quantum');
  rejects(t, () => b64decode('-_AA', 'f'), 'f', 'URL-safe alphabet');
  rejects(t, () => b64decode('AA AA', 'f'), 'f', 'space');
  rejects(t, () => b64decode('AAAA\n', 'f'), 'f', 'trailing newline');
  rejects(t, () => b64decode('ÀAAA', 'f'), 'f', 'non-ASCII character');
  rejects(t, () => b64decode('AAAA', 'f', 4), 'f', 'wrong decoded length');
  t.equal(b64decode('', 'f').length, 0, 'empty string is zero bytes');
});

t.test('b64decode accepts only what b64encode produces', async (t) => {
  const chars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ '.split(''));
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 16 }), (arr) => {
      const s = arr.join('');
      let bytes: Uint8Array;
      try {
        bytes = b64decode(s, 'f');
      } catch (err) {
        if (!(err instanceof MalformedError)) throw err;
        return;
      }
      accepted++;
      if (b64encode(bytes) !== s) throw new Error(`${JSON.stringify(s)} decodes but re-encodes as ${b64encode(bytes)}`);
      if (!bytesEqual(bytes, new Uint8Array(Buffer.from(s, 'base64')))) throw new Error(`${JSON.stringify(s)} decodes unlike Buffer`);
    }),
    { numRuns: 3000 },
  );
  t.ok(accepted > 0, `some generated strings were canonical base64 (${accepted})`);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => bytesEqual(b64decode(b64encode(bytes), 'f'), bytes)),
    { numRuns: 1000 },
  );
  t.pass('round trip of random bytes holds');
});

t.test('hex', async (t) => {
  t.equal(hexEncode(new Uint8Array([0, 1, 0xab, 0xff])), '0001abff', 'lowercase encoding');
  t.same(hexDecode('0001abff', 'h'), new Uint8Array([0, 1, 0xab, 0xff]), 'decoding');
  t.same(hexDecode('00ff', 'h', 2), new Uint8Array([0, 0xff]), 'exact length accepted');
  rejects(t, () => hexDecode('ABCD', 'h'), 'h', 'uppercase');
  rejects(t, () => hexDecode('abc', 'h'), 'h', 'odd length');
  rejects(t, () => hexDecode('zz', 'h'), 'h', 'non-hex characters');
  rejects(t, () => hexDecode('0x00', 'h'), 'h', '0x prefix');
  rejects(t, () => hexDecode(' 0', 'h'), 'h', 'space');
  rejects(t, () => hexDecode('0011', 'h', 1), 'h', 'wrong length');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const h = hexEncode(bytes);
      return h === Buffer.from(bytes).toString('hex') && bytesEqual(hexDecode(h, 'h'), bytes);
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 8 }), (s) => {
      try {
        return hexEncode(hexDecode(s, 'h')) === s;
      } catch (err) {
        return err instanceof MalformedError;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('hex properties hold');
});

t.test('parseDecimal is canonical and bounded', async (t) => {
  t.equal(parseDecimal('0', 'n'), 0n, 'zero');
  t.equal(parseDecimal('8', 'n'), 8n, 'one digit');
  t.equal(parseDecimal('9223372036854775807', 'n'), MAX_INT63, '2^63-1');
  t.equal(parseDecimal('10', 'n', 10n), 10n, 'custom maximum is inclusive');
  for (const bad of ['', '00', '08', '007', '-1', '-0', '+1', ' 1', '1 ', '1\n', '1e3', '0x10', '1_000', '1.0', '\u0661', '\uff11']) {
    rejects(t, () => parseDecimal(bad, 'size'), 'size', `${JSON.stringify(bad)}`);
  }
  rejects(t, () => parseDecimal('9223372036854775808', 'size'), 'size', '2^63');
  rejects(t, () => parseDecimal('18446744073709551616', 'size'), 'size', '2^64');
  rejects(t, () => parseDecimal('1'.repeat(400), 'size'), 'size', 'a 400-digit number');
  rejects(t, () => parseDecimal('11', 'size', 10n), 'size', 'above a custom maximum');
  t.equal(parseSafeDecimal('9007199254740991', 'n'), Number.MAX_SAFE_INTEGER, 'parseSafeDecimal at 2^53-1');
  rejects(t, () => parseSafeDecimal('9007199254740992', 'n'), 'n', 'parseSafeDecimal at 2^53');
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MAX_INT63 }), (n) => parseDecimal(n.toString(), 'n') === n),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 22 }), (s) => {
      try {
        return parseDecimal(s, 'n').toString() === s;
      } catch (err) {
        return err instanceof MalformedError;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('decimal properties hold');
});

t.test('UTF-8 and byte helpers', async (t) => {
  t.same(utf8('\u2014 '), new Uint8Array([0xe2, 0x80, 0x94, 0x20]), 'em dash and space');
  t.equal(fromUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), 'u'), '\ufeffa', 'a BOM is kept, not stripped');
  rejects(t, () => fromUtf8(new Uint8Array([0xff]), 'u'), 'u', '0xff');
  rejects(t, () => fromUtf8(new Uint8Array([0xc0, 0xaf]), 'u'), 'u', 'overlong encoding');
  rejects(t, () => fromUtf8(new Uint8Array([0xed, 0xa0, 0x80]), 'u'), 'u', 'encoded surrogate');
  rejects(t, () => fromUtf8(new Uint8Array([0xe2, 0x80]), 'u'), 'u', 'truncated sequence');
  t.ok(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), 'equal bytes');
  t.notOk(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), 'different bytes');
  t.notOk(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0])), 'different lengths');
  t.same(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])), new Uint8Array([1, 2, 3]), 'concatenation');
});

t.test('the Buffer and pure-JS encoders agree, on views into larger buffers too', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(20), fc.nat(20), (bytes, head, tail) => {
      // The same bytes as a view at an offset into a larger buffer.
      const big = new Uint8Array(head + bytes.length + tail).fill(0xee);
      big.set(bytes, head);
      const view = big.subarray(head, head + bytes.length);
      const b64 = Buffer.from(bytes).toString('base64');
      const hex = Buffer.from(bytes).toString('hex');
      return b64encode(view) === b64 && b64encodeJs(view) === b64 && hexEncode(view) === hex && hexEncodeJs(view) === hex;
    }),
    { numRuns: 1000 },
  );
  t.pass('1000 random inputs encode the same on both paths');
});
