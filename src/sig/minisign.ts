/**
 * minisign public keys and signatures (the minisign file formats, as
 * minisign 0.11 writes them; jedisct1.github.io/minisign). A public key is
 * `Ed` + key ID (8 bytes) + Ed25519 key (32); a signature is the algorithm
 * (`ED`: Ed25519 over the BLAKE2b-512 of the file, "prehashed"; legacy `Ed`:
 * over the file itself) + key ID + signature (64), then a trusted comment
 * and the global signature: Ed25519 over the 64 signature bytes followed by
 * the trusted comment's bytes. The key ID is shown as minisign prints it:
 * the 8 bytes read as a little-endian integer, in uppercase hex without
 * leading zeros.
 *
 * Pure JavaScript: browsers can use it.
 */
import { b64decode, b64encode, bytesEqual, concatBytes, utf8 } from '../encoding.js';
import { checkPublicKey, type Ed25519 } from '../crypto/ed25519.js';
import { InvalidError, MalformedError } from '../errors.js';

export interface MinisignPublicKey {
  /** The 8-byte key ID as stored (little-endian). */
  readonly keyId: Uint8Array;
  readonly key: Uint8Array;
  /** The 42 bytes of the key line: `Ed`, key ID, key. */
  readonly bytes: Uint8Array;
  /** The key ID as minisign prints it (uppercase hex, no leading zeros). */
  readonly fingerprint: string;
}

export interface MinisignSignature {
  /** The 74 bytes of the signature line: `ED`, key ID, signature. */
  readonly bytes: Uint8Array;
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
  /** The trusted comment's bytes, without the `trusted comment: ` prefix (minisign's default holds tabs). */
  readonly trustedComment: Uint8Array;
  readonly globalSignature: Uint8Array;
}

const KEY_ALG = utf8('Ed');
const PREHASHED = utf8('ED');
/** minisign's own limit on a trusted comment (TRUSTEDCOMMENTMAXBYTES). */
export const MAX_TRUSTED_COMMENT = 8192;
const MAX_FILE = 16 * 1024;
const UNTRUSTED = 'untrusted comment: ';
const TRUSTED = 'trusted comment: ';

/**
 * The key ID as minisign prints it: the 8 bytes read as a little-endian
 * integer, in uppercase hex WITHOUT leading zeros (minisign formats it with
 * `%" PRIX64 "`, so one key in sixteen prints fewer than 16 digits). The
 * same text as in minisign's "minisign public key <ID>" comment, so a user
 * can match it by eye.
 */
export function minisignKeyIdText(keyId: Uint8Array): string {
  let out = '';
  for (let i = keyId.length - 1; i >= 0; i--) out += keyId[i]!.toString(16).padStart(2, '0');
  out = out.replace(/^0+(?=.)/, '');
  return out.toUpperCase();
}

/** Parses the 42 bytes of a minisign public key. */
export function parseMinisignKeyBytes(bytes: Uint8Array, field = 'minisign public key'): MinisignPublicKey {
  if (bytes.length !== 42) throw new MalformedError(`${field}: must be 42 bytes (Ed, key ID, key), got ${bytes.length}`);
  if (!bytesEqual(bytes.subarray(0, 2), KEY_ALG)) throw new InvalidError(`${field}: algorithm ${JSON.stringify(String.fromCharCode(bytes[0]!, bytes[1]!))} is not Ed (Ed25519)`);
  const keyId = bytes.slice(2, 10);
  const key = bytes.slice(10);
  checkPublicKey(key, `${field} (Ed25519)`);
  return { keyId, key, bytes: bytes.slice(), fingerprint: minisignKeyIdText(keyId) };
}

/** True when `text` looks like a minisign public key (a file, or the bare base64 line minisign -P takes). */
export function isMinisignPublicKey(text: string): boolean {
  const t = text.trim();
  // "Ed" then the key ID: the third base64 digit is Q, R, S or T by the ID's top two bits.
  return t.startsWith(UNTRUSTED) ? /\nRW[QRST][A-Za-z0-9+/]{53}/.test(t) : /^RW[QRST][A-Za-z0-9+/]{53}$/.test(t);
}

/** Parses a minisign public key file (`untrusted comment:` line, key line) or the bare key line. */
export function parseMinisignPublicKey(text: string, field = 'minisign public key'): MinisignPublicKey {
  if (text.length > MAX_FILE) throw new MalformedError(`${field}: longer than ${MAX_FILE} characters`);
  const lines = text.trim().split(/\r?\n/);
  // Say what was given instead when it is another key format.
  const other = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(lines[0]!)?.[1] ?? (/^(ssh-|ecdsa-sha2-)/.test(lines[0]!) ? 'an OpenSSH public key' : undefined);
  if (other !== undefined) throw new MalformedError(`${field}: ${other.startsWith('an ') ? other : `a PEM "${other}" block`} is not a minisign public key (the .pub file minisign -G writes)`);
  if (lines[0]!.startsWith(UNTRUSTED)) lines.shift();
  if (lines.length !== 1) throw new MalformedError(`${field}: expected one key line${lines.length === 0 ? ', found none (truncated?)' : ` after the comment, found ${lines.length}`}`);
  return parseMinisignKeyBytes(b64decode(lines[0]!.trim(), `${field} base64`), field);
}

/** The key line (base64 of the 42 bytes), as `minisign -P` takes it. */
export function formatMinisignPublicKey(key: MinisignPublicKey): string {
  return b64encode(key.bytes);
}

/** Parses the parts an entry stores: the 74 signature bytes, the trusted comment and the global signature. */
export function makeMinisignSignature(bytes: Uint8Array, trustedComment: Uint8Array, globalSignature: Uint8Array, field = 'minisign signature'): MinisignSignature {
  if (bytes.length !== 74) throw new MalformedError(`${field}: the signature line must decode to 74 bytes (algorithm, key ID, signature), got ${bytes.length}`);
  const alg = bytes.subarray(0, 2);
  if (bytesEqual(alg, KEY_ALG)) {
    throw new InvalidError(`${field}: a legacy (non-prehashed, algorithm Ed) minisign signature covers the whole file, so it cannot be checked without the file; sign again with minisign 0.8 or later (prehashed is the default) or minisign -H`, 'legacy-minisign');
  }
  if (!bytesEqual(alg, PREHASHED)) throw new InvalidError(`${field}: algorithm ${JSON.stringify(String.fromCharCode(alg[0]!, alg[1]!))} is not ED (prehashed Ed25519)`);
  if (trustedComment.length > MAX_TRUSTED_COMMENT || trustedComment.includes(0x0a) || trustedComment.includes(0x0d)) {
    throw new InvalidError(`${field}: the trusted comment must be one line of at most ${MAX_TRUSTED_COMMENT} bytes`);
  }
  if (globalSignature.length !== 64) throw new MalformedError(`${field}: the global signature must be 64 bytes, got ${globalSignature.length}`);
  return { bytes: bytes.slice(), keyId: bytes.slice(2, 10), signature: bytes.slice(10), trustedComment: trustedComment.slice(), globalSignature: globalSignature.slice() };
}

/** Parses a .minisig file (its bytes): untrusted comment, signature line, trusted comment, global signature. */
export function parseMinisignSignature(data: Uint8Array, field = 'minisign signature'): MinisignSignature {
  if (data.length > MAX_FILE + MAX_TRUSTED_COMMENT) throw new MalformedError(`${field}: file too large`);
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= data.length; i++) {
    if (i === data.length || data[i] === 0x0a) {
      const end = i > start && data[i - 1] === 0x0d ? i - 1 : i;
      lines.push(data.subarray(start, end));
      start = i + 1;
    }
  }
  if (lines.length > 0 && lines[lines.length - 1]!.length === 0) lines.pop();
  const text = (b: Uint8Array): string => String.fromCharCode(...b.subarray(0, 200));
  if (lines.length === 0 || !text(lines[0]!).startsWith(UNTRUSTED)) throw new MalformedError(`${field}: not a minisign signature (no "untrusted comment:" line)`);
  if (lines.length < 4) throw new MalformedError(`${field}: truncated: ${lines.length} lines, a minisign signature has 4`);
  if (lines.length > 4) throw new MalformedError(`${field}: ${lines.length} lines, a minisign signature has 4`);
  if (!text(lines[2]!).startsWith(TRUSTED)) throw new MalformedError(`${field}: line 3 is not a "trusted comment:" line`);
  const bytes = b64decode(text(lines[1]!).trim(), `${field} signature line`);
  const global = b64decode(String.fromCharCode(...lines[3]!.subarray(0, 200)).trim(), `${field} global signature`);
  return makeMinisignSignature(bytes, lines[2]!.subarray(TRUSTED.length), global, field);
}

/** The bytes of a .minisig file for these parts (the untrusted comment is not signed; this one is fixed). */
export function formatMinisignSignature(sig: MinisignSignature): Uint8Array {
  return concatBytes(
    utf8(`${UNTRUSTED}signature from minisign secret key\n${b64encode(sig.bytes)}\n${TRUSTED}`),
    sig.trustedComment,
    utf8(`\n${b64encode(sig.globalSignature)}\n`),
  );
}

/**
 * Checks a prehashed signature over `blake2b512` (the BLAKE2b-512 of the
 * file) and the global signature over the trusted comment. Returns the
 * failure in words, or undefined when both verify.
 */
export function verifyMinisign(key: MinisignPublicKey, sig: MinisignSignature, blake2b512: Uint8Array, ed: Ed25519): string | undefined {
  if (!bytesEqual(key.keyId, sig.keyId)) return `the signature names key ID ${minisignKeyIdText(sig.keyId)}, not the key's ${key.fingerprint}`;
  if (blake2b512.length !== 64 || !ed.verify(key.key, blake2b512, sig.signature)) return `the signature by ${key.fingerprint} does not verify over the BLAKE2b-512 hash in the entry`;
  if (!ed.verify(key.key, concatBytes(sig.signature, sig.trustedComment), sig.globalSignature)) {
    return `the global signature by ${key.fingerprint} does not verify over the trusted comment`;
  }
  return undefined;
}
