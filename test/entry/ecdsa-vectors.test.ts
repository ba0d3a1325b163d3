/**
 * vectors/ecdsa/vectors.json (docs/formats.md §16.1): entries of kind
 * ecdsa-p256 whose keys and signatures openssl made and whose bytes were
 * written out by hand from the spec (vectors/ecdsa/generate.ts). Each good
 * entry decodes, re-encodes to the same bytes, converts to and from the
 * recorded JSON form, verifies on the pure-JS path, and names its signer by
 * the recorded fingerprint and key hash; each bad one is refused at the
 * recorded stage with the recorded error and code.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { bytesEqual, hexDecode, hexEncode } from '../../src/encoding.js';
import { VitrineError } from '../../src/errors.js';
import { decodeAnyEntry, encodeEntryV2, entryLeafHash, entrySigners, entryV2ToJson, parseAnyEntryJson, verifyAnyEntry, type EntryV2 } from '../../src/entry/index.js';
import { rootPath } from '../_root.js';

interface Vectors {
  good: Array<{ description: string; entry: string; leafHash: string; json: unknown; fingerprint: string; keyHash: string }>;
  bad: Array<{ description: string; entry: string; stage: 'decode' | 'verify'; error: string; code: string }>;
}
const vectors = JSON.parse(readFileSync(rootPath('vectors/ecdsa/vectors.json'), 'utf8')) as Vectors;
const crypto = { ed: nobleEd25519 };

t.test('the file has the cases the spec names', async (t) => {
  t.ok(vectors.good.length >= 4 && vectors.bad.length >= 10);
});

for (const c of vectors.good) {
  t.test(`accepted: ${c.description}`, async (t) => {
    const bytes = hexDecode(c.entry, 'entry');
    const any = decodeAnyEntry(bytes);
    t.equal(any.version, 2);
    const entry = any.entry as EntryV2;
    t.equal(entry.kind, 'ecdsa-p256');
    t.ok(bytesEqual(encodeEntryV2(entry), bytes), 're-encodes to the same bytes');
    t.doesNotThrow(() => verifyAnyEntry(any, crypto), 'verifies');
    t.equal(hexEncode(entryLeafHash(bytes)), c.leafHash);
    const [signer] = entrySigners(any);
    t.equal(signer?.fingerprint, c.fingerprint);
    t.equal(hexEncode(signer!.keyHash), c.keyHash);
    t.same(entryV2ToJson(entry), c.json, 'the JSON form');
    t.ok(bytesEqual(parseAnyEntryJson(JSON.stringify(c.json)), bytes), 'the JSON form gives the same bytes');
  });
}

for (const c of vectors.bad) {
  t.test(`refused: ${c.description}`, async (t) => {
    const bytes = hexDecode(c.entry, 'entry');
    let stage = 'decode';
    try {
      const any = decodeAnyEntry(bytes);
      stage = 'verify';
      verifyAnyEntry(any, crypto);
      t.fail('accepted');
    } catch (err) {
      if (!(err instanceof VitrineError)) throw err;
      t.equal(stage, c.stage, 'refused at the recorded stage');
      t.equal(err.name, c.error);
      t.equal(err.code, c.code);
    }
  });
}
