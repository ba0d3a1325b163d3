/**
 * Signed-note keys (c2sp.org/signed-note, "Verifier keys"; docs/formats.md §2, §5).
 *
 * - Verifier key ("vkey"): `<name>+<8 hex key ID>+<b64(type || public key)>`.
 * - Signer key ("skey"), the private key format of Go's
 *   golang.org/x/mod/sumdb/note:
 *   `PRIVATE+KEY+<name>+<8 hex key ID>+<b64(0x01 || 32-byte Ed25519 seed)>`.
 * - Key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian.
 *
 * Two signature types are supported: 0x01 (Ed25519 over the note text) and
 * 0x04 (timestamped Ed25519 cosignatures, c2sp.org/tlog-cosignature). One
 * Ed25519 key pair serves both; only the type byte, and therefore the key ID,
 * differs. Pure and browser-safe: no Node-only imports.
 *
 *     const signer = generateSigner('log.example.com/vitrine');
 *     formatSigner(signer);                          // PRIVATE+KEY+log.example.com/vitrine+eac8b8a6+AREA…
 *     formatVerifier(verifierFromSigner(signer));    // log.example.com/vitrine+eac8b8a6+AWbg…
 */
import { sha256 } from '../../merkle/hash.js';
import { checkPublicKey, nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { b64decode, b64encode, bytesEqual, concatBytes, utf8 } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';

/** Signature type byte of plain Ed25519 note signatures. */
export const TYPE_ED25519 = 0x01;
/** Signature type byte of tlog-cosignature/v1 timestamped Ed25519 cosignatures. */
export const TYPE_COSIGNATURE = 0x04;
/** The signature types Vitrine understands. */
export type KeyType = typeof TYPE_ED25519 | typeof TYPE_COSIGNATURE;

/** A public key that verifies signature lines. `keyId` is a uint32. */
export interface Verifier {
  readonly name: string;
  readonly keyId: number;
  readonly type: KeyType;
  /** The 32-byte Ed25519 public key (without the type byte). */
  readonly publicKey: Uint8Array;
}

/**
 * An Ed25519 private key with its name. `keyId` is the type-0x01 ID (the one
 * written in the skey). `seed` is not enumerable, so that JSON.stringify and
 * util.inspect of a Signer never show the secret.
 */
export interface Signer {
  readonly name: string;
  readonly keyId: number;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

const SKEY_PREFIX = 'PRIVATE+KEY+';
const WHITE_SPACE = /\p{White_Space}/u;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Throws MalformedError unless `name` is a valid key name: non-empty, no `+`,
 * no Unicode White_Space (c2sp.org/signed-note), and well-formed Unicode.
 */
export function checkKeyName(name: string, field = 'key name'): void {
  if (typeof name !== 'string' || name.length === 0) throw new MalformedError(`${field}: must not be empty`);
  if (name.includes('+')) throw new MalformedError(`${field}: must not contain "+"`);
  if (WHITE_SPACE.test(name)) throw new MalformedError(`${field}: must not contain white space`);
  if (LONE_SURROGATE.test(name)) throw new MalformedError(`${field}: not well-formed Unicode (lone surrogate)`);
}

/** SHA-256(name || 0x0A || type || publicKey)[:4] as a uint32 (c2sp.org/signed-note). */
export function computeKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** A key ID as the 8 lowercase hex digits used in vkeys, skeys and messages. */
export function formatKeyId(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}

function parseKeyId(text: string, field: string): number {
  if (!/^[0-9a-f]{8}$/.test(text)) {
    throw new MalformedError(`${field}: key ID must be 8 lowercase hex digits`);
  }
  return Number.parseInt(text, 16);
}

/** Splits on the first `count` occurrences of `sep`; the last part keeps any further `sep`. */
function splitFirst(text: string, sep: string, count: number): string[] | undefined {
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf(sep);
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

function checkType(type: number, field: string): KeyType {
  if (type !== TYPE_ED25519 && type !== TYPE_COSIGNATURE) {
    throw new MalformedError(
      `${field}: unsupported signature type 0x${type.toString(16).padStart(2, '0')} (want 0x01 Ed25519 or 0x04 cosignature)`,
    );
  }
  return type;
}

/** Builds a Verifier from its parts, checking the name and the public key, and computing the key ID. */
export function makeVerifier(name: string, type: KeyType, publicKey: Uint8Array): Verifier {
  checkKeyName(name, 'verifier key name');
  checkType(type, 'verifier key type');
  checkPublicKey(publicKey, 'verifier public key');
  return Object.freeze({ name, keyId: computeKeyId(name, type, publicKey), type, publicKey: publicKey.slice() });
}

/**
 * Parses a vkey `<name>+<8 hex key ID>+<b64(type || public key)>`, splitting
 * on the first two `+` only. The stated key ID must equal the computed one;
 * the public key must be a canonical Ed25519 point of large order. Types 0x01
 * and 0x04 are accepted and returned as written.
 */
export function parseVerifier(vkey: string): Verifier {
  if (typeof vkey !== 'string') throw new MalformedError('vkey: must be a string');
  const parts = splitFirst(vkey, '+', 2);
  if (parts === undefined) throw new MalformedError('vkey: want <name>+<key ID>+<base64 key>');
  const [name, idText, keyText] = parts as [string, string, string];
  checkKeyName(name, 'vkey name');
  const statedId = parseKeyId(idText, 'vkey key ID');
  const raw = b64decode(keyText, 'vkey key', 33);
  const type = checkType(raw[0]!, 'vkey type');
  const publicKey = raw.subarray(1);
  checkPublicKey(publicKey, 'vkey public key');
  const keyId = computeKeyId(name, type, publicKey);
  if (keyId !== statedId) {
    throw new InvalidError(`vkey key ID: ${idText} does not match the key (computed ${formatKeyId(keyId)})`);
  }
  return Object.freeze({ name, keyId, type, publicKey: publicKey.slice() });
}

/** Formats a Verifier as a vkey string. */
export function formatVerifier(v: Verifier): string {
  checkKeyName(v.name, 'verifier key name');
  const type = checkType(v.type, 'verifier key type');
  if (v.publicKey.length !== 32) throw new MalformedError('verifier public key: must be 32 bytes');
  return `${v.name}+${formatKeyId(computeKeyId(v.name, type, v.publicKey))}+${b64encode(concatBytes(new Uint8Array([type]), v.publicKey))}`;
}

/**
 * The type-0x04 (tlog-cosignature/v1) verifier of a key: same name and public
 * key, key ID recomputed for type 0x04. Accepts a Signer or a Verifier of
 * either type.
 */
export function cosignerVerifier(key: Verifier | Signer): Verifier {
  if ('type' in key && key.type === TYPE_COSIGNATURE) return key;
  return Object.freeze({
    name: key.name,
    keyId: computeKeyId(key.name, TYPE_COSIGNATURE, key.publicKey),
    type: TYPE_COSIGNATURE,
    publicKey: key.publicKey.slice(),
  });
}

/**
 * Parses the vkey of a witness (cosigner): type 0x04 as in
 * c2sp.org/tlog-cosignature, or the type-0x01 form of the same key (its ID
 * is checked as written, then recomputed for type 0x04). Always returns a
 * type-0x04 Verifier.
 */
export function parseCosignerVerifier(vkey: string): Verifier {
  return cosignerVerifier(parseVerifier(vkey));
}

/** The type-0x01 Verifier of a Signer. */
export function verifierFromSigner(signer: Signer): Verifier {
  return Object.freeze({ name: signer.name, keyId: signer.keyId, type: TYPE_ED25519, publicKey: signer.publicKey.slice() });
}

/** Builds a Signer from a name and a 32-byte Ed25519 seed. */
export function signerFromSeed(name: string, seed: Uint8Array, ed: Ed25519 = nobleEd25519): Signer {
  checkKeyName(name, 'signer key name');
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new MalformedError('signer seed: must be 32 bytes');
  const publicKey = ed.publicKey(seed);
  const signer = { name, keyId: computeKeyId(name, TYPE_ED25519, publicKey), publicKey } as Signer;
  Object.defineProperty(signer, 'seed', { value: seed.slice(), enumerable: false });
  return Object.freeze(signer);
}

/** Generates a fresh Ed25519 signer with crypto.getRandomValues. */
export function generateSigner(name: string, ed: Ed25519 = nobleEd25519): Signer {
  checkKeyName(name, 'signer key name');
  const seed = globalThis.crypto.getRandomValues(new Uint8Array(32));
  try {
    return signerFromSeed(name, seed, ed);
  } finally {
    seed.fill(0);
  }
}

/**
 * Parses an skey `PRIVATE+KEY+<name>+<8 hex key ID>+<b64(0x01 || seed)>`,
 * splitting on the first four `+` only. One trailing newline is accepted (the
 * key file form, docs/formats.md §2). The stated key ID must be the type-0x01 ID
 * of the derived public key. Error messages never include key material.
 */
export function parseSigner(skey: string, ed: Ed25519 = nobleEd25519): Signer {
  if (typeof skey !== 'string') throw new MalformedError('skey: must be a string');
  const text = skey.endsWith('\n') ? skey.slice(0, -1) : skey;
  if (!text.startsWith(SKEY_PREFIX)) throw new MalformedError('skey: must start with "PRIVATE+KEY+"');
  const parts = splitFirst(text.slice(SKEY_PREFIX.length), '+', 2);
  if (parts === undefined) throw new MalformedError('skey: want PRIVATE+KEY+<name>+<key ID>+<base64 key>');
  const [name, idText, keyText] = parts as [string, string, string];
  checkKeyName(name, 'skey name');
  const statedId = parseKeyId(idText, 'skey key ID');
  let raw: Uint8Array;
  try {
    raw = b64decode(keyText, 'skey key', 33);
  } catch {
    // b64decode's messages carry no key bytes, but keep this one fixed anyway.
    throw new MalformedError('skey key: must be canonical base64 of 33 bytes (type 0x01 || 32-byte seed)');
  }
  try {
    if (raw[0] !== TYPE_ED25519) throw new MalformedError('skey type: must be 0x01 (Ed25519)');
    const signer = signerFromSeed(name, raw.subarray(1), ed);
    if (signer.keyId !== statedId) {
      throw new InvalidError(`skey key ID: ${idText} does not match the key (computed ${formatKeyId(signer.keyId)})`);
    }
    return signer;
  } finally {
    raw.fill(0);
  }
}

/** Formats a Signer as an skey string (no trailing newline). Never log the result. */
export function formatSigner(signer: Signer): string {
  checkKeyName(signer.name, 'signer key name');
  if (signer.seed.length !== 32) throw new MalformedError('signer seed: must be 32 bytes');
  const id = formatKeyId(computeKeyId(signer.name, TYPE_ED25519, signer.publicKey));
  return `${SKEY_PREFIX}${signer.name}+${id}+${b64encode(concatBytes(new Uint8Array([TYPE_ED25519]), signer.seed))}`;
}

/** True when two verifiers are the same key of the same type under the same name. */
export function sameVerifier(a: Verifier, b: Verifier): boolean {
  return a.name === b.name && a.type === b.type && a.keyId === b.keyId && bytesEqual(a.publicKey, b.publicKey);
}
