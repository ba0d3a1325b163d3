/**
 * Entry kind `ssh` (docs/formats.md, "Kind ssh"): a signature made by
 * `ssh-keygen -Y sign -n NAMESPACE -f KEY FILE` (OpenSSH PROTOCOL.sshsig)
 * with an ssh-ed25519 or ecdsa-sha2-nistp256 key, hash sha512 (ssh-keygen's
 * default) or sha256.
 *
 * Body: 1 sig = the SSHSIG blob (the armor's base64, decoded: key,
 * namespace, reserved, hash algorithm and signature), 2 hash = H(FILE) in
 * the blob's hash algorithm, the value the signature covers. The signature
 * is checked over the SSHSIG signed data rebuilt from these two, so the log
 * and every verifier check it from the entry alone. With sha256 the hash
 * must equal the entry's digest; with sha512 a verifier holding the file
 * also matches it (`artifactHash`), so an entry cannot pair one file's
 * SHA-256 with another file's signature.
 */
import { sha256 } from '../../../merkle/hash.js';
import { bytesEqual } from '../../encoding.js';
import { InvalidError } from '../../errors.js';
import { encodeSshSignature, parseSshSignature, sshHashSize, verifySshSignature, MAX_SSHSIG_BLOB, type SshSignature } from '../../sig/ssh.js';
import type { EntryKind, EntryV2 } from '../kind.js';

function sigOf(e: EntryV2): SshSignature {
  return parseSshSignature(e.body.sig as Uint8Array, 'entry.body.sig');
}

export const sshKind: EntryKind = {
  id: 'ssh',
  title: 'SSH signature (ssh-keygen -Y sign; PROTOCOL.sshsig) by an ssh-ed25519 or ecdsa-sha2-nistp256 key',
  maxEntrySize: 4096,
  fields: [
    { key: 1, name: 'sig', type: 'bytes', min: 1, max: MAX_SSHSIG_BLOB },
    { key: 2, name: 'hash', type: 'bytes', min: 32, max: 64 },
  ],
  check(e) {
    const sig = sigOf(e);
    const blob = e.body.sig as Uint8Array;
    if (!bytesEqual(encodeSshSignature(sig), blob)) throw new InvalidError('entry.body.sig: not the one encoding of its SSHSIG content', 'non-canonical');
    const hash = e.body.hash as Uint8Array;
    const size = sshHashSize(sig.hashAlgorithm);
    if (hash.length !== size) throw new InvalidError(`entry.body.hash: the signature uses ${sig.hashAlgorithm}, so the hash must be ${size} bytes, got ${hash.length}`);
    if (sig.hashAlgorithm === 'sha256' && !bytesEqual(hash, e.digest)) {
      throw new InvalidError('entry.body.hash: the signature uses sha256, so the hash must equal the entry digest (the SHA-256 of the artifact)');
    }
  },
  verify(e, crypto) {
    const sig = sigOf(e);
    if (!verifySshSignature(sig, e.body.hash as Uint8Array, crypto.ed, crypto.p256)) {
      throw new InvalidError(
        `entry.body.sig: the SSH signature by ${sig.publicKey.fingerprint} does not verify over namespace ${JSON.stringify(sig.namespace)} and the ${sig.hashAlgorithm} hash in the entry`,
        'bad-signature',
      );
    }
  },
  signers(e) {
    const key = sigOf(e).publicKey;
    return [{ algorithm: key.type === 'ssh-ed25519' ? 'ed25519' : 'ecdsa-p256', format: 'ssh', fingerprint: key.fingerprint, keyHash: sha256(key.blob), key: key.key }];
  },
  artifactHash(e) {
    const sig = sigOf(e);
    return sig.hashAlgorithm === 'sha512' ? { algorithm: 'sha512', value: e.body.hash as Uint8Array } : undefined;
  },
};
