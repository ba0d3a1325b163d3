/**
 * Builds a version-2 entry from a signature a release pipeline already made
 * (docs/signing.md, "Logging existing signatures"): an `ssh-keygen -Y sign`
 * armor, a `.minisig` file, or an ECDSA P-256 signature (DER, raw r‖s, or
 * either in base64 as cosign writes it) with its PEM key. The kind is
 * detected from the signature's shape unless forced. The entry is checked
 * and its signature verified here, so a mismatch (another file, another
 * key, another namespace) is reported before anything is sent.
 *
 * Pure and browser-safe; the caller supplies the artifact's digests.
 */
import { bytesEqual, b64decode } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { parseMinisignPublicKey, parseMinisignSignature, minisignKeyIdText } from '../sig/minisign.js';
import { parseNativeKey } from '../sig/native-key.js';
import { parsePemPublicKey } from '../sig/spki.js';
import { dearmorSshSignature, parseSshSignature, parseSshPublicKey } from '../sig/ssh.js';
import type { Annotations } from './entry.js';
import type { EntryV2 } from './kind.js';
import { ecdsaRawToDer } from './kinds/ecdsa-p256.js';
import { checkEntryV2, kindOf } from './v2.js';

export type SignatureFormat = 'ssh' | 'minisign' | 'ecdsa';

export interface ArtifactDigests {
  readonly sha256: Uint8Array;
  readonly sha512: Uint8Array;
  readonly blake2b512: Uint8Array;
}

export interface NativeEntryInput {
  readonly signature: Uint8Array;
  /** Required for minisign and ECDSA; for SSH (whose signature holds its key) it must match when given. */
  readonly publicKey?: string;
  readonly format?: SignatureFormat;
  /** SSH: the namespace the signature must have been made in. */
  readonly namespace?: string;
  readonly name: string;
  readonly digests: ArtifactDigests;
  readonly annotations?: Annotations;
}

/** The format of a signature file, from its first bytes. */
export function detectSignatureFormat(sig: Uint8Array): SignatureFormat {
  const head = String.fromCharCode(...sig.subarray(0, 40)).trimStart();
  if (head.startsWith('-----BEGIN SSH SIGNATURE-----')) return 'ssh';
  if (head.startsWith('untrusted comment:')) return 'minisign';
  if (head.startsWith('-----BEGIN ')) throw new MalformedError(`signature: a PEM block ${JSON.stringify(head.split('\n')[0])} is not a signature (an SSH signature, a .minisig file or an ECDSA signature)`);
  return 'ecdsa';
}

function text(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function needKey(input: NativeEntryInput, format: string): string {
  if (input.publicKey === undefined) throw new MalformedError(`public key: a ${format} signature does not carry its key; give the signer's public key`);
  return input.publicKey;
}

/** The entry for `input`, checked and verified. Throws InvalidError/MalformedError saying what does not match. */
export function nativeEntry(input: NativeEntryInput, ed: Ed25519): EntryV2 {
  const format = input.format ?? detectSignatureFormat(input.signature);
  const base = { version: 2 as const, name: input.name, digest: input.digests.sha256, ...(input.annotations === undefined ? {} : { annotations: input.annotations }) };
  let entry: EntryV2;
  if (format === 'ssh') {
    const blob = dearmorSshSignature(text(input.signature), 'signature');
    const sig = parseSshSignature(blob, 'signature');
    if (input.publicKey !== undefined) {
      const key = parseSshPublicKey(input.publicKey, 'public key');
      if (!bytesEqual(key.blob, sig.publicKey.blob)) throw new InvalidError(`signature: made by ${sig.publicKey.fingerprint}, not by the given public key ${key.fingerprint}`, 'wrong-key');
    }
    if (input.namespace !== undefined && input.namespace !== sig.namespace) {
      throw new InvalidError(`signature: made in namespace ${JSON.stringify(sig.namespace)}, not ${JSON.stringify(input.namespace)}`, 'wrong-namespace');
    }
    entry = { ...base, kind: 'ssh', body: { sig: blob, hash: sig.hashAlgorithm === 'sha256' ? input.digests.sha256 : input.digests.sha512 } };
  } else if (format === 'minisign') {
    if (input.namespace !== undefined) throw new MalformedError('namespace: only SSH signatures have a namespace');
    const sig = parseMinisignSignature(input.signature, 'signature');
    const key = parseMinisignPublicKey(needKey(input, 'minisign'), 'public key');
    if (!bytesEqual(key.keyId, sig.keyId)) throw new InvalidError(`signature: made by minisign key ${minisignKeyIdText(sig.keyId)}, not by the given public key ${key.fingerprint}`, 'wrong-key');
    entry = { ...base, kind: 'minisign', body: { key: key.bytes, sig: sig.bytes, hash: input.digests.blake2b512, comment: sig.trustedComment, global: sig.globalSignature } };
  } else {
    if (input.namespace !== undefined) throw new MalformedError('namespace: only SSH signatures have a namespace');
    const keyText = needKey(input, 'ECDSA');
    const native = parseNativeKey(keyText, 'public key');
    if (native.format !== 'pem') throw new MalformedError(`public key: an ECDSA signature needs the key as PEM ("PUBLIC KEY"), got a ${native.format} key`);
    const key = parsePemPublicKey(keyText, 'public key');
    if (key.algorithm !== 'ecdsa-p256') throw new InvalidError('public key: an Ed25519 PEM key; an ECDSA signature needs an ECDSA P-256 key');
    let sig = input.signature;
    // cosign sign-blob writes the DER signature in base64.
    const t = text(sig).trim();
    if (/^[A-Za-z0-9+/]+=*$/.test(t) && t.length >= 16) sig = b64decode(t, 'signature (base64)');
    entry = { ...base, kind: 'ecdsa-p256', body: { key: key.spki, sig: ecdsaRawToDer(sig) } };
  }
  const checked = checkEntryV2(entry);
  kindOf(checked.kind).verify(checked, { ed });
  return checked;
}
