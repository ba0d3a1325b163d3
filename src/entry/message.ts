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
 * The signed message of canonical entry bytes, cut from the bytes instead
 * of re-encoding the decoded fields: the map head with one pair less, and
 * every pair but key 5 (docs/formats.md §4). `bytes` must be bytes that
 * `decodeEntry` accepted, so that they are the one deterministic encoding
 * of their entry and this gives exactly `entrySignedMessage` of it (the
 * pairs of a canonical map are in key order 1, 2, 3, 4, 5, 6, and the
 * signature is always a 64-byte string: 0x05 0x58 0x40 and 64 bytes).
 * Returns undefined when the bytes do not have that shape, so that a caller
 * can fall back to `entrySignedMessage`. Saves the log a second validation
 * and CBOR encoding of every submission (docs/performance.md).
 */
export function entrySignedMessageOfBytes(bytes: Uint8Array): Uint8Array | undefined {
  const head = bytes[0];
  // A map of 5 (no annotations) or 6 pairs.
  if (head !== 0xa5 && head !== 0xa6) return undefined;
  let pos = 1;
  for (let key = 1; key <= 4; key++) {
    if (bytes[pos] !== key) return undefined;
    pos = skipItem(bytes, pos + 1);
    if (pos < 0) return undefined;
  }
  if (bytes[pos] !== 5 || bytes[pos + 1] !== 0x58 || bytes[pos + 2] !== 0x40 || pos + 67 > bytes.length) return undefined;
  const prefix = ENTRY_SIGNATURE_PREFIX.length;
  const out = new Uint8Array(prefix + bytes.length - 67);
  out.set(ENTRY_SIGNATURE_PREFIX, 0);
  out[prefix] = head - 1;
  out.set(bytes.subarray(1, pos), prefix + 1);
  out.set(bytes.subarray(pos + 67), prefix + pos);
  return out;
}

/** The offset after the integer, byte string or text string at `pos`, or -1 for anything else. */
function skipItem(bytes: Uint8Array, pos: number): number {
  const initial = bytes[pos];
  if (initial === undefined) return -1;
  const major = initial >> 5;
  const info = initial & 0x1f;
  let arg: number;
  let at = pos + 1;
  if (info < 24) arg = info;
  else if (info === 24) arg = bytes[at++] ?? -1;
  else if (info === 25) {
    arg = ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
    at += 2;
  } else return -1;
  if (arg < 0) return -1;
  if (major === 0) return at;
  if (major === 2 || major === 3) return at + arg <= bytes.length ? at + arg : -1;
  return -1;
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
