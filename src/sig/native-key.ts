/**
 * A signer's public key in any format a user holds it in: an OpenSSH line
 * (src/sig/ssh.ts), a minisign public key (./minisign.ts), a PEM SPKI key
 * (./spki.ts) or a Vitrine vkey (src/note). Each is named the way its own
 * tool names it (docs/formats.md, "Signer keys"): `SHA256:...` for SSH and
 * PEM, the minisign key ID, `name+keyID` for vkeys. The key hash is SHA-256
 * of the key's identity bytes in its format (SSH blob, minisign 42 bytes,
 * SPKI DER, the raw 32-byte Ed25519 key for vkeys), as in entries' signers.
 *
 * Pure JavaScript: browsers can use it.
 */
import { sha256 } from '../../merkle/hash.js';
import { concatBytes, utf8 } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { formatKeyId, parseVerifier, TYPE_ED25519 } from '../note/index.js';
import { formatMinisignPublicKey, isMinisignPublicKey, parseMinisignPublicKey } from './minisign.js';
import { formatPem, parseSpki, parsePemPublicKey } from './spki.js';
import { formatSshPublicKey, isSshPublicKeyLine, parseSshKeyBlob, parseSshPublicKey } from './ssh.js';

export type NativeKeyFormat = 'ssh' | 'minisign' | 'pem' | 'vitrine';

export interface NativeKey {
  readonly format: NativeKeyFormat;
  readonly algorithm: 'ed25519' | 'ecdsa-p256';
  /** The raw key: 32 bytes (Ed25519) or the SEC 1 point (P-256). */
  readonly key: Uint8Array;
  /** The key's one name (see the module comment). */
  readonly fingerprint: string;
  /** SHA-256 of the identity bytes in this format: what entries' signers carry. */
  readonly keyHash: Uint8Array;
  /** The key as given, normalised (one line, or a PEM block). */
  readonly text: string;
}

/** Which format `text` is in, by its shape; undefined when none fits. */
export function detectKeyFormat(text: string): NativeKeyFormat | undefined {
  const t = text.trim();
  if (t.startsWith('-----BEGIN ')) return 'pem';
  if (isSshPublicKeyLine(t)) return 'ssh';
  if (isMinisignPublicKey(t) || t.startsWith('untrusted comment:')) return 'minisign';
  if (/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/.test(t)) return 'vitrine';
  return undefined;
}

/** Parses a public key in any supported format (or the one forced). */
export function parseNativeKey(text: string, field = 'public key', format = detectKeyFormat(text)): NativeKey {
  const t = text.trim();
  switch (format) {
    case 'ssh': {
      const k = parseSshPublicKey(t, field);
      return { format, algorithm: k.type === 'ssh-ed25519' ? 'ed25519' : 'ecdsa-p256', key: k.key, fingerprint: k.fingerprint, keyHash: sha256(k.blob), text: formatSshPublicKey(k) };
    }
    case 'minisign': {
      const k = parseMinisignPublicKey(t, field);
      return { format, algorithm: 'ed25519', key: k.key, fingerprint: k.fingerprint, keyHash: sha256(k.bytes), text: formatMinisignPublicKey(k) };
    }
    case 'pem': {
      const k = parsePemPublicKey(t, field);
      return { format, algorithm: k.algorithm, key: k.key, fingerprint: k.fingerprint, keyHash: sha256(k.spki), text: formatPem(k).trim() };
    }
    case 'vitrine': {
      let v;
      try {
        v = parseVerifier(t);
      } catch (err) {
        throw new MalformedError(`${field}: ${(err as Error).message}`);
      }
      if (v.type !== TYPE_ED25519) throw new InvalidError(`${field}: a cosigner (type 0x04) vkey is a witness key, not a signer key`);
      return { format, algorithm: 'ed25519', key: v.publicKey, fingerprint: `${v.name}+${formatKeyId(v.keyId)}`, keyHash: sha256(v.publicKey), text: t };
    }
    default:
      throw new MalformedError(`${field}: not a public key in a known format (an OpenSSH line, a minisign public key, a PEM "PUBLIC KEY" block or a Vitrine vkey)`);
  }
}

/** The same key in every other format it can be written in (minisign needs a key ID and a vkey a name, so those appear only when given). */
export function keyForms(k: NativeKey): { ssh?: string; sshFingerprint?: string; pem: string; pemFingerprint: string; minisign?: string; vkey?: string } {
  const spki = k.algorithm === 'ed25519'
    ? concatBytes(hexBytes('302a300506032b6570032100'), k.key)
    : concatBytes(hexBytes(k.key.length === 65 ? '3059301306072a8648ce3d020106082a8648ce3d030107034200' : '3039301306072a8648ce3d020106082a8648ce3d030107032200'), k.key);
  const pem = parseSpki(spki);
  let ssh: string | undefined;
  let sshFingerprint: string | undefined;
  if (k.algorithm === 'ed25519' || k.key.length === 65) {
    const blob = k.algorithm === 'ed25519'
      ? concatBytes(str(utf8('ssh-ed25519')), str(k.key))
      : concatBytes(str(utf8('ecdsa-sha2-nistp256')), str(utf8('nistp256')), str(k.key));
    const parsed = parseSshKeyBlob(blob);
    ssh = formatSshPublicKey(parsed);
    sshFingerprint = parsed.fingerprint;
  }
  return {
    ...(ssh === undefined ? {} : { ssh, sshFingerprint }),
    pem: formatPem(pem).trim(),
    pemFingerprint: pem.fingerprint,
    ...(k.format === 'minisign' ? { minisign: k.text } : {}),
    ...(k.format === 'vitrine' ? { vkey: k.text } : {}),
  };
}

function str(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

function hexBytes(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!.map((h) => parseInt(h, 16)));
}

