/**
 * Entry kind `dsse` (docs/formats.md, "Kind dsse"): an in-toto attestation
 * (Statement v1 or v0.1) in a DSSE envelope, with the public keys (PEM/SPKI,
 * Ed25519 or ECDSA P-256) whose signatures the log checked. The rules are
 * those of src/sig/attestation.ts; this file only maps them onto the
 * version-2 body.
 *
 * The envelope is stored whole but decoded, not as its JSON text: the
 * payloadType, the payload bytes exactly as signed, every signature and its
 * keyid hint. Two reasons. The JSON of one envelope has many spellings
 * (white space, member order), the decoded form has one, so an entry still
 * has one encoding. And an entry bundle (c2sp.org/tlog-tiles) gives each
 * entry a 16-bit length: the JSON of a 64 KiB envelope would not fit, its
 * decoded content (at most 3/4 of it) does.
 *
 * Body: 1 payloadType (text, must be application/vnd.in-toto+json),
 * 2 payload (bytes), 3 signatures (list of bytes, in envelope order),
 * 4 keys (list of SPKI DER, strictly ascending bytewise, so one set of keys
 * has one encoding), 5 keyids (optional list of UTF-8 bytes, one per
 * signature, present only when a signature has a non-empty keyid).
 *
 * The entry's digest must be the sha256 of one of the Statement's
 * subjects; the other subjects are looked up through the log's subject
 * index (src/log/storage.ts), not through this entry's fields.
 */
import { sha256 } from '../../../merkle/hash.js';
import { nobleP256 } from '../../crypto/p256.js';
import { b64encode, bytesEqual, fromUtf8, hexEncode, utf8 } from '../../encoding.js';
import { InvalidError } from '../../errors.js';
import { MAX_ENVELOPE_BYTES, MAX_SIGNATURES, MAX_KEYID_LENGTH, parseEnvelope, verifyEnvelope, type DsseEnvelope } from '../../sig/dsse.js';
import { statementOf, type Statement } from '../../sig/intoto.js';
import { parsePemPublicKey, parseSpki, type SpkiKey } from '../../sig/spki.js';
import type { EntryKind, EntryV2 } from '../kind.js';

/** The most payload bytes an envelope of MAX_ENVELOPE_BYTES can carry (base64 is 4 characters for 3 bytes). */
export const MAX_DSSE_PAYLOAD = (MAX_ENVELOPE_BYTES / 4) * 3;
/** Largest encoded dsse entry: the most an entry bundle's 16-bit length can say. */
export const MAX_DSSE_ENTRY = 65535;
/** Most keys one entry names. */
export const MAX_DSSE_KEYS = 16;

function envelopeOf(e: EntryV2): DsseEnvelope {
  const sigs = e.body.signatures as readonly Uint8Array[];
  const keyids = e.body.keyids as readonly Uint8Array[] | undefined;
  return {
    payloadType: e.body.payloadType as string,
    payload: e.body.payload as Uint8Array,
    signatures: sigs.map((sig, i) => {
      const id = keyids === undefined ? '' : fromUtf8(keyids[i]!, `entry.body.keyids[${i}]`);
      return { keyid: id === '' ? undefined : id, sig };
    }),
  };
}

function keysOf(e: EntryV2): SpkiKey[] {
  return (e.body.keys as readonly Uint8Array[]).map((k, i) => parseSpki(k, `entry.body.keys[${i}]`));
}

/** The in-toto Statement an entry of kind dsse carries (already checked when the entry was decoded). */
export function dsseStatement(e: EntryV2): Statement {
  return statementOf(envelopeOf(e));
}

export const dsseKind: EntryKind = {
  id: 'dsse',
  title: 'an in-toto attestation in a DSSE envelope, signed over PAE(payloadType, payload) by Ed25519 or ECDSA P-256 keys',
  maxEntrySize: MAX_DSSE_ENTRY,
  fields: [
    { key: 1, name: 'payloadType', type: 'text', min: 1, max: 256 },
    { key: 2, name: 'payload', type: 'bytes', min: 1, max: MAX_DSSE_PAYLOAD },
    { key: 3, name: 'signatures', type: 'bytes-list', min: 1, max: MAX_SIGNATURES, itemMin: 1, itemMax: 1024 },
    { key: 4, name: 'keys', type: 'bytes-list', min: 1, max: MAX_DSSE_KEYS, itemMin: 1, itemMax: 1024 },
    { key: 5, name: 'keyids', type: 'bytes-list', min: 1, max: MAX_SIGNATURES, itemMin: 0, itemMax: MAX_KEYID_LENGTH, optional: true },
  ],
  check(e) {
    const sigs = e.body.signatures as readonly Uint8Array[];
    const keyids = e.body.keyids as readonly Uint8Array[] | undefined;
    if (keyids !== undefined) {
      if (keyids.length !== sigs.length) {
        throw new InvalidError(`entry.body.keyids: ${keyids.length} keyids for ${sigs.length} signatures (one per signature)`);
      }
      if (keyids.every((k) => k.length === 0)) throw new InvalidError('entry.body.keyids: present but every keyid is empty (leave the field out)', 'non-canonical');
    }
    const keys = e.body.keys as readonly Uint8Array[];
    keysOf(e);
    for (let i = 1; i < keys.length; i++) {
      if (compareBytes(keys[i - 1]!, keys[i]!) >= 0) {
        throw new InvalidError(`entry.body.keys: keys must be distinct and in ascending byte order (keys[${i - 1}] and keys[${i}] are not)`, 'non-canonical');
      }
    }
    const statement = statementOf(envelopeOf(e));
    if (!statement.subjects.some((s) => s.sha256 !== undefined && bytesEqual(s.sha256, e.digest))) {
      const listed = statement.subjects.filter((s) => s.sha256 !== undefined).slice(0, 4).map((s) => hexEncode(s.sha256!)).join(', ');
      throw new InvalidError(`entry.digest: ${hexEncode(e.digest)} is not the sha256 of any subject of the attestation (subjects: ${listed})`);
    }
  },
  verify(e, crypto) {
    try {
      verifyEnvelope(envelopeOf(e), keysOf(e), { ed25519: crypto.ed, p256: crypto.p256 ?? nobleP256 });
    } catch (err) {
      if (err instanceof InvalidError && err.code === 'invalid') throw new InvalidError(err.message, 'bad-signature');
      throw err;
    }
  },
  subjects(e) {
    return statementOf(envelopeOf(e)).subjects.filter((s) => s.sha256 !== undefined).map((s) => ({ name: s.name, digest: s.sha256! }));
  },
  signers(e) {
    return keysOf(e).map((k) => ({ algorithm: k.algorithm, format: 'pem' as const, fingerprint: k.fingerprint, keyHash: sha256(k.spki), key: k.key }));
  },
};

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export interface AttestationEntryOptions {
  /** The entry's name; by default the name of the subject chosen. */
  readonly name?: string;
  /** The subject whose sha256 becomes the entry's digest (its name or hex digest); by default the first with a sha256. */
  readonly subject?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * The version-2 entry for a DSSE envelope (its JSON bytes) and the PEM
 * public keys that signed it. Checks the envelope's rules but not its
 * signatures (the log does, and `verifyAnyEntry`). Throws typed errors.
 */
export function attestationEntry(envelopeJson: Uint8Array, keys: readonly (string | SpkiKey)[], opts: AttestationEntryOptions = {}): EntryV2 {
  const envelope = parseEnvelope(envelopeJson);
  const statement = statementOf(envelope);
  const candidates = statement.subjects.filter((s) => s.sha256 !== undefined);
  const wanted = opts.subject;
  const subject = wanted === undefined ? candidates[0]! : candidates.find((s) => s.name === wanted || hexEncode(s.sha256!) === wanted.toLowerCase());
  if (subject === undefined) {
    throw new InvalidError(`subject ${JSON.stringify(opts.subject)}: no subject with a sha256 digest has this name or digest (subjects: ${candidates.map((s) => JSON.stringify(s.name)).join(', ')})`);
  }
  const parsed = keys.map((k, i) => (typeof k === 'string' ? parsePemPublicKey(k, keys.length === 1 ? 'public key' : `public key ${i + 1}`) : k));
  const spkis = dedupe(parsed.map((k) => k.spki)).sort(compareBytes);
  const name = opts.name ?? subject.name;
  if (name === '') throw new InvalidError('entry.name: the subject has no name; give one (--name)');
  const body: Record<string, string | Uint8Array | Uint8Array[]> = {
    payloadType: envelope.payloadType,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => s.sig),
    keys: spkis,
  };
  if (envelope.signatures.some((s) => s.keyid !== undefined && s.keyid !== '')) body.keyids = envelope.signatures.map((s) => utf8(s.keyid ?? ''));
  return { version: 2, kind: 'dsse', name, digest: subject.sha256!, body, ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }) };
}

function dedupe(list: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const k of list) if (!out.some((o) => bytesEqual(o, k))) out.push(k);
  return out;
}

/** The DSSE envelope of an entry of kind dsse, as JSON text (keyids restored; member order payloadType, payload, signatures). */
export function dsseEnvelopeJson(e: EntryV2): string {
  const env = envelopeOf(e);
  return JSON.stringify({
    payloadType: env.payloadType,
    payload: b64encode(env.payload),
    signatures: env.signatures.map((s) => (s.keyid === undefined ? { sig: b64encode(s.sig) } : { keyid: s.keyid, sig: b64encode(s.sig) })),
  });
}
