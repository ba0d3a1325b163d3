/**
 * The generic codec of entry version 2 (src/entry/v2.ts) with a kind made
 * for this test: canonical bytes written out by hand, strict decoding
 * (unknown kind, unknown body key, missing field, wrong type, non-canonical
 * order), the JSON form, routing between versions, and every single-byte
 * mutation of a valid entry refused or decoded to a different entry.
 */
import t from 'tap';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { InvalidError, VitrineError } from '../../src/errors.js';
import { bytesEqual, hexDecode } from '../../src/encoding.js';
import {
  decodeAnyEntry,
  decodeEntryV2,
  encodeEntryV2,
  entrySigners,
  entryV2FromJson,
  entryV2ToJson,
  parseAnyEntryJson,
  signEntry,
  encodeEntry,
  verifyAnyEntry,
  type EntryKind,
  type EntryV2,
} from '../../src/entry/index.js';
import { _registerKind } from '../../src/entry/kinds/index.js';
import { InvalidError as IE } from '../../src/errors.js';

// A toy kind: an Ed25519 key (key 1) signs the 32-byte digest (key 2 the signature), optional label (key 3).
const testKind: EntryKind = {
  id: 'test-ed',
  title: 'test kind',
  maxEntrySize: 1024,
  fields: [
    { key: 1, name: 'key', type: 'bytes', min: 32, max: 32 },
    { key: 2, name: 'sig', type: 'bytes', min: 64, max: 64 },
    { key: 3, name: 'label', type: 'text', min: 1, max: 10, optional: true },
    { key: 4, name: 'extra', type: 'bytes-list', min: 1, max: 2, itemMin: 1, itemMax: 4, optional: true },
  ],
  check(e) {
    if (e.body.label === 'bad') throw new IE('entry.body.label: must not be "bad"');
  },
  verify(e, crypto) {
    if (!crypto.ed.verify(e.body.key as Uint8Array, e.digest, e.body.sig as Uint8Array)) throw new IE('test signature does not verify', 'bad-signature');
  },
  signers(e) {
    return [{ algorithm: 'ed25519', format: 'vitrine', fingerprint: 'fp', keyHash: new Uint8Array(32).fill((e.body.key as Uint8Array)[0]!) }];
  },
};
_registerKind(testKind);

const seed = new Uint8Array(32).fill(7);
const key = nobleEd25519.publicKey(seed);
const digest = new Uint8Array(32).fill(0xab);
const sig = nobleEd25519.sign(seed, digest);
const entry: EntryV2 = { version: 2, kind: 'test-ed', name: 'a', digest, body: { key, sig, label: 'x' }, annotations: { v: '1' } };

function hex(parts: Array<string | Uint8Array>): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...(typeof p === 'string' ? hexDecode(p.replace(/ /g, ''), 'test') : p)]));
}

// Written out from docs/formats.md §4.3, not by the encoder.
const expected = hex([
  'a6', '01 02', '02 67', new TextEncoder().encode('test-ed'), '03 61 61', '04 58 20', digest,
  '05 a3', '01 58 20', key, '02 58 40', sig, '03 61 78',
  '06 a1 61 76 61 31',
]);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof VitrineError) return `${err.name}:${err.code}`;
    throw err;
  }
  return 'ok';
}

t.test('canonical bytes, round trip, verification and signers', async (t) => {
  const bytes = encodeEntryV2(entry);
  t.ok(bytesEqual(bytes, expected), 'encoder writes the bytes the spec gives');
  const back = decodeEntryV2(bytes);
  t.same(entryV2ToJson(back), entryV2ToJson(entry));
  const any = decodeAnyEntry(bytes);
  t.equal(any.version, 2);
  t.doesNotThrow(() => verifyAnyEntry(any, { ed: nobleEd25519 }));
  t.equal(entrySigners(any)[0]!.fingerprint, 'fp');
  const forged = encodeEntryV2({ ...entry, digest: new Uint8Array(32).fill(1) });
  t.throws(() => verifyAnyEntry(decodeAnyEntry(forged), { ed: nobleEd25519 }), { code: 'bad-signature' });
});

t.test('version 1 entries still route to the version-1 decoder', async (t) => {
  const v1 = encodeEntry(signEntry({ name: 'a', digest }, seed));
  const any = decodeAnyEntry(v1);
  t.equal(any.version, 1);
  t.doesNotThrow(() => verifyAnyEntry(any, { ed: nobleEd25519 }));
  t.equal(entrySigners(any)[0]!.format, 'vitrine');
});

t.test('strict decoding', async (t) => {
  const swap = (from: string, to: string): Uint8Array => {
    const s = Buffer.from(expected).toString('hex').replace(from, to);
    return hexDecode(s, 'x');
  };
  t.equal(code(() => decodeEntryV2(swap('02677465', '02677866'))), 'InvalidError:unknown-kind', 'unknown kind');
  t.equal(code(() => decodeEntryV2(swap('0361610458', '0378016104 58'.replace(' ', '')))), 'InvalidError:non-canonical', 'non-shortest length head');
  t.equal(code(() => decodeEntryV2(expected.subarray(0, expected.length - 1))), 'MalformedError:malformed', 'truncated');
  t.equal(code(() => encodeEntryV2({ ...entry, body: { key, sig, label: 'bad' } })), 'InvalidError:invalid', 'kind check runs');
  t.equal(code(() => encodeEntryV2({ ...entry, body: { key, sig, nope: 'x' } })), 'InvalidError:invalid', 'unknown body field');
  t.equal(code(() => encodeEntryV2({ ...entry, body: { key } })), 'InvalidError:invalid', 'missing body field');
  t.equal(code(() => encodeEntryV2({ ...entry, body: { key, sig: key } })), 'InvalidError:invalid', 'wrong length');
  t.equal(code(() => encodeEntryV2({ ...entry, body: { key, sig, extra: [] } })), 'InvalidError:invalid', 'empty list');
  t.equal(code(() => encodeEntryV2({ ...entry, body: { key, sig, extra: [new Uint8Array(5)] } })), 'InvalidError:invalid', 'list item too long');
  t.equal(code(() => encodeEntryV2({ ...entry, annotations: {} })), 'InvalidError:invalid', 'empty annotations');
  // body keys out of order: 01 … 02 … swapped by hand
  const body = hex(['a2', '02 58 40', sig, '01 58 20', key]);
  const outOfOrder = hex(['a5', '01 02', '02 67', new TextEncoder().encode('test-ed'), '03 61 61', '04 58 20', digest, '05', body]);
  t.equal(code(() => decodeEntryV2(outOfOrder)), 'InvalidError:non-canonical', 'body keys out of order');
  t.ok(InvalidError);
});

t.test('JSON form', async (t) => {
  const json = entryV2ToJson(entry);
  t.same(Object.keys(json), ['version', 'kind', 'name', 'digest', 'body', 'annotations']);
  t.ok(bytesEqual(encodeEntryV2(entryV2FromJson(JSON.parse(JSON.stringify(json)))), expected));
  t.ok(bytesEqual(parseAnyEntryJson(JSON.stringify(json)), expected));
  t.equal(code(() => parseAnyEntryJson('{"version":2,"version":2}')), 'MalformedError:malformed', 'duplicate members');
  t.equal(code(() => entryV2FromJson({ ...json, body: { ...json.body, key: 5 } })), 'MalformedError:malformed');
});

t.test('every single-byte mutation is refused or decodes to another entry', async (t) => {
  let refused = 0;
  for (let i = 0; i < expected.length; i++) {
    for (const delta of [1, 0x80]) {
      const m = Uint8Array.from(expected);
      m[i] = (m[i]! + delta) & 0xff;
      let e: ReturnType<typeof decodeAnyEntry> | undefined;
      try {
        e = decodeAnyEntry(m);
      } catch (err) {
        if (!(err instanceof VitrineError)) throw err;
        refused++;
        continue;
      }
      // Accepted only if it is a different entry whose canonical bytes are exactly m.
      t.ok(e.version === 2 && bytesEqual(encodeEntryV2(e.entry), m), `mutation at ${i} is canonical`);
    }
  }
  t.ok(refused > 40, `structural mutations refused (${refused})`);
});
