/**
 * Ed25519 through node:crypto (OpenSSL). Same contract as `nobleEd25519`;
 * used on the server, monitor and CLI hot paths. Node only: never import
 * this from a module the browser verifier reaches.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Ed25519 } from './ed25519.js';
import { MalformedError } from '../errors.js';

// Raw keys go in and out as JWK (RFC 8037 "OKP"), not as PKCS#8/SPKI DER:
// node:crypto imports an OKP JWK straight from its raw bytes, while DER
// goes through OpenSSL 3's generic decoder, about 10x the CPU (~450 us for
// a private key, ~100 us for a public key on Node 20; docs/performance.md).
// That cost is paid for every key seen for the first time: each new signer
// a log verifies, each seed a CLI signs with.
const b64url = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

const keyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
  let key = keyCache.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }, format: 'jwk' });
    if (keyCache.size >= 4096) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

// Keyed by the seed's array object (a Signer keeps one), so a key used
// again (the log's, a witness's) is imported once; nothing is retained
// after the seed array is gone.
interface PrivateEntry {
  bytes: string;
  key: KeyObject;
  publicKey?: Uint8Array;
}
const privateCache = new WeakMap<Uint8Array, PrivateEntry>();

function privateEntry(seed: Uint8Array): PrivateEntry {
  if (seed.length !== 32) throw new MalformedError('Ed25519 seed: must be 32 bytes');
  const bytes = Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength).toString('latin1');
  const hit = privateCache.get(seed);
  // The content is compared too, in case a caller reuses the array for another seed.
  if (hit && hit.bytes === bytes) return hit;
  // For a private OKP key node:crypto reads only `d` (the seed) and derives
  // the public half itself; `x` must be present as a string but is not used.
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: '' }, format: 'jwk' });
  const entry: PrivateEntry = { bytes, key };
  privateCache.set(seed, entry);
  return entry;
}

export const nodeEd25519: Ed25519 = {
  publicKey(seed) {
    const entry = privateEntry(seed);
    if (entry.publicKey === undefined) {
      const x = entry.key.export({ format: 'jwk' }).x;
      if (x === undefined) throw new MalformedError('Ed25519 seed: no public key derived');
      entry.publicKey = new Uint8Array(Buffer.from(x, 'base64url'));
    }
    return entry.publicKey.slice(); // a copy: the caller may keep or change it
  },
  sign(seed, message) {
    return new Uint8Array(sign(null, message, privateEntry(seed).key));
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
