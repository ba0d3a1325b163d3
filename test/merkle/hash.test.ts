/**
 * merkle/hash.ts and the specialised SHA-256 of merkle/_sha256.ts against
 * @noble/hashes (RFC 9162 §2.1.1 leaf and node hashes).
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import fc from 'fast-check';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash, sha256 } from '../../merkle/index.js';
import { MalformedError } from '../../src/errors.js';
import { generate, TARGET } from './gen-sha256.js';
import { hex, refLeafHash, refNodeHash } from './reference.js';
import * as fast from '../../merkle/_sha256.js';
import * as small from '../../merkle/_sha256-small.js';
import { rootPath } from '../_root.js';

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

t.test('constants', async (t) => {
  t.equal(HASH_SIZE, 32, 'HASH_SIZE is 32');
  t.equal(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'EMPTY_ROOT is SHA-256 of the empty string');
  t.equal(hex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'sha256("abc") is the FIPS 180-2 example');
});

t.test('leafHash is SHA-256(0x00 || data)', async (t) => {
  // printf 'leaf 0' | (printf '\0'; cat) | sha256sum
  t.equal(hex(leafHash(new TextEncoder().encode('leaf 0'))), '1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d305', 'leaf hash of "leaf 0" matches the vectors');
  t.doesNotThrow(
    () => fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (d) => hex(leafHash(d)) === hex(refLeafHash(d)))),
    'leafHash agrees with @noble/hashes on random inputs',
  );
});

t.test('nodeHash (specialised SHA-256) agrees with @noble/hashes', async (t) => {
  t.doesNotThrow(
    () => fc.assert(fc.property(hash32, hash32, (l, r) => hex(nodeHash(l, r)) === hex(refNodeHash(l, r))), { numRuns: 5000 }),
    'random children agree',
  );
  // The second block's schedule is precomputed per value of right[31]: try them all.
  const l = nobleSha256(new Uint8Array([1]));
  for (let b = 0; b < 256; b++) {
    const r = nobleSha256(new Uint8Array([2, b]));
    r[31] = b;
    t.equal(hex(nodeHash(l, r)), hex(refNodeHash(l, r)), `right[31] = ${b}`);
  }
  const zero = new Uint8Array(32);
  const ones = new Uint8Array(32).fill(0xff);
  t.equal(hex(nodeHash(zero, ones)), hex(refNodeHash(zero, ones)), 'all-zero and all-one children');
  t.equal(hex(nodeHash(ones, zero)), hex(refNodeHash(ones, zero)), 'all-one and all-zero children');
  // nodeHash(a, b) != nodeHash(b, a): order matters
  t.not(hex(nodeHash(zero, ones)), hex(nodeHash(ones, zero)), 'children order matters');
});

t.test('nodeHash does not modify or alias its inputs', async (t) => {
  const l = new Uint8Array(32).fill(7);
  const r = new Uint8Array(32).fill(9);
  const h = nodeHash(l, r);
  t.ok(l.every((x) => x === 7) && r.every((x) => x === 9), 'inputs unchanged');
  t.not(h.buffer, l.buffer, 'result is a fresh array');
  const h2 = nodeHash(l, r);
  t.equal(hex(h), hex(h2), 'deterministic across calls (no state leaks between calls)');
});

t.test('input checks name the parameter', async (t) => {
  const h = new Uint8Array(32);
  t.throws(() => nodeHash(new Uint8Array(31), h), new MalformedError('left: must be 32 bytes, got 31'), '31-byte left');
  t.throws(() => nodeHash(h, new Uint8Array(33)), new MalformedError('right: must be 32 bytes, got 33'), '33-byte right');
  t.throws(() => nodeHash('x' as unknown as Uint8Array, h), TypeError, 'string left');
  t.throws(() => leafHash([1, 2] as unknown as Uint8Array), TypeError, 'array data');
  t.throws(() => sha256(undefined as unknown as Uint8Array), TypeError, 'undefined data');
});

t.test('the browser build\'s small word functions give what the fast ones and the reference give', async (t) => {
  const h32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  fc.assert(
    fc.property(h32, h32, (l, r) => {
      const want = refNodeHash(l, r);
      for (const m of [fast, small]) {
        if (hex(m._nodeBytes(l, r)) !== hex(want)) return false;
        const w = new Int32Array(24);
        m._loadWords(l, w, 3);
        m._loadWords(r, w, 11);
        if (hex(m._storeWords(w, 3)) !== hex(l) || !m._wordsEqual(w, 11, r) || m._wordsEqual(w, 3, r) !== (hex(l) === hex(r))) return false;
        m._nodeWords(w, 3, w, 11, w, 3); // out aliases the left child
        if (!m._wordsEqual(w, 3, want)) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('500 random pairs agree');
});

t.test('merkle/_sha256.ts is what test/merkle/gen-sha256.ts generates', async (t) => {
  t.equal(readFileSync(TARGET, 'utf8'), generate(), 'regenerate with npx tsx test/merkle/gen-sha256.ts --write');
});

t.test('merkle/ imports nothing Node-only', async (t) => {
  const { readdirSync } = await import('node:fs');
  const dir = rootPath('merkle');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(rootPath('merkle', f), 'utf8');
    t.notMatch(src, /from ['"]node:|require\(|from ['"](fs|path|crypto|buffer)['"]/, `${f} has no Node-only import`);
    t.notMatch(src, /\bBuffer\b|\bprocess\./, `${f} uses no Node globals`);
  }
});
