/**
 * Entry kind `ecdsa-p256` (docs/formats.md §4.3): an ECDSA signature on
 * P-256 over the artifact's SHA-256, as `openssl dgst -sha256 -sign KEY` and
 * `cosign sign-blob --key` make it. The signed value is the entry's own
 * digest field, so the log and every verifier check the signature from the
 * entry alone.
 *
 * Body: 1 key = the signer's SubjectPublicKeyInfo in DER (RFC 5480, named
 * curve prime256v1; parsed by src/sig/spki.ts), 2 sig = the signature in
 * DER (SEC 1 / RFC 3279 Ecdsa-Sig-Value). The DER must be the strict one
 * (re-encoding gives it back), so a signature has one encoding per entry.
 * High-S signatures are accepted: OpenSSL does not normalise S.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '../../../merkle/hash.js';
import { bytesEqual } from '../../encoding.js';
import { InvalidError } from '../../errors.js';
import { parseSpki, type SpkiKey } from '../../sig/spki.js';
import type { EntryKind, EntryV2 } from '../kind.js';

function keyOf(e: EntryV2): SpkiKey {
  const key = parseSpki(e.body.key as Uint8Array, 'entry.body.key');
  if (key.algorithm !== 'ecdsa-p256') throw new InvalidError('entry.body.key: an Ed25519 key; kind ecdsa-p256 needs an ECDSA P-256 key');
  return key;
}

export const ecdsaP256Kind: EntryKind = {
  id: 'ecdsa-p256',
  title: 'ECDSA P-256 over the SHA-256 of the artifact (openssl dgst -sha256 -sign, cosign sign-blob)',
  maxEntrySize: 2048,
  fields: [
    { key: 1, name: 'key', type: 'bytes', min: 1, max: 1024 },
    { key: 2, name: 'sig', type: 'bytes', min: 8, max: 80 },
  ],
  check(e) {
    keyOf(e);
    const sig = e.body.sig as Uint8Array;
    let again: Uint8Array;
    try {
      again = p256.Signature.fromBytes(sig, 'der').toBytes('der');
    } catch (err) {
      // A raw r||s (64 bytes) is what some tools write; the client converts it (docs/formats.md §16.1).
      if (sig.length === 64) throw new InvalidError('entry.body.sig: 64 bytes that are not DER: a raw r‖s signature? Entries hold DER; convert it first (vitrine submit --signature does)');
      throw new InvalidError(`entry.body.sig: not a DER ECDSA signature (${err instanceof Error ? err.message.slice(0, 100) : 'parse error'})`);
    }
    if (!bytesEqual(again, sig)) throw new InvalidError('entry.body.sig: not the strict DER encoding of its (r, s)', 'non-canonical');
  },
  verify(e) {
    const key = keyOf(e);
    let ok = false;
    try {
      ok = p256.verify(e.body.sig as Uint8Array, e.digest, key.key, { prehash: false, lowS: false, format: 'der' });
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new InvalidError(`entry.body.sig: the ECDSA P-256 signature by ${key.fingerprint} does not verify over the entry's SHA-256 digest`, 'bad-signature');
    }
  },
  signers(e) {
    const key = keyOf(e);
    return [{ algorithm: 'ecdsa-p256', format: 'pem', fingerprint: key.fingerprint, keyHash: sha256(key.spki), key: key.key }];
  },
};

/** Converts a raw 64-byte r‖s signature (as some tools write it) to the DER the entry stores. */
export function ecdsaRawToDer(sig: Uint8Array): Uint8Array {
  if (sig.length === 64) return p256.Signature.fromBytes(sig, 'compact').toBytes('der');
  return sig;
}
