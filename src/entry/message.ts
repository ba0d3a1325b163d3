/**
 * The signature of a Vitrine entry (docs/formats.md §4, "Signed message"):
 *
 *     M = "vitrine/entry/v1" || 0x00 || CBOR_det(the entry map without key 5)
 *
 * signed with Ed25519 (RFC 8032) by the key in field 4, so it covers the
 * name, the digest, the key and every annotation. Ed25519 signing is
 * deterministic: the same signer signing the same fields yields the same
 * leaf, which is what lets the log answer a resubmission with its index.
 *
 * Every function takes the Ed25519 backend as a parameter, defaulting to the
 * pure-JS `nobleEd25519` so this module stays browser-safe; the server and
 * monitor pass `nodeEd25519` (node:crypto). Public keys are checked with
 * `checkPublicKey` (canonical encoding, not of small order) before either
 * backend sees them.
 */
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { InvalidError } from '../errors.js';
import { concatBytes, utf8 } from '../encoding.js';
import { _checkFields, _encodeMap, decodeEntry, type Entry, type EntryFields, type UnsignedEntry } from './entry.js';

/** The domain-separation prefix of the signed message: "vitrine/entry/v1" || 0x00. */
export const ENTRY_SIGNATURE_PREFIX: Uint8Array = concatBytes(utf8('vitrine/entry/v1'), new Uint8Array([0]));

/** The message M an entry's signature covers. Throws InvalidError if a field breaks a rule. */
export function entrySignedMessage(entry: UnsignedEntry): Uint8Array {
  return concatBytes(ENTRY_SIGNATURE_PREFIX, _encodeMap(entry, false));
}

/**
 * Signs `fields` with the Ed25519 `seed` (32 bytes) and returns the complete
 * entry; its key is the seed's public key. Deterministic (RFC 8032 §5.1.6).
 */
export function signEntry(fields: EntryFields, seed: Uint8Array, ed: Ed25519 = nobleEd25519): Entry {
  const key = ed.publicKey(seed);
  // Only the known fields are carried over, so stray properties on `fields`
  // never ride along; the caller's digest and annotations are copied once
  // the message (which validates them) has been built.
  const unsigned: UnsignedEntry =
    fields.annotations === undefined
      ? { name: fields.name, digest: fields.digest, key }
      : { name: fields.name, digest: fields.digest, key, annotations: fields.annotations };
  const sig = ed.sign(seed, entrySignedMessage(unsigned));
  const digest = Uint8Array.from(fields.digest);
  return unsigned.annotations === undefined
    ? { name: unsigned.name, digest, key, sig }
    : { name: unsigned.name, digest, key, sig, annotations: { ...unsigned.annotations } };
}

/**
 * True when `entry.sig` is a valid signature by `entry.key` over the signed
 * message. Throws InvalidError when a field breaks a rule (including a key
 * that is not a canonical point of large order), since then there is no
 * message to check.
 */
export function verifyEntrySignature(entry: Entry, ed: Ed25519 = nobleEd25519): boolean {
  _checkFields(entry, true);
  return ed.verify(entry.key, entrySignedMessage(entry), entry.sig);
}

/**
 * The log's full acceptance check of submitted bytes (docs/formats.md §4): they
 * decode strictly as a valid entry in its deterministic encoding, and the
 * signature verifies. Throws MalformedError / InvalidError (code
 * `bad-signature` for a signature that does not verify).
 */
export function parseAndVerifyEntry(bytes: Uint8Array, ed: Ed25519 = nobleEd25519): Entry {
  const entry = decodeEntry(bytes);
  if (!ed.verify(entry.key, entrySignedMessage(entry), entry.sig)) {
    throw new InvalidError('entry.sig: Ed25519 signature does not verify over the signed message (docs/formats.md §4)', 'bad-signature');
  }
  return entry;
}
