/**
 * ECDSA P-256 with SHA-256 (FIPS 186-5, SEC 1) verification behind one
 * small interface, like ./ed25519.ts: `nobleP256` is pure JavaScript
 * (@noble/curves), the browser path; `nodeP256` (./p256-node.ts) uses
 * node:crypto, about 30x faster on Node (npm run bench -- dsse).
 *
 * Signatures are DER or raw r||s (64 bytes). High-S signatures are valid:
 * OpenSSL, Go and cosign do not normalise S.
 */
import { p256 } from '@noble/curves/nist.js';

export interface P256 {
  /**
   * True when `sig` is a valid ECDSA signature of SHA-256(`message`) under
   * the SEC 1 point `key`, whose SubjectPublicKeyInfo is `spki`. Never throws.
   */
  verify(key: Uint8Array, spki: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean;
}

export const nobleP256: P256 = {
  verify(key, _spki, message, sig) {
    for (const format of sig.length === 64 ? (['compact', 'der'] as const) : (['der'] as const)) {
      try {
        if (p256.verify(sig, message, key, { prehash: true, lowS: false, format })) return true;
      } catch {
        // not this format
      }
    }
    return false;
  },
};
