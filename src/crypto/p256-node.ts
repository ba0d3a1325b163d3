/** ECDSA P-256 verification with node:crypto (see ./p256.ts); Node only. */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { P256 } from './p256.js';

const keys = new Map<string, KeyObject>();

export const nodeP256: P256 = {
  verify(_key, spki, message, sig) {
    try {
      const id = Buffer.from(spki).toString('base64');
      let k = keys.get(id);
      if (k === undefined) {
        k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
        if (keys.size >= 1024) keys.clear();
        keys.set(id, k);
      }
      if (sig.length === 64 && verify('sha256', message, { key: k, dsaEncoding: 'ieee-p1363' }, sig)) return true;
      return verify('sha256', message, { key: k, dsaEncoding: 'der' }, sig);
    } catch {
      return false;
    }
  },
};
