/**
 * DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse
 * v1.0.x: envelope.md and protocol.md), in the JSON form in-toto
 * attestations use: `{"payloadType", "payload", "signatures": [{"keyid",
 * "sig"}]}`. Signatures cover the pre-authentication encoding
 * PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, with
 * lengths as ASCII decimal byte counts, never the raw payload.
 *
 * Parsing is strict and bounded, because the log stores what it accepts
 * (docs/formats.md, DSSE kind): a size limit, UTF-8 only, no duplicate or
 * unknown member names, standard padded canonical base64, a bounded number
 * of signatures. `keyid` is an unauthenticated hint (DSSE says so): it never
 * decides which key is tried.
 *
 * Verification tries every submitted key (Ed25519 or ECDSA P-256 over
 * SHA-256, DER or raw r||s) against every signature; each submitted key must
 * have made at least one signature, so a key that signed nothing is refused
 * by name instead of being logged as a signer.
 *
 * Pure JavaScript: no node: imports (the Ed25519 and P-256 backends are
 * passed in: ../crypto/*-node.ts on Node, the noble ones in browsers).
 */
import { b64decode, concatBytes, fromUtf8, utf8 } from '../encoding.js';
import { InvalidError, MalformedError, TooLargeError } from '../errors.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import type { P256 } from '../crypto/p256.js';
import { parseStrictJson } from './strict-json.js';
import type { SpkiKey } from './spki.js';

/** Largest envelope accepted, in bytes of its JSON text (64 KiB). */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** Most signatures one envelope may carry. */
export const MAX_SIGNATURES = 16;
/** Longest `keyid` hint kept. */
export const MAX_KEYID_LENGTH = 256;
/** The payloadType of in-toto Statements (in-toto attestation spec, envelope layer). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  readonly keyid: string | undefined;
  readonly sig: Uint8Array;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly DsseSignature[];
}

/** PAE(type, body) as DSSE protocol.md defines it. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concatBytes(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

/** Parses the JSON bytes of an envelope. Throws TooLargeError, MalformedError or InvalidError. */
export function parseEnvelope(bytes: Uint8Array): DsseEnvelope {
  if (bytes.length > MAX_ENVELOPE_BYTES) {
    throw new TooLargeError(`DSSE envelope: ${bytes.length} bytes, larger than the limit of ${MAX_ENVELOPE_BYTES}`);
  }
  const value = parseStrictJson(fromUtf8(bytes, 'DSSE envelope'), 'DSSE envelope');
  const obj = asObject(value, 'DSSE envelope');
  onlyMembers(obj, ['payloadType', 'payload', 'signatures'], 'DSSE envelope');
  const payloadType = asString(obj.payloadType, 'DSSE envelope payloadType');
  if (payloadType.length === 0) throw new MalformedError('DSSE envelope payloadType: must not be empty');
  const payload = b64decode(asString(obj.payload, 'DSSE envelope payload'), 'DSSE envelope payload');
  if (!Array.isArray(obj.signatures)) throw new MalformedError('DSSE envelope signatures: must be an array');
  if (obj.signatures.length === 0) throw new InvalidError('DSSE envelope signatures: the envelope carries no signature');
  if (obj.signatures.length > MAX_SIGNATURES) {
    throw new InvalidError(`DSSE envelope signatures: ${obj.signatures.length} signatures, more than the limit of ${MAX_SIGNATURES}`);
  }
  const signatures = obj.signatures.map((entry: unknown, i: number): DsseSignature => {
    const field = `DSSE envelope signatures[${i}]`;
    const s = asObject(entry, field);
    onlyMembers(s, ['keyid', 'sig'], field);
    let keyid: string | undefined;
    if (s.keyid !== undefined) {
      keyid = asString(s.keyid, `${field}.keyid`);
      if (keyid.length > MAX_KEYID_LENGTH) throw new MalformedError(`${field}.keyid: longer than ${MAX_KEYID_LENGTH} characters`);
    }
    const sig = b64decode(asString(s.sig, `${field}.sig`), `${field}.sig`);
    if (sig.length === 0) throw new MalformedError(`${field}.sig: empty signature`);
    return { keyid, sig };
  });
  return { payloadType, payload, signatures };
}

/** One submitted key and the indexes of the signatures it made. */
export interface KeyMatch {
  readonly key: SpkiKey;
  readonly signatures: readonly number[];
}

/**
 * Checks the envelope's signatures against the submitted keys. Returns, for
 * every key, the signatures it made. Throws InvalidError when no key is
 * given, or when a key made none of the signatures (named by fingerprint).
 */
export function verifyEnvelope(envelope: DsseEnvelope, keys: readonly SpkiKey[], backends: SignatureBackends): KeyMatch[] {
  if (keys.length === 0) throw new InvalidError('DSSE envelope: no public key was submitted to check its signatures');
  const pae = preAuthEncoding(envelope.payloadType, envelope.payload);
  return keys.map((key) => {
    const made: number[] = [];
    envelope.signatures.forEach((s, i) => {
      if (verifySignature(key, pae, s.sig, backends)) made.push(i);
    });
    if (made.length === 0) {
      throw new InvalidError(
        `DSSE envelope: no signature by the submitted ${key.algorithm === 'ed25519' ? 'Ed25519' : 'ECDSA P-256'} key ${key.fingerprint} ` +
          `(checked ${envelope.signatures.length} signature${envelope.signatures.length === 1 ? '' : 's'} over PAE(payloadType, payload))`,
      );
    }
    return { key, signatures: made };
  });
}

/** The signature backends: node:crypto ones on Node, noble ones in browsers. */
export interface SignatureBackends {
  readonly ed25519: Ed25519;
  readonly p256: P256;
}

/** True when `sig` is a valid signature of `message` by `key`. Never throws on bad input. */
export function verifySignature(key: SpkiKey, message: Uint8Array, sig: Uint8Array, backends: SignatureBackends): boolean {
  if (key.algorithm === 'ed25519') return backends.ed25519.verify(key.key, message, sig);
  return backends.p256.verify(key.key, key.spki, message, sig);
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedError(`${field}: must be a JSON object`);
  return value as Record<string, unknown>;
}

function asString(value: unknown, field: string): string {
  if (value === undefined) throw new MalformedError(`${field}: missing`);
  if (typeof value !== 'string') throw new MalformedError(`${field}: must be a string`);
  return value;
}

function onlyMembers(obj: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const name of Object.keys(obj)) {
    if (!allowed.includes(name)) throw new MalformedError(`${field}: unknown member "${name}"`);
  }
}

export { asObject as jsonObject, asString as jsonString };
