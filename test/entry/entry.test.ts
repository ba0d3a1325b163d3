/**
 * The entry API beyond the vectors (src/entry/entry.ts, message.ts): the
 * encoder refuses what the decoder would refuse, decoded entries own their
 * bytes, signing is deterministic, and the browser-safe modules never reach
 * a node: import.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import {
  ENTRY_SIGNATURE_PREFIX,
  MAX_ENTRY_SIZE,
  decodeEntry,
  encodeEntry,
  entryLeafHash,
  entrySignedMessage,
  keyHash,
  parseAndVerifyEntry,
  signEntry,
  verifyEntrySignature,
  type Entry,
} from '../../src/entry/index.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import { leafHash, sha256 } from '../../merkle/hash.js';
import { BACKENDS, expectError, hex, readVector, unhex, type SharedVectors } from './_helpers.js';
import { ROOT } from '../_root.js';

const shared = readVector<SharedVectors>('entries.json');
const SEED = unhex(shared.signer.seed);
const plain = shared.good[0]!;
const annotated = shared.good[1]!;
const DIGEST = unhex(plain.digest);

const base = (): Entry => decodeEntry(unhex(plain.entry));

t.test('encodeEntry refuses every rule violation with the field named', async (t) => {
  const e = base();
  const cases: Array<[string, unknown, string]> = [
    ['empty name', { ...e, name: '' }, 'entry.name'],
    ['name of 256 bytes', { ...e, name: 'n'.repeat(256) }, 'entry.name'],
    ['name of 85 x U+6F22 + 1 byte', { ...e, name: '漢'.repeat(85) + 'x' }, 'entry.name'],
    ['name with lone surrogate', { ...e, name: 'a\ud800b' }, 'surrogate'],
    ['name with trailing low surrogate', { ...e, name: 'ab\udc00' }, 'surrogate'],
    ['name with C1', { ...e, name: 'a\u0080' }, 'U+0080'],
    ['name with leading space', { ...e, name: ' a' }, 'white space'],
    ['name with trailing U+2029', { ...e, name: 'a\u2029' }, 'white space'],
    ['name not a string', { ...e, name: 42 }, 'entry.name'],
    ['digest of 31 bytes', { ...e, digest: DIGEST.subarray(1) }, 'entry.digest'],
    ['digest as array', { ...e, digest: Array.from(DIGEST) }, 'entry.digest'],
    ['key of small order', { ...e, key: unhex('01' + '00'.repeat(31)) }, 'entry.key'],
    ['sig of 63 bytes', { ...e, sig: e.sig.subarray(1) }, 'entry.sig'],
    ['empty annotations', { ...e, annotations: {} }, 'absent rather than empty'],
    ['annotations as Map', { ...e, annotations: new Map([['a', 'b']]) }, 'entry.annotations'],
    ['annotations as array', { ...e, annotations: ['a'] }, 'entry.annotations'],
    ['annotation value number', { ...e, annotations: { a: 1 } }, 'entry.annotations["a"]'],
    ['annotation value with lone surrogate', { ...e, annotations: { a: '\udfff' } }, 'surrogate'],
    ['17 annotations', { ...e, annotations: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, ''])) }, 'at most 16'],
    ['annotation key with upper case', { ...e, annotations: { A: '' } }, 'entry.annotations'],
  ];
  for (const [what, entry, field] of cases) expectError(t, () => encodeEntry(entry as Entry), InvalidError, 'invalid', field, what);
});

t.test('decodeEntry input handling', async (t) => {
  expectError(t, () => decodeEntry('a5' as unknown as Uint8Array), MalformedError, 'malformed', 'must be bytes', 'a string instead of bytes');
  expectError(t, () => decodeEntry(new Uint8Array(MAX_ENTRY_SIZE + 1)), InvalidError, 'invalid', 'more than the maximum', 'size checked before anything else');
  const asBuffer = decodeEntry(Buffer.from(plain.entry, 'hex'));
  t.equal(Object.getPrototypeOf(asBuffer.digest), Uint8Array.prototype, 'a Buffer input still yields plain Uint8Array fields');
  t.equal(hex(encodeEntry(asBuffer)), plain.entry, 'a Buffer input (from the shared pool, at an offset) decodes to the right entry');
  // An entry whose bytes sit inside a larger buffer (a view at an offset).
  const outer = new Uint8Array(10 + plain.entry.length / 2);
  outer.set(unhex(plain.entry), 10);
  t.equal(hex(encodeEntry(decodeEntry(outer.subarray(10)))), plain.entry, 'a subarray view at an offset decodes');
});

t.test('decoded entries own their bytes', async (t) => {
  const bytes = unhex(plain.entry);
  const entry = decodeEntry(bytes);
  const before = hex(entry.digest) + hex(entry.key) + hex(entry.sig);
  bytes.fill(0);
  t.equal(hex(entry.digest) + hex(entry.key) + hex(entry.sig), before, 'overwriting the input does not change the entry');
});

t.test('decoded annotations are plain own data properties', async (t) => {
  const entry = decodeEntry(unhex(annotated.entry));
  t.same(Object.keys(entry.annotations!), Object.keys(annotated.annotations!), 'keys in canonical order');
  t.equal(Object.getPrototypeOf(entry.annotations), Object.prototype, 'a plain object');
  t.equal('annotations' in decodeEntry(unhex(plain.entry)), false, 'absent annotations are not an own property (not even undefined)');
});

t.test('signing is deterministic and the key comes from the seed', async (t) => {
  for (const [backend, ed] of BACKENDS) {
    const a = signEntry({ name: 'x', digest: DIGEST }, SEED, ed);
    const b = signEntry({ name: 'x', digest: DIGEST }, SEED, ed);
    t.equal(hex(encodeEntry(a)), hex(encodeEntry(b)), `${backend}: same fields, same leaf`);
    t.equal(keyHash(a.key), shared.signer.keyHash, `${backend}: key is the seed's public key`);
    t.ok(verifyEntrySignature(a, nodeEd25519) && verifyEntrySignature(a, nobleEd25519), `${backend}: verifies on both backends`);
  }
  const annotations = { version: '1', ci: 'x' };
  const e = signEntry({ name: 'x', digest: DIGEST, annotations, extra: 'ignored' } as never, SEED);
  t.equal('extra' in e, false, 'unknown properties of the fields are not carried over');
  t.not(e.annotations, annotations, 'annotations are copied, not aliased');
  t.equal(hex(encodeEntry(signEntry({ name: 'x', digest: DIGEST, annotations: { ci: 'x', version: '1' } }, SEED))), hex(encodeEntry(e)), 'annotation insertion order does not matter');
  expectError(t, () => signEntry({ name: '', digest: DIGEST }, SEED), InvalidError, 'invalid', 'entry.name', 'signEntry validates the fields');
  expectError(t, () => signEntry({ name: 'x', digest: DIGEST }, SEED.subarray(1)), MalformedError, 'malformed', 'seed', 'signEntry with a 31-byte seed');
});

t.test('verifyEntrySignature', async (t) => {
  const e = base();
  for (const [backend, ed] of BACKENDS) {
    t.equal(verifyEntrySignature(e, ed), true, `${backend}: good entry`);
    t.equal(verifyEntrySignature({ ...e, name: e.name + 'x' }, ed), false, `${backend}: changed name`);
    const sig = Uint8Array.from(e.sig);
    sig[63]! ^= 0x10;
    t.equal(verifyEntrySignature({ ...e, sig }, ed), false, `${backend}: flipped signature bit`);
    expectError(t, () => verifyEntrySignature({ ...e, key: new Uint8Array(32) }, ed), InvalidError, 'invalid', 'entry.key', `${backend}: key that is not a point`);
  }
  t.equal(verifyEntrySignature(e), true, 'defaults to the noble backend');
});

t.test('the signed message is the domain prefix and the map without key 5', async (t) => {
  t.equal(Buffer.from(ENTRY_SIGNATURE_PREFIX).toString('latin1'), 'vitrine/entry/v1\0', 'prefix');
  const e = base();
  const m = entrySignedMessage(e);
  t.equal(hex(m), plain.signedMessage, 'vector message');
  t.equal(hex(entrySignedMessage({ name: e.name, digest: e.digest, key: e.key })), plain.signedMessage, 'sig is not needed to build it');
  t.equal(m[ENTRY_SIGNATURE_PREFIX.length], 0xa4, 'the unsigned map has 4 pairs');
});

t.test('parseAndVerifyEntry returns the entry and names a bad signature', async (t) => {
  const e = parseAndVerifyEntry(unhex(plain.entry), nodeEd25519);
  t.equal(e.name, plain.name, 'returns the decoded entry');
  expectError(t, () => parseAndVerifyEntry(unhex(shared.bad[0]!.entry), nodeEd25519), InvalidError, 'bad-signature', 'entry.sig', 'flipped signature');
});

t.test('derived identifiers', async (t) => {
  const bytes = unhex(plain.entry);
  t.equal(hex(entryLeafHash(bytes)), hex(leafHash(bytes)), 'leaf hash is the RFC 9162 leaf hash');
  t.equal(hex(entryLeafHash(bytes)), plain.leafHash, 'leaf hash vector');
  const key = decodeEntry(bytes).key;
  t.equal(keyHash(key), hex(sha256(key)), 'key hash is hex SHA-256 of the key');
  t.match(keyHash(key), /^[0-9a-f]{64}$/, 'lowercase hex');
  expectError(t, () => keyHash(key.subarray(1)), MalformedError, 'malformed', 'public key', 'key hash of 31 bytes');
});

t.test('only digest.ts imports node: modules, and index.ts never reaches it', async (t) => {
  const root = ROOT;
  const seen = new Set<string>();
  const nodeImports: string[] = [];
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || ['fs', 'crypto', 'path', 'stream', 'os', 'buffer'].includes(spec)) nodeImports.push(`${file}: ${spec}`);
      else if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  walk(join(root, 'src/entry/index.ts'));
  t.same(nodeImports, [], 'no node: import is reachable from src/entry/index.ts');
  t.notOk([...seen].some((f) => f.endsWith('/src/entry/digest.ts')), 'digest.ts is not reachable from index.ts');
  t.ok([...seen].some((f) => f.endsWith('/src/entry/message.ts')), 'the walk followed the re-exports (sanity)');
  t.ok(readFileSync(join(root, 'src/entry/digest.ts'), 'utf8').includes("from 'node:crypto'"), 'digest.ts does use node:crypto (sanity of the pattern)');
});
