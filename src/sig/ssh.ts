/**
 * OpenSSH public keys and SSH signatures (SSHSIG), as `ssh-keygen -Y sign`
 * makes them (OpenSSH PROTOCOL.sshsig; key and signature blobs of RFC 4253
 * §6.6, RFC 8709 for Ed25519, RFC 5656 §3.1 for ECDSA). Only what an entry
 * needs: `ssh-ed25519` and `ecdsa-sha2-nistp256` keys, hash `sha256` or
 * `sha512`. Every parser is strict: the wire format is length-prefixed, so
 * refusing trailing bytes and non-minimal mpints leaves one encoding per
 * value. Other key types (RSA, DSA, FIDO `sk-*`, other curves) are refused
 * by name.
 *
 * Pure JavaScript (@noble/curves for P-256): browsers can use it.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '../../merkle/hash.js';
import { b64decode, b64encode, bytesEqual, concatBytes, fromUtf8, utf8 } from '../encoding.js';
import { checkPublicKey, type Ed25519 } from '../crypto/ed25519.js';
import type { P256 } from '../crypto/p256.js';
import { InvalidError, MalformedError } from '../errors.js';

export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256';
export type SshHashAlgorithm = 'sha256' | 'sha512';

export interface SshPublicKey {
  readonly type: SshKeyType;
  /** The raw key: 32 bytes (Ed25519) or the uncompressed SEC 1 point (65 bytes, P-256). */
  readonly key: Uint8Array;
  /** The public key blob (RFC 4253 §6.6): what the fingerprint hashes. */
  readonly blob: Uint8Array;
  /** `SHA256:` + unpadded base64 of SHA-256 of the blob, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

export interface SshSignature {
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  readonly reserved: Uint8Array;
  readonly hashAlgorithm: SshHashAlgorithm;
  /** The signature blob's format name (equal to the key type here). */
  readonly format: SshKeyType;
  /** Ed25519: 64 bytes. P-256: the (r, s) pair as 64 bytes r‖s. */
  readonly signature: Uint8Array;
}

/** The six bytes that open an SSHSIG blob and its signed data. */
export const SSHSIG_MAGIC = utf8('SSHSIG');
const SSHSIG_VERSION = 1;
/** Bounds on what an entry stores; an Ed25519 or P-256 SSHSIG blob is under 300 bytes. */
export const MAX_SSHSIG_BLOB = 2048;
/** DER prefix of a P-256 SubjectPublicKeyInfo with an uncompressed point (RFC 5480; docs/formats.md §14). */
const P256_SPKI_PREFIX = new Uint8Array([0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00]);
const MAX_NAMESPACE = 256;
const ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const ARMOR_END = '-----END SSH SIGNATURE-----';
const HASH_SIZES: Record<SshHashAlgorithm, number> = { sha256: 32, sha512: 64 };

/** Reads SSH wire values (RFC 4251 §5) from a buffer, strictly. */
class Reader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly field: string) {}
  uint32(what: string): number {
    if (this.pos + 4 > this.bytes.length) throw new MalformedError(`${this.field}: truncated at ${what}`);
    const b = this.bytes;
    const v = ((b[this.pos]! << 24) >>> 0) + (b[this.pos + 1]! << 16) + (b[this.pos + 2]! << 8) + b[this.pos + 3]!;
    this.pos += 4;
    return v;
  }
  string(what: string, max = this.bytes.length): Uint8Array {
    const n = this.uint32(what);
    if (n > max) throw new MalformedError(`${this.field}: ${what} of ${n} bytes, more than ${max}`);
    if (this.pos + n > this.bytes.length) throw new MalformedError(`${this.field}: truncated at ${what}`);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  text(what: string, max?: number): string {
    return fromUtf8(this.string(what, max), `${this.field} ${what}`);
  }
  raw(n: number, what: string): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new MalformedError(`${this.field}: truncated at ${what}`);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** An mpint (RFC 4251 §5) that must be positive and minimally encoded; returned as `size` big-endian bytes. */
  mpint(what: string, size: number): Uint8Array {
    const v = this.string(what, size + 8);
    if (v.length === 0) throw new InvalidError(`${this.field}: ${what} is zero`);
    if (v[0]! & 0x80) throw new InvalidError(`${this.field}: ${what} is negative`);
    if (v[0] === 0 && (v.length === 1 || !(v[1]! & 0x80))) throw new InvalidError(`${this.field}: ${what} is not minimally encoded`, 'non-canonical');
    const digits = v[0] === 0 ? v.subarray(1) : v;
    if (digits.length > size) throw new InvalidError(`${this.field}: ${what} is longer than ${size} bytes`);
    const out = new Uint8Array(size);
    out.set(digits, size - digits.length);
    return out;
  }
  end(): void {
    if (this.pos !== this.bytes.length) throw new MalformedError(`${this.field}: ${this.bytes.length - this.pos} trailing bytes`);
  }
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function mpint(value: Uint8Array): Uint8Array {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  const digits = value.subarray(i);
  return sshString(digits.length > 0 && digits[0]! & 0x80 ? concatBytes(new Uint8Array([0]), digits) : digits);
}

function unsupported(type: string, field: string): InvalidError {
  if (type === 'ssh-rsa' || type.startsWith('rsa-sha2-')) return new InvalidError(`${field}: RSA SSH keys are not supported (use ssh-ed25519 or ecdsa-sha2-nistp256)`);
  if (type.startsWith('sk-')) return new InvalidError(`${field}: security-key (FIDO) SSH keys ${JSON.stringify(type)} are not supported (use ssh-ed25519 or ecdsa-sha2-nistp256)`);
  return new InvalidError(`${field}: SSH key type ${JSON.stringify(type.slice(0, 64))} is not supported (use ssh-ed25519 or ecdsa-sha2-nistp256)`);
}

/** Parses a public key blob (RFC 4253 §6.6) of an ssh-ed25519 or ecdsa-sha2-nistp256 key. */
export function parseSshKeyBlob(blob: Uint8Array, field = 'SSH public key'): SshPublicKey {
  const r = new Reader(blob, field);
  const type = r.text('key type', 64);
  if (type === 'ssh-ed25519') {
    const key = r.string('Ed25519 key', 32);
    r.end();
    if (key.length !== 32) throw new MalformedError(`${field}: an Ed25519 key must be 32 bytes, got ${key.length}`);
    checkPublicKey(key, `${field} (Ed25519)`);
    return makeKey(type, key, blob);
  }
  if (type === 'ecdsa-sha2-nistp256') {
    const curve = r.text('curve name', 64);
    if (curve !== 'nistp256') throw new InvalidError(`${field}: curve ${JSON.stringify(curve)} does not match key type ecdsa-sha2-nistp256`);
    const key = r.string('P-256 point', 65);
    r.end();
    if (key.length !== 65 || key[0] !== 4) throw new InvalidError(`${field}: the P-256 point must be uncompressed (65 bytes starting 04)`);
    try {
      p256.Point.fromBytes(key).assertValidity();
    } catch {
      throw new InvalidError(`${field} (ECDSA P-256): the point is not on the curve`);
    }
    return makeKey(type, key, blob);
  }
  throw unsupported(type, field);
}

function makeKey(type: SshKeyType, key: Uint8Array, blob: Uint8Array): SshPublicKey {
  return { type, key, blob: blob.slice(), fingerprint: sshFingerprint(blob) };
}

/** `SHA256:` + unpadded base64 of SHA-256 of a key blob (ssh-keygen -l). */
export function sshFingerprint(blob: Uint8Array): string {
  return 'SHA256:' + b64encode(sha256(blob)).replace(/=+$/, '');
}

/** True when `text` looks like an OpenSSH public key line (`type base64 [comment]`). */
export function isSshPublicKeyLine(text: string): boolean {
  return /^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ +AAAA/.test(text.trim());
}

/** Parses an OpenSSH public key line, `TYPE BASE64 [COMMENT]` (as in id_ed25519.pub). */
export function parseSshPublicKey(text: string, field = 'SSH public key'): SshPublicKey {
  const line = text.trim();
  if (line.includes('\n')) throw new MalformedError(`${field}: more than one line`);
  const parts = line.split(/ +/);
  if (parts.length < 2) throw new MalformedError(`${field}: not an OpenSSH public key line ("TYPE BASE64 [COMMENT]")`);
  const blob = b64decode(parts[1]!, `${field} base64`);
  const key = parseSshKeyBlob(blob, field);
  if (key.type !== parts[0]) throw new InvalidError(`${field}: the line says ${JSON.stringify(parts[0]!.slice(0, 64))} but the key blob is ${key.type}`);
  return key;
}

/** The OpenSSH line of a key (no comment). */
export function formatSshPublicKey(key: SshPublicKey): string {
  return `${key.type} ${b64encode(key.blob)}`;
}

/** Removes the armor of `ssh-keygen -Y sign` output (PROTOCOL.sshsig "Armored format"). */
export function dearmorSshSignature(text: string, field = 'SSH signature'): Uint8Array {
  const lines = text.trim().split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== ARMOR_BEGIN) throw new MalformedError(`${field}: not an SSH signature (no "${ARMOR_BEGIN}" line)`);
  if (lines.length < 3 || lines[lines.length - 1] !== ARMOR_END) throw new MalformedError(`${field}: the armor is truncated (no "${ARMOR_END}" line)`);
  const blob = b64decode(lines.slice(1, -1).join(''), `${field} base64`);
  if (blob.length > MAX_SSHSIG_BLOB) throw new MalformedError(`${field}: ${blob.length} bytes, more than ${MAX_SSHSIG_BLOB}`);
  return blob;
}

/** The armored text of an SSHSIG blob, 70 base64 characters a line as ssh-keygen writes it. */
export function armorSshSignature(blob: Uint8Array): string {
  const b64 = b64encode(blob);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return `${ARMOR_BEGIN}\n${lines.join('\n')}\n${ARMOR_END}\n`;
}

/** Parses an SSHSIG blob (de-armored) strictly. */
export function parseSshSignature(blob: Uint8Array, field = 'SSH signature'): SshSignature {
  if (blob.length > MAX_SSHSIG_BLOB) throw new MalformedError(`${field}: ${blob.length} bytes, more than ${MAX_SSHSIG_BLOB}`);
  const r = new Reader(blob, field);
  if (!bytesEqual(r.raw(6, 'magic'), SSHSIG_MAGIC)) throw new MalformedError(`${field}: does not start with "SSHSIG"`);
  const version = r.uint32('version');
  if (version !== SSHSIG_VERSION) throw new InvalidError(`${field}: version ${version}, only version 1 is defined`);
  const publicKey = parseSshKeyBlob(r.string('public key', 1024), `${field} public key`);
  const namespace = r.text('namespace', MAX_NAMESPACE);
  if (namespace.length === 0) throw new InvalidError(`${field}: the namespace is empty (PROTOCOL.sshsig requires one)`);
  const reserved = r.string('reserved', 256);
  const hash = r.text('hash algorithm', 64);
  if (hash !== 'sha256' && hash !== 'sha512') throw new InvalidError(`${field}: hash algorithm ${JSON.stringify(hash)} is not sha256 or sha512`);
  const sigBlob = r.string('signature', 1024);
  r.end();

  const s = new Reader(sigBlob, `${field} signature`);
  const format = s.text('format', 64);
  if (format !== publicKey.type) {
    if (format.startsWith('rsa-sha2-') || format === 'ssh-rsa') throw unsupported(format, field);
    throw new InvalidError(`${field}: signature format ${JSON.stringify(format.slice(0, 64))} does not match the key type ${publicKey.type}`);
  }
  let signature: Uint8Array;
  if (format === 'ssh-ed25519') {
    signature = s.string('Ed25519 signature', 64);
    if (signature.length !== 64) throw new MalformedError(`${field}: an Ed25519 signature must be 64 bytes, got ${signature.length}`);
  } else {
    const inner = new Reader(s.string('ECDSA signature', 80), `${field} ECDSA signature`);
    const rr = inner.mpint('r', 32);
    const ss = inner.mpint('s', 32);
    inner.end();
    signature = concatBytes(rr, ss);
  }
  s.end();
  return { publicKey, namespace, reserved, hashAlgorithm: hash, format: format as SshKeyType, signature };
}

/** Encodes the parts back into an SSHSIG blob (the inverse of parseSshSignature). */
export function encodeSshSignature(sig: SshSignature): Uint8Array {
  const inner = sig.format === 'ssh-ed25519'
    ? sshString(sig.signature)
    : sshString(concatBytes(mpint(sig.signature.subarray(0, 32)), mpint(sig.signature.subarray(32))));
  const version = new Uint8Array(4);
  new DataView(version.buffer).setUint32(0, SSHSIG_VERSION);
  return concatBytes(
    SSHSIG_MAGIC, version, sshString(sig.publicKey.blob), sshString(utf8(sig.namespace)), sshString(sig.reserved),
    sshString(utf8(sig.hashAlgorithm)), sshString(concatBytes(sshString(utf8(sig.format)), inner)),
  );
}

/** Size in bytes of H(message) for an SSHSIG hash algorithm. */
export function sshHashSize(alg: SshHashAlgorithm): number {
  return HASH_SIZES[alg];
}

/** The bytes the key signs (PROTOCOL.sshsig "Signed Data"): magic, namespace, reserved, hash algorithm, H(message). */
export function sshSignedData(sig: SshSignature, messageHash: Uint8Array): Uint8Array {
  return concatBytes(SSHSIG_MAGIC, sshString(utf8(sig.namespace)), sshString(sig.reserved), sshString(utf8(sig.hashAlgorithm)), sshString(messageHash));
}

/**
 * True when the signature is valid over `messageHash` (H(message) in the
 * signature's hash algorithm). Never throws. ECDSA goes through `p256` when
 * given (node:crypto on Node, about 30x faster than @noble/curves: npm run
 * bench -- kinds), otherwise through @noble/curves.
 */
export function verifySshSignature(sig: SshSignature, messageHash: Uint8Array, ed: Ed25519, p256Backend?: P256): boolean {
  if (messageHash.length !== HASH_SIZES[sig.hashAlgorithm]) return false;
  const data = sshSignedData(sig, messageHash);
  if (sig.format === 'ssh-ed25519') return ed.verify(sig.publicKey.key, data, sig.signature);
  // The backend takes the key's SPKI (RFC 5480, uncompressed point) and hashes data with SHA-256.
  if (p256Backend !== undefined) return p256Backend.verify(sig.publicKey.key, concatBytes(P256_SPKI_PREFIX, sig.publicKey.key), data, sig.signature);
  try {
    // RFC 5656 §6.2.1: ecdsa-sha2-nistp256 signs SHA-256 of the data.
    return p256.verify(sig.signature, data, sig.publicKey.key, { prehash: true, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
}
