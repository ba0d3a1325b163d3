/**
 * Property tests and fuzzing of the entry codec (docs/formats.md §4) with
 * fast-check: random valid entries round-trip through CBOR and JSON, a
 * changed byte never yields a second entry with a valid signature, and no
 * input — random, CBOR-shaped, or anything cbor-x itself can encode — makes
 * the decoders throw anything but a VitrineError.
 */
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { scanDeterministic } from '../../src/entry/cbor.js';
import {
  decodeEntry,
  encodeEntry,
  entryFromJson,
  entryLeafHash,
  entryToJson,
  parseAndVerifyEntry,
  parseEntryJson,
  signEntry,
  verifyEntrySignature,
  type Entry,
} from '../../src/entry/index.js';
import { VitrineError } from '../../src/errors.js';
import { bytesEqual } from '../../src/encoding.js';
import { hex, readVector, unhex, type SharedVectors } from './_helpers.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const utf8Len = (s: string): number => Buffer.byteLength(s, 'utf8');

const nameArb = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 }),
    fc.integer({ min: 1, max: 85 }).map((n) => '漢'.repeat(n)),
  )
  .map((s) => s.replace(CONTROL, '').replace(/^\p{White_Space}+|\p{White_Space}+$/gu, ''))
  .filter((s) => s.length > 0 && utf8Len(s) <= 255 && !/^\p{White_Space}|\p{White_Space}$/u.test(s));

const valueArb = fc
  .oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme-ascii', maxLength: 255 }))
  .map((s) => s.replace(CONTROL, ''))
  .filter((s) => utf8Len(s) <= 255);

const annotationsArb = fc.option(
  fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/), valueArb, { minKeys: 1, maxKeys: 16, noNullPrototype: true }),
  { nil: undefined },
);

/** A random valid signed entry (signed with node:crypto for speed; noble is checked below). */
const entryArb: fc.Arbitrary<Entry> = fc
  .record({ name: nameArb, digest: fc.uint8Array({ minLength: 32, maxLength: 32 }), annotations: annotationsArb, seed: fc.uint8Array({ minLength: 32, maxLength: 32 }) })
  .map(({ name, digest, annotations, seed }) => signEntry(annotations === undefined ? { name, digest } : { name, digest, annotations }, seed, nodeEd25519));

function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

/** Runs `fn`; anything it throws must be a VitrineError. Returns the result, or undefined if it threw. */
function onlyTyped<T>(fn: () => T, what: string): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof VitrineError)) {
      throw new Error(`${what}: threw a non-Vitrine error: ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
    }
    check(err.message.length > 0, `${what}: error without a message`);
    return undefined;
  }
}

t.test('random valid entries round-trip encode → decode → encode', async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(entryArb, (entry) => {
          const bytes = encodeEntry(entry);
          check(bytes.length <= 8192, 'within the size limit');
          scanDeterministic(bytes, { label: 'entry', maxDepth: 2 });
          const back = decodeEntry(bytes);
          check(bytesEqual(encodeEntry(back), bytes), 're-encoding gives the same bytes');
          check(JSON.stringify(entryToJson(back)) === JSON.stringify(entryToJson(entry)), 'decoded entry equals the original');
          check(verifyEntrySignature(back, nodeEd25519), 'signature verifies (node:crypto)');
        }),
        { numRuns: 400 },
      ),
    'round trip holds for 400 random entries',
  );
  // noble is slower: fewer runs, same property.
  t.doesNotThrow(
    () => fc.assert(fc.property(entryArb, (entry) => check(parseAndVerifyEntry(encodeEntry(entry), nobleEd25519) !== undefined, 'accepted by noble')), { numRuns: 60 }),
    'random entries verify with noble too',
  );
});

t.test('random valid entries round-trip JSON → entry → JSON', async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(entryArb, (entry) => {
          const text = JSON.stringify(entryToJson(entry));
          const parsed = parseEntryJson(text);
          check(JSON.stringify(entryToJson(parsed)) === text, 'JSON text is reproduced');
          check(bytesEqual(encodeEntry(parsed), encodeEntry(entry)), 'same canonical bytes');
          check(bytesEqual(encodeEntry(entryFromJson(JSON.parse(text))), encodeEntry(entry)), 'entryFromJson agrees');
        }),
        { numRuns: 300 },
      ),
    'JSON round trip holds for 300 random entries',
  );
});

t.test('a changed byte never yields another validly signed entry', async (t) => {
  let decodedMutants = 0;
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(entryArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (entry, at, delta) => {
          const bytes = encodeEntry(entry);
          const mutated = Uint8Array.from(bytes);
          const i = at % bytes.length;
          mutated[i] = (mutated[i]! + delta) & 0xff;
          const other = onlyTyped(() => decodeEntry(mutated), `byte ${i} + ${delta}`);
          if (other === undefined) return;
          decodedMutants++;
          check(!bytesEqual(entryLeafHash(encodeEntry(other)), entryLeafHash(bytes)), 'the mutant is a different leaf');
          check(!verifyEntrySignature(other, nodeEd25519), `byte ${i} + ${delta}: mutant must not verify (node:crypto)`);
          check(!verifyEntrySignature(other, nobleEd25519), `byte ${i} + ${delta}: mutant must not verify (noble)`);
        }),
        { numRuns: 1500 },
      ),
    'no single-byte mutant of 1500 verifies',
  );
  t.ok(decodedMutants > 100, `the property was exercised: ${decodedMutants} mutants decoded and were checked`);
});

t.test('inserted, deleted and truncated bytes are refused or fail the signature', async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(entryArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('insert', 'delete', 'truncate'), (entry, at, byte, op) => {
          const bytes = encodeEntry(entry);
          const i = at % bytes.length;
          const mutated =
            op === 'insert'
              ? Uint8Array.from([...bytes.subarray(0, i), byte, ...bytes.subarray(i)])
              : op === 'delete'
                ? Uint8Array.from([...bytes.subarray(0, i), ...bytes.subarray(i + 1)])
                : bytes.subarray(0, i);
          const other = onlyTyped(() => decodeEntry(mutated), `${op} at ${i}`);
          if (other !== undefined) check(!verifyEntrySignature(other, nodeEd25519), `${op} at ${i}: mutant must not verify`);
        }),
        { numRuns: 1000 },
      ),
    'structural mutants are refused or do not verify',
  );
});

t.test('fuzz: decodeEntry throws only VitrineErrors', async (t) => {
  const shared = readVector<SharedVectors>('entries.json');
  const seeds = shared.good.map((c) => unhex(c.entry));
  const cborShaped = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 9 })), { maxLength: 40 })
    .map((parts) => Uint8Array.from(parts.flatMap(([h, rest]) => [h, ...rest])));
  const mapPrefixed = fc
    .tuple(fc.constantFrom(0xa5, 0xa6, 0xa7, 0xb8, 0xbf), cborShaped)
    .map(([h, rest]) => Uint8Array.from([h, ...rest]));
  const spliced = fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 12 }))
    .map(([s, at, junk]) => {
      const i = at % s.length;
      return Uint8Array.from([...s.subarray(0, i), ...junk, ...s.subarray(i + junk.length)]);
    });
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.uint8Array({ minLength: 8000, maxLength: 8300 }),
    cborShaped,
    mapPrefixed,
    spliced,
  );
  t.doesNotThrow(
    () => fc.assert(fc.property(inputs, (b) => void onlyTyped(() => parseAndVerifyEntry(b, nodeEd25519), `input ${hex(b.subarray(0, 64))}`)), { numRuns: 10000 }),
    '10000 random inputs: typed errors only',
  );
});

t.test('fuzz: anything cbor-x can encode (tags, floats, records, bundles) decodes or fails typed', async (t) => {
  const encoders = [
    new Encoder(),
    new Encoder({ useRecords: false }),
    new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false, bundleStrings: true }),
    new Encoder({ useRecords: true, pack: true, structuredClone: true }),
  ];
  const value = fc.oneof(
    fc.anything({ withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
    fc.dictionary(fc.integer({ min: -2, max: 8 }).map(String), fc.anything({ withTypedArray: true, withMap: true })).map((o) => new Map(Object.entries(o).map(([k, v]) => [Number(k), v]))),
  );
  let encoded = 0;
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(value, fc.nat(encoders.length - 1), (v, which) => {
          let bytes: Uint8Array;
          try {
            bytes = encoders[which]!.encode(v);
          } catch {
            return; // cbor-x cannot encode it: nothing to test
          }
          encoded++;
          onlyTyped(() => decodeEntry(bytes), `cbor-x(${which}) output ${hex(bytes.subarray(0, 64))}`);
        }),
        { numRuns: 5000 },
      ),
    '5000 cbor-x encodings: typed errors only',
  );
  t.ok(encoded > 1000, `most values were encodable (${encoded})`);
});

t.test('fuzz: the JSON readers throw only VitrineErrors', async (t) => {
  const shared = readVector<SharedVectors>('entries.json');
  const goodTexts = shared.good.map((c) => JSON.stringify(entryToJson(decodeEntry(unhex(c.entry)))));
  const mutatedText = fc.tuple(fc.constantFrom(...goodTexts), fc.nat(), fc.string({ unit: 'binary', maxLength: 4 })).map(([s, at, junk]) => {
    const i = at % s.length;
    return s.slice(0, i) + junk + s.slice(i + 1);
  });
  const fieldsOfAnyType = fc.record(
    { name: fc.anything(), digest: fc.anything(), key: fc.anything(), sig: fc.anything(), annotations: fc.anything() },
    { requiredKeys: [] },
  );
  const texts = fc.oneof(fc.string({ unit: 'binary' }), fc.json(), mutatedText, fieldsOfAnyType.map((o) => JSON.stringify(o) ?? 'null'));
  t.doesNotThrow(() => fc.assert(fc.property(texts, (s) => void onlyTyped(() => parseEntryJson(s), `text ${JSON.stringify(s.slice(0, 80))}`)), { numRuns: 5000 }), '5000 texts: typed errors only');
  t.doesNotThrow(
    () => fc.assert(fc.property(fc.oneof(fc.anything(), fieldsOfAnyType), (v) => void onlyTyped(() => entryFromJson(v), 'value')), { numRuns: 5000 }),
    '5000 JSON-ish values: typed errors only',
  );
  t.doesNotThrow(
    () => fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void onlyTyped(() => parseEntryJson(b), `bytes ${hex(b.subarray(0, 40))}`)), { numRuns: 5000 }),
    '5000 random byte bodies: typed errors only',
  );
});

t.test('deeply nested JSON is refused without a stack overflow', async (t) => {
  const deep = '{"a":'.repeat(200000) + '1' + '}'.repeat(200000);
  let err: unknown;
  try {
    parseEntryJson(deep);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof VitrineError, `200000 nested objects: typed error (${err instanceof Error ? err.constructor.name + ': ' + err.message.slice(0, 80) : String(err)})`);
});
