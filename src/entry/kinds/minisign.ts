/**
 * Entry kind `minisign` (docs/formats.md, "Kind minisign"): a prehashed
 * (`ED`) signature made by `minisign -S`, over the BLAKE2b-512 of the file,
 * with its trusted comment and global signature.
 *
 * Body: 1 key = the public key's 42 bytes (`Ed`, key ID, Ed25519 key),
 * 2 sig = the signature line's 74 bytes (`ED`, key ID, signature), 3 hash =
 * BLAKE2b-512 of the file (what the signature covers), 4 comment = the
 * trusted comment (the bytes after `trusted comment: `; a byte string, since
 * minisign's default comment holds tabs and need not be UTF-8), 5 global = the global
 * signature (64 bytes, over sig's last 64 bytes then the comment). The
 * untrusted comment is not signed and not stored. A legacy `Ed` signature
 * is refused: it covers the whole file, which the log never receives. A
 * verifier holding the file also matches the BLAKE2b-512 (`artifactHash`).
 */
import { sha256 } from '../../../merkle/hash.js';
import { InvalidError } from '../../errors.js';
import { makeMinisignSignature, parseMinisignKeyBytes, verifyMinisign, MAX_TRUSTED_COMMENT, type MinisignPublicKey, type MinisignSignature } from '../../sig/minisign.js';
import type { EntryKind, EntryV2 } from '../kind.js';

function parts(e: EntryV2): { key: MinisignPublicKey; sig: MinisignSignature } {
  const key = parseMinisignKeyBytes(e.body.key as Uint8Array, 'entry.body.key');
  const sig = makeMinisignSignature(e.body.sig as Uint8Array, e.body.comment as Uint8Array, e.body.global as Uint8Array, 'entry.body.sig');
  return { key, sig };
}

export const minisignKind: EntryKind = {
  id: 'minisign',
  title: 'minisign prehashed signature (minisign -S) with its trusted comment',
  maxEntrySize: MAX_TRUSTED_COMMENT + 1024,
  fields: [
    { key: 1, name: 'key', type: 'bytes', min: 42, max: 42 },
    { key: 2, name: 'sig', type: 'bytes', min: 74, max: 74 },
    { key: 3, name: 'hash', type: 'bytes', min: 64, max: 64 },
    { key: 4, name: 'comment', type: 'bytes', min: 0, max: MAX_TRUSTED_COMMENT },
    { key: 5, name: 'global', type: 'bytes', min: 64, max: 64 },
  ],
  check(e) {
    parts(e);
  },
  verify(e, crypto) {
    const { key, sig } = parts(e);
    const why = verifyMinisign(key, sig, e.body.hash as Uint8Array, crypto.ed);
    if (why !== undefined) throw new InvalidError(`entry.body.sig: ${why}`, 'bad-signature');
  },
  signers(e) {
    const key = parseMinisignKeyBytes(e.body.key as Uint8Array, 'entry.body.key');
    return [{ algorithm: 'ed25519', format: 'minisign', fingerprint: key.fingerprint, keyHash: sha256(key.bytes), key: key.key }];
  },
  artifactHash(e) {
    return { algorithm: 'blake2b-512', value: e.body.hash as Uint8Array };
  },
};
