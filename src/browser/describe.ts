/**
 * A description of a decoded entry of any version and kind for display
 * (docs/formats.md §4, §16): its kind, name, the artifact's SHA-256, the
 * digest the signature covers, each signer by its one name (the SSH or
 * SPKI `SHA256:` fingerprint, the minisign key ID, the key hash of a v1
 * key), and for an in-toto attestation its predicateType, SLSA builder and
 * subjects. Then one row per field the decoder returned, in its order, so
 * that a kind added to src/entry/kinds/ shows up on the pages without a
 * change here. Byte strings are shown as lowercase hex (digests, hashes) or
 * base64 (keys, signatures); a DSSE payload, which is JSON, as its text.
 * Pure and browser-safe.
 */
import { sha256 } from '../../merkle/index.js';
import { b64encode, hexEncode } from '../encoding.js';
import { entryArtifactHash, entryKind, entrySigners, type AnyEntry, type Entry } from '../entry/index.js';
import { dsseStatement } from '../entry/kinds/dsse.js';

export interface EntryRow {
  /** The field's path, e.g. "name", "annotations.commit", "body.sig". */
  readonly field: string;
  readonly value: string;
}

export interface EntrySignerView {
  /** The key's one name (docs/formats.md, "Signer keys"). */
  readonly name: string;
  readonly algorithm: string;
  /** The key's native format: vitrine, ssh, minisign or pem. */
  readonly format: string;
}

export interface EntryDescription {
  /** The entry kind: `vitrine` for version 1 (as `entryKind` says), the kind identifier for version 2. */
  readonly kind: string;
  readonly name: string;
  /** Lowercase hex SHA-256 of the artifact, the digest lookups and verifiers match. */
  readonly digest: string;
  /** What the signature covers: the algorithm and lowercase hex value, and in words. */
  readonly signed: { readonly algorithm: string; readonly value: string; readonly what: string };
  /** The first signer's one name: the key the log indexes the entry by. */
  readonly fingerprint: string;
  readonly signers: readonly EntrySignerView[];
  /** For an in-toto attestation (kind dsse). */
  readonly attestation?: {
    readonly predicateType: string;
    readonly builderId?: string;
    readonly subjects: ReadonlyArray<{ readonly name: string; readonly digests: string }>;
  };
  readonly rows: readonly EntryRow[];
}

// Byte fields shown in hex: digests. Everything else that is bytes is base64.
const HEX_FIELDS = /digest|hash/i;

/** Describes a decoded entry; a bare version-1 `Entry` is taken as `{ version: 1, entry }`. */
export function describeEntry(input: AnyEntry | Entry): EntryDescription {
  const any: AnyEntry = 'entry' in input && 'version' in input && typeof input.entry === 'object' ? input : { version: 1, entry: input as Entry };
  const rows: EntryRow[] = [];
  const record = any.entry as unknown as Record<string, unknown>;
  const kind = any.version === 1 && typeof record['kind'] === 'string' ? (record['kind'] as string) : entryKind(any);
  for (const [field, value] of Object.entries(record)) {
    if (field === 'body' && kind === 'dsse') flattenDsseBody(value as Record<string, unknown>, rows);
    else flatten(field, value, rows);
  }
  const signers = entrySigners(any).map((s) => ({ name: s.fingerprint, algorithm: s.algorithm, format: s.format }));
  const digest = hexEncode(any.entry.digest);
  const second = entryArtifactHash(any);
  let signed: EntryDescription['signed'];
  let attestation: EntryDescription['attestation'];
  if (second !== undefined) {
    signed = { algorithm: second.algorithm, value: hexEncode(second.value), what: `the artifact's ${second.algorithm.toUpperCase()}` };
  } else if (any.version === 2 && any.entry.kind === 'dsse') {
    const st = dsseStatement(any.entry);
    signed = { algorithm: 'sha256', value: hexEncode(sha256(any.entry.body['payload'] as Uint8Array)), what: 'the in-toto Statement (DSSE PAE of its payloadType and payload); its SHA-256' };
    attestation = {
      predicateType: st.predicateType,
      ...(st.builderId === undefined ? {} : { builderId: st.builderId }),
      subjects: st.subjects.map((s) => ({ name: s.name, digests: Object.entries(s.digest).map(([alg, v]) => `${alg}:${v}`).join(' ') })),
    };
  } else {
    signed = { algorithm: 'sha256', value: digest, what: "the artifact's SHA-256" };
  }
  return {
    kind,
    name: any.entry.name,
    digest,
    signed,
    fingerprint: signers[0]?.name ?? '',
    signers,
    ...(attestation === undefined ? {} : { attestation }),
    rows,
  };
}

function flattenDsseBody(body: Record<string, unknown>, out: EntryRow[]): void {
  for (const [k, v] of Object.entries(body)) {
    if (k === 'payload' && v instanceof Uint8Array) out.push({ field: 'body.payload', value: new TextDecoder().decode(v) });
    else if (k === 'keyids' && Array.isArray(v)) v.forEach((id: Uint8Array, i) => out.push({ field: `body.keyids[${i}]`, value: new TextDecoder().decode(id) }));
    else flatten(`body.${k}`, v, out);
  }
}

function flatten(field: string, value: unknown, out: EntryRow[]): void {
  if (value === undefined) return;
  if (value instanceof Uint8Array) {
    out.push({ field, value: HEX_FIELDS.test(field) ? hexEncode(value) : b64encode(value) });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(`${field}[${i}]`, v, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) flatten(`${field}.${k}`, v, out);
  } else {
    out.push({ field, value: String(value) });
  }
}
