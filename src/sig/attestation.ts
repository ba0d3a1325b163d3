/**
 * One submitted attestation, checked the way the log checks it: the keys
 * parse (Ed25519 or ECDSA P-256, PEM/SPKI), the envelope parses within its
 * limits (./dsse.ts), every submitted key made at least one of its
 * signatures over PAE(payloadType, payload), and the payload is an in-toto
 * Statement with a SHA-256 subject (./intoto.ts). The first rule broken
 * throws its typed error; nothing partial is returned.
 */
import { parseEnvelope, verifyEnvelope, type DsseEnvelope, type KeyMatch, type SignatureBackends } from './dsse.js';
import { statementOf, type Statement } from './intoto.js';
import { parsePemPublicKey, type SpkiKey } from './spki.js';

export interface CheckedAttestation {
  readonly envelope: DsseEnvelope;
  readonly statement: Statement;
  readonly matches: readonly KeyMatch[];
}

export function checkAttestation(envelopeBytes: Uint8Array, keys: readonly (string | SpkiKey)[], backends: SignatureBackends): CheckedAttestation {
  const parsed = keys.map((k, i) => (typeof k === 'string' ? parsePemPublicKey(k, keys.length === 1 ? 'public key' : `public key ${i + 1}`) : k));
  const envelope = parseEnvelope(envelopeBytes);
  const matches = verifyEnvelope(envelope, parsed, backends);
  return { envelope, statement: statementOf(envelope), matches };
}
