/**
 * The size ceiling of every entry (docs/formats.md §4.1): entry bundles
 * (c2sp.org/tlog-tiles, docs/formats.md §7) frame each entry with a 16-bit
 * big-endian length, so an entry of 65536 bytes or more could not be served
 * in a bundle. Whatever limit a kind declares, the version-2 codec refuses
 * such entries on encoding and on decoding, so a log never accepts one.
 */
import t from 'tap';
import { VitrineError } from '../../src/errors.js';
import { decodeEntryV2, encodeEntryV2, MAX_ENTRY_V2_SIZE, type EntryKind, type EntryV2 } from '../../src/entry/index.js';
import { _registerKind } from '../../src/entry/kinds/index.js';

// A kind that declares a limit far above the framing's, to show the ceiling holds anyway.
const bigKind: EntryKind = {
  id: 'test-big',
  title: 'test kind with a large body',
  maxEntrySize: 1 << 20,
  fields: [{ key: 1, name: 'blob', type: 'bytes', min: 1, max: 1 << 20 }],
  check() {},
  verify() {},
  signers() {
    return [];
  },
};
_registerKind(bigKind);

function entryOf(length: number): EntryV2 {
  return { version: 2, kind: 'test-big', name: 'big', digest: new Uint8Array(32), body: { blob: new Uint8Array(length).fill(0x5a) } };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof VitrineError) return `${err.name}:${err.code}`;
    throw err;
  }
  return 'accepted';
}

t.test('the ceiling is the largest length a uint16 prefix can hold', async (t) => {
  t.equal(MAX_ENTRY_V2_SIZE, 65535);
});

t.test('an entry of 65535 bytes is accepted, one of 65536 refused', async (t) => {
  // Byte strings from 256 to 65535 bytes have a 3-byte head, so the rest of the entry is a fixed overhead.
  const overhead = encodeEntryV2(entryOf(1000)).length - 1000;
  const largest = encodeEntryV2(entryOf(65535 - overhead));
  t.equal(largest.length, 65535);
  t.same(decodeEntryV2(largest).body.blob, entryOf(65535 - overhead).body.blob, 'it decodes back');

  t.equal(refusal(() => encodeEntryV2(entryOf(65536 - overhead))), 'InvalidError:too-large', 'encoding 65536 bytes is refused');
  // The same entry as bytes (the encoder would refuse it): the byte string's head stays 3 bytes.
  const tooBig = new Uint8Array(65536);
  tooBig.set(largest.subarray(0, largest.length - (65535 - overhead) - 2));
  const headAt = largest.length - (65535 - overhead) - 3;
  tooBig[headAt] = 0x59;
  tooBig[headAt + 1] = (65536 - overhead) >> 8;
  tooBig[headAt + 2] = (65536 - overhead) & 0xff;
  tooBig.fill(0x5a, headAt + 3);
  t.equal(refusal(() => decodeEntryV2(tooBig)), 'InvalidError:too-large', 'decoding 65536 bytes is refused');
});
