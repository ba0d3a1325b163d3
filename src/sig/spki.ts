/**
 * Public keys for DSSE signatures, given as PEM "PUBLIC KEY" blocks
 * (RFC 7468 §13: a SubjectPublicKeyInfo, RFC 5280 §4.1.2.7). Two kinds are
 * accepted: Ed25519 (RFC 8410) and ECDSA on P-256 (RFC 5480, named curve
 * prime256v1, uncompressed or compressed point). Both have fixed DER
 * prefixes, so the parser compares bytes instead of decoding general ASN.1:
 * there is exactly one accepted DER encoding per key. Anything else (RSA,
 * other curves, explicit parameters, trailing data) is refused by name.
 *
 * Pure JavaScript: no node: imports, so browsers can use it.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '../../merkle/hash.js';
import { b64decode, b64encode, bytesEqual } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { checkPublicKey } from '../crypto/ed25519.js';

export type SpkiAlgorithm = 'ed25519' | 'ecdsa-p256';

export interface SpkiKey {
  readonly algorithm: SpkiAlgorithm;
  /** The raw key: 32 bytes for Ed25519, the SEC1 point (33 or 65 bytes) for P-256. */
  readonly key: Uint8Array;
  /** The whole DER SubjectPublicKeyInfo, as given. */
  readonly spki: Uint8Array;
  /**
   * `SHA256:` and the unpadded base64 SHA-256 of the DER, the key's one name
   * in messages; for a compressed P-256 point, of the uncompressed key's DER.
   */
  readonly fingerprint: string;
}

/** Largest PEM text accepted; a P-256 SPKI is 91 bytes, so this is generous. */
export const MAX_PEM_LENGTH = 4096;

const ED25519_PREFIX = hex('302a300506032b6570032100');
const P256_UNCOMPRESSED_PREFIX = hex('3059301306072a8648ce3d020106082a8648ce3d030107034200');
const P256_COMPRESSED_PREFIX = hex('3039301306072a8648ce3d020106082a8648ce3d030107032200');
const RSA_OID = hex('06092a864886f70d010101');
const EC_OID = hex('06072a8648ce3d0201');

/** Parses one PEM "PUBLIC KEY" block (surrounding white space allowed, nothing else). */
export function parsePemPublicKey(text: string, field = 'public key'): SpkiKey {
  if (text.length > MAX_PEM_LENGTH) throw new MalformedError(`${field}: PEM longer than ${MAX_PEM_LENGTH} characters`);
  const lines = text.trim().split(/\r?\n/);
  const begin = '-----BEGIN PUBLIC KEY-----';
  const end = '-----END PUBLIC KEY-----';
  if (lines[0] !== begin) {
    const label = /^-----BEGIN ([A-Z0-9 ]+)-----$/.exec(lines[0] ?? '');
    if (label) throw new MalformedError(`${field}: PEM block is "${label[1]}", expected "PUBLIC KEY" (an SPKI public key, e.g. from \`openssl pkey -pubout\`)`);
    throw new MalformedError(`${field}: not a PEM public key (no "${begin}" line)`);
  }
  if (lines.length < 3 || lines[lines.length - 1] !== end) throw new MalformedError(`${field}: PEM is truncated (no "${end}" line)`);
  const body = lines.slice(1, -1).join('');
  if (body.length === 0) throw new MalformedError(`${field}: PEM is empty`);
  return parseSpki(b64decode(body, `${field} PEM body`), field);
}

/** Parses a DER SubjectPublicKeyInfo of an Ed25519 or P-256 key. */
export function parseSpki(der: Uint8Array, field = 'public key'): SpkiKey {
  if (startsWith(der, ED25519_PREFIX) && der.length === ED25519_PREFIX.length + 32) {
    const key = der.slice(ED25519_PREFIX.length);
    checkPublicKey(key, `${field} (Ed25519)`);
    return make('ed25519', key, der);
  }
  for (const [prefix, size] of [[P256_UNCOMPRESSED_PREFIX, 65], [P256_COMPRESSED_PREFIX, 33]] as const) {
    if (startsWith(der, prefix) && der.length === prefix.length + size) {
      const key = der.slice(prefix.length);
      try {
        p256.Point.fromBytes(key).assertValidity();
      } catch {
        throw new InvalidError(`${field} (ECDSA P-256): the point is not on the curve`);
      }
      return make('ecdsa-p256', key, der);
    }
  }
  const p256Spki = startsWith(der, P256_UNCOMPRESSED_PREFIX.subarray(0, 23)) || startsWith(der, P256_COMPRESSED_PREFIX.subarray(0, 23));
  if (p256Spki) throw new InvalidError(`${field}: a malformed ECDSA P-256 SubjectPublicKeyInfo (${der.length} bytes; a P-256 key is 91 bytes, or 59 compressed): truncated or with extra bytes?`);
  if (contains(der, RSA_OID)) throw new InvalidError(`${field}: RSA keys are not supported (use Ed25519 or ECDSA P-256)`);
  if (contains(der, EC_OID)) throw new InvalidError(`${field}: an elliptic-curve key on a curve other than P-256 (named prime256v1) is not supported`);
  throw new InvalidError(`${field}: unsupported or malformed SubjectPublicKeyInfo (Ed25519 and ECDSA P-256 are supported)`);
}

/**
 * Both SubjectPublicKeyInfo spellings of one P-256 point (33 or 65 bytes):
 * the key hash of an entry is SHA-256 of the DER as submitted (docs/formats.md
 * §14), so a lookup by key must try both to find every entry of the key.
 */
export function p256SpkiForms(point: Uint8Array): { uncompressed: Uint8Array; compressed: Uint8Array } {
  const p = p256.Point.fromBytes(point);
  return { uncompressed: concat(P256_UNCOMPRESSED_PREFIX, p.toBytes(false)), compressed: concat(P256_COMPRESSED_PREFIX, p.toBytes(true)) };
}

/** The PEM text of a key, 64 characters a line. */
export function formatPem(key: SpkiKey): string {
  const b64 = b64encode(key.spki);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

function make(algorithm: SpkiAlgorithm, key: Uint8Array, spki: Uint8Array): SpkiKey {
  // One key, one name: a compressed P-256 point is named as its uncompressed
  // SPKI (what `openssl pkey -pubin -outform DER` writes by default), so both
  // spellings of a key get the same fingerprint.
  const named = algorithm === 'ecdsa-p256' && key.length === 33 ? concat(P256_UNCOMPRESSED_PREFIX, p256.Point.fromBytes(key).toBytes(false)) : spki;
  const fingerprint = 'SHA256:' + b64encode(sha256(named)).replace(/=+$/, '');
  return { algorithm, key, spki: spki.slice(), fingerprint };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && bytesEqual(bytes.subarray(0, prefix.length), prefix);
}

function contains(bytes: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function hex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
