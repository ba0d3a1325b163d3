/**
 * Ed25519 through node:crypto (OpenSSL). Same contract as `nobleEd25519`;
 * used on the server, monitor and CLI hot paths. Node only: never import
 * this from a module the browser verifier reaches.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Ed25519 } from './ed25519.js';
import { MalformedError } from '../errors.js';

// DER prefixes of PKCS#8 and SPKI wrappers for a raw Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const keyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
  let key = keyCache.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keyCache.size >= 4096) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

// Keyed by the seed's array object (a Signer keeps one), so a key used
// again (the log's, a witness's) is imported once; nothing is retained
// after the seed array is gone.
const privateCache = new WeakMap<Uint8Array, { bytes: string; key: KeyObject }>();

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new MalformedError('Ed25519 seed: must be 32 bytes');
  const bytes = Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength).toString('latin1');
  const hit = privateCache.get(seed);
  // The content is compared too, in case a caller reuses the array for another seed.
  if (hit && hit.bytes === bytes) return hit.key;
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  privateCache.set(seed, { bytes, key });
  return key;
}

export const nodeEd25519: Ed25519 = {
  publicKey(seed) {
    const der = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(der.subarray(SPKI_PREFIX.length));
  },
  sign(seed, message) {
    return new Uint8Array(sign(null, message, privateKeyObject(seed)));
  },
  verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
};
