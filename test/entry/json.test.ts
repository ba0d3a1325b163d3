/**
 * The JSON form of an entry (docs/formats.md §4, src/entry/json.ts): exact
 * member set, strict hex and base64, duplicate members refused, and the same
 * field rules as the CBOR form.
 */
import t from 'tap';
import { decodeEntry, encodeEntry, entryFromJson, entryToJson, parseEntryJson, type EntryJson } from '../../src/entry/index.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import { expectError, hex, readVector, unhex, type SharedVectors } from './_helpers.js';

const shared = readVector<SharedVectors>('entries.json');
const plain = shared.good[0]!;
const annotated = shared.good[1]!;
const plainJson = (): EntryJson => entryToJson(decodeEntry(unhex(plain.entry)));

t.test('entryToJson: exact shape', async (t) => {
  const j = plainJson();
  t.same(Object.keys(j), ['name', 'digest', 'key', 'sig'], 'members in order; annotations omitted when absent');
  t.equal(j.digest, plain.digest, 'digest as lowercase hex');
  t.equal(j.key, 'hGGgb3w8DPERGtcNqHG6mwD/tgEHPntXBd+rz60EPNU=', 'key as padded standard base64');
  t.equal(Buffer.from(j.sig, 'base64').toString('hex'), plain.sig, 'sig as base64');
  const a = entryToJson(decodeEntry(unhex(annotated.entry)));
  t.same(a.annotations, annotated.annotations, 'annotations carried');
  t.same(Object.keys(a.annotations!), ['ci', 'commit', 'source', 'version'], 'annotations in canonical order');
  t.equal(JSON.stringify(entryToJson(decodeEntry(unhex(plain.entry)))), JSON.stringify(plainJson()), 'deterministic text');
});

t.test('parseEntryJson / entryFromJson round trip', async (t) => {
  for (const c of shared.good) {
    const e = decodeEntry(unhex(c.entry));
    const text = JSON.stringify(entryToJson(e));
    t.equal(hex(encodeEntry(parseEntryJson(text))), c.entry, `${c.desc}: text → entry → bytes`);
    t.equal(hex(encodeEntry(parseEntryJson(Buffer.from(text)))), c.entry, `${c.desc}: UTF-8 bytes → entry → bytes`);
    t.equal(hex(encodeEntry(entryFromJson(JSON.parse(text)))), c.entry, `${c.desc}: parsed value → entry → bytes`);
  }
  const spaced = JSON.stringify(plainJson(), null, 2);
  t.equal(hex(encodeEntry(parseEntryJson(spaced))), plain.entry, 'white space between tokens is fine');
});

t.test('shape errors are MalformedError', async (t) => {
  const j = plainJson();
  const text = JSON.stringify(j);
  const cases: Array<[string, string | Uint8Array, string]> = [
    ['not JSON', '{', 'not valid JSON'],
    ['empty text', '', 'not valid JSON'],
    ['array', '[]', 'must be an object'],
    ['null', 'null', 'must be an object'],
    ['string', '"x"', 'must be an object'],
    ['unknown member', JSON.stringify({ ...j, version: 1 }), 'unknown member "version"'],
    ['missing sig', JSON.stringify({ ...j, sig: undefined }), 'missing member "sig"'],
    ['name as number', JSON.stringify({ ...j, name: 5 }), 'JSON.name'],
    ['digest upper-case hex', JSON.stringify({ ...j, digest: j.digest.toUpperCase() }), 'JSON.digest'],
    ['digest of 31 bytes', JSON.stringify({ ...j, digest: j.digest.slice(2) }), 'JSON.digest'],
    ['digest in base64', JSON.stringify({ ...j, digest: Buffer.from(plain.digest, 'hex').toString('base64') }), 'JSON.digest'],
    ['key without padding', JSON.stringify({ ...j, key: j.key.replace(/=+$/, '') }), 'JSON.key'],
    ['key in base64url', JSON.stringify({ ...j, key: j.key.replace(/\+/g, '-').replace(/\//g, '_') }), 'JSON.key'],
    ['key in hex', JSON.stringify({ ...j, key: hex(Buffer.from(j.key, 'base64')) }), 'JSON.key'],
    ['key with non-zero padding bits', JSON.stringify({ ...j, key: j.key.slice(0, 42) + 'V=' }), 'JSON.key'],
    ['sig of 63 bytes', JSON.stringify({ ...j, sig: Buffer.from(j.sig, 'base64').subarray(1).toString('base64') }), 'JSON.sig'],
    ['annotations null', JSON.stringify({ ...j, annotations: null }), 'JSON.annotations'],
    ['annotations array', JSON.stringify({ ...j, annotations: ['a'] }), 'JSON.annotations'],
    ['annotation value number', JSON.stringify({ ...j, annotations: { a: 1 } }), 'JSON.annotations["a"]'],
    ['duplicate member', text.replace('{', '{"name":"other",'), 'duplicate member "name"'],
    ['duplicate member by escape', text.replace('{', '{"n\\u0061me":"other",'), 'duplicate member "name"'],
    ['duplicate annotation', JSON.stringify({ ...j, annotations: { a: 'x' } }).replace('{"a":"x"', '{"a":"x","a":"y"'), 'duplicate member "a"'],
    ['invalid UTF-8 bytes', Uint8Array.from([0x7b, 0xff, 0x7d]), 'UTF-8'],
  ];
  for (const [what, input, field] of cases) expectError(t, () => parseEntryJson(input), MalformedError, 'malformed', field, what);
  expectError(t, () => entryFromJson(undefined), MalformedError, 'malformed', 'must be an object', 'entryFromJson(undefined)');
  expectError(t, () => parseEntryJson(42 as unknown as string), MalformedError, 'malformed', 'string or bytes', 'parseEntryJson(42)');
});

t.test('field rules are InvalidError, as in the CBOR form', async (t) => {
  const j = plainJson();
  const cases: Array<[string, object, string]> = [
    ['empty name', { ...j, name: '' }, 'entry.name'],
    ['name with newline', { ...j, name: 'a\nb' }, 'entry.name'],
    ['name with trailing space', { ...j, name: 'a ' }, 'white space'],
    ['small-order key', { ...j, key: Buffer.from('01' + '00'.repeat(31), 'hex').toString('base64') }, 'entry.key'],
    ['empty annotations', { ...j, annotations: {} }, 'absent rather than empty'],
    ['bad annotation key', { ...j, annotations: { 'Bad Key': 'x' } }, 'entry.annotations'],
    ['annotation value with control', { ...j, annotations: { a: 'x\u0000' } }, 'entry.annotations["a"]'],
  ];
  for (const [what, value, field] of cases) {
    expectError(t, () => parseEntryJson(JSON.stringify(value)), InvalidError, 'invalid', field, `${what} (text)`);
    expectError(t, () => entryFromJson(value), InvalidError, 'invalid', field, `${what} (value)`);
  }
  // "__proto__" as a JSON member is an own property after JSON.parse; it must be refused, not assigned.
  const proto = JSON.stringify({ ...j, annotations: { a: 'x' } }).replace('"a":"x"', '"__proto__":"x"');
  expectError(t, () => parseEntryJson(proto), InvalidError, 'invalid', '__proto__', 'annotation key __proto__');
  t.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype untouched');
});

t.test('a signature is not checked by the JSON reader (that is parseAndVerifyEntry on the bytes)', async (t) => {
  const j = plainJson();
  const e = parseEntryJson(JSON.stringify({ ...j, name: 'other' }));
  t.equal(e.name, 'other', 'a well-formed entry with a wrong signature still parses');
});
