/**
 * The log cuts the signed message of a submission from its canonical bytes
 * (entrySignedMessageOfBytes, src/entry/message.ts) instead of re-encoding
 * the decoded fields: it must give exactly the message of docs/formats.md §4
 * — the recorded `signedMessage` of every vector, and entrySignedMessage of
 * random valid entries — and refuse (undefined) any other shape.
 */
import fc from 'fast-check';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { bytesEqual } from '../../src/encoding.js';
import { decodeEntry, encodeEntry, entrySignedMessage, signEntry } from '../../src/entry/index.js';
import { entrySignedMessageOfBytes } from '../../src/entry/message.js';
import { hex, readVector, unhex, type GoodCase, type SharedVectors } from './_helpers.js';

t.test('every good vector: the recorded signed message, cut from the entry bytes', async (t) => {
  const shared = readVector<SharedVectors>('entries.json').good;
  const extra = readVector<{ good: GoodCase[] }>('extra-good.json').good;
  t.ok(shared.length + extra.length >= 13, 'the vector files hold their good cases');
  for (const v of [...shared, ...extra]) {
    const bytes = unhex(v.entry);
    decodeEntry(bytes);
    const message = entrySignedMessageOfBytes(bytes);
    t.equal(message === undefined ? 'undefined' : hex(message), v.signedMessage, v.desc);
  }
});

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const nameArb = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 }),
    fc.integer({ min: 1, max: 85 }).map((n) => '漢'.repeat(n)),
  )
  .map((s) => s.replace(CONTROL, '').replace(/^\p{White_Space}+|\p{White_Space}+$/gu, ''))
  .filter((s) => s.length > 0 && Buffer.byteLength(s) <= 255);
const annotationsArb = fc.option(
  fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/), fc.string({ unit: 'grapheme-ascii', maxLength: 255 }).map((s) => s.replace(CONTROL, '')), {
    minKeys: 1,
    maxKeys: 16,
    noNullPrototype: true,
  }),
  { nil: undefined },
);

t.test('random valid entries: the same message as re-encoding the fields', async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.record({ name: nameArb, digest: fc.uint8Array({ minLength: 32, maxLength: 32 }), annotations: annotationsArb }), ({ name, digest, annotations }) => {
          const entry = signEntry(annotations === undefined ? { name, digest } : { name, digest, annotations }, new Uint8Array(32).fill(7), nodeEd25519);
          const bytes = encodeEntry(entry);
          const cut = entrySignedMessageOfBytes(bytes);
          if (cut === undefined || !bytesEqual(cut, entrySignedMessage(decodeEntry(bytes)))) throw new Error(`message differs for ${hex(bytes)}`);
        }),
        { numRuns: 300 },
      ),
    'equal for 300 random entries (names of every head size, with and without annotations)',
  );
});

t.test('any other shape is refused, never cut wrongly', async (t) => {
  const good = unhex(readVector<SharedVectors>('entries.json').good[0]!.entry);
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['an array', Uint8Array.from([0x85, 1, 2, 3, 4, 5])],
    ['a map of 4 pairs', Uint8Array.from([0xa4, ...good.subarray(1)])],
    ['keys out of order', Uint8Array.from([0xa5, 0x02, ...good.subarray(2)])],
    ['truncated inside the signature', good.subarray(0, good.length - 10)],
    ['truncated inside the name', good.subarray(0, 6)],
    ['a signature head of 63 bytes', Uint8Array.from([...good.subarray(0, good.length - 65), 0x3f, ...good.subarray(good.length - 64)])],
  ];
  for (const [what, bytes] of cases) t.equal(entrySignedMessageOfBytes(bytes), undefined, what);
});
