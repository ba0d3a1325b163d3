/**
 * Ed25519 (RFC 8032) behind one small interface, so that every verify path
 * can run on either backend:
 *
 * - `nobleEd25519`: pure JavaScript (@noble/ed25519 + @noble/hashes). No
 *   Node-only imports: this is the path browsers use.
 * - `nodeEd25519` (./ed25519-node.ts): node:crypto, about 13x faster at
 *   verification; the server, monitor and CLI use it.
 *
 * Public keys that come from untrusted input are checked with
 * `checkPublicKey` before use, on both paths: the 32 bytes must be the
 * canonical encoding of a curve point (y < 2^255-19, no "negative zero" x),
 * decoded with noble's strict RFC 8032 decoder (zip215 = false), and the
 * point must not be of small order. Signatures are verified with noble in
 * its strict RFC 8032 mode (zip215 = false), which also rejects
 * non-canonical R encodings and S >= L; OpenSSL rejects S >= L too.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { InvalidError, MalformedError } from '../errors.js';

ed.hashes.sha512 = sha512;

export interface Ed25519 {
  /** The 32-byte public key of a 32-byte seed. */
  publicKey(seed: Uint8Array): Uint8Array;
  /** A 64-byte RFC 8032 signature of `message` by `seed`. */
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** True when `signature` is valid for `message` under `publicKey`. Never throws on bad input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export const nobleEd25519: Ed25519 = {
  publicKey(seed) {
    checkLength(seed, 32, 'Ed25519 seed');
    return ed.getPublicKey(seed);
  },
  sign(seed, message) {
    checkLength(seed, 32, 'Ed25519 seed');
    return ed.sign(message, seed);
  },
  verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return ed.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

function checkLength(bytes: Uint8Array, length: number, field: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new MalformedError(`${field}: must be ${length} bytes`);
  }
}

const canonicalCache = new Map<string, boolean>();

/**
 * Throws InvalidError unless `publicKey` is a canonical encoding of an
 * Ed25519 point that is not of small order. Results are memoised for a
 * bounded number of keys, since the same signer keys recur constantly.
 */
export function checkPublicKey(publicKey: Uint8Array, field = 'public key'): void {
  checkLength(publicKey, 32, field);
  let id = '';
  for (let i = 0; i < 32; i++) id += String.fromCharCode(publicKey[i]!);
  let ok = canonicalCache.get(id);
  if (ok === undefined) {
    try {
      const point = ed.Point.fromBytes(publicKey, false);
      ok = !point.isSmallOrder();
    } catch {
      ok = false;
    }
    if (canonicalCache.size >= 4096) canonicalCache.clear();
    canonicalCache.set(id, ok);
  }
  if (!ok) throw new InvalidError(`${field}: not a canonical Ed25519 public key of large order`);
}
