/**
 * A generic description of a decoded entry for display: one row per field
 * the decoder returned, in its order, so that an entry kind added to
 * src/entry/ shows up on the pages without a change here. Byte strings are
 * shown as lowercase hex (digests) or base64 (keys, signatures), nested
 * records (annotations, attestation subjects) as their own rows, and the
 * signer's fingerprint is derived from the key. Pure and browser-safe.
 */
import { sha256 } from '../../merkle/index.js';
import { b64encode, hexEncode } from '../encoding.js';
import type { Entry } from '../entry/index.js';

export interface EntryRow {
  /** The field's path, e.g. "name", "annotations.commit". */
  readonly field: string;
  readonly value: string;
}

export interface EntryDescription {
  /** The entry kind, "ed25519" for a v1 entry that names none. */
  readonly kind: string;
  readonly name: string;
  /** Lowercase hex SHA-256 of the signer's public key (docs/formats.md §4), the key hash the log indexes. */
  readonly fingerprint: string;
  readonly rows: readonly EntryRow[];
}

// Byte fields shown in hex: digests. Everything else that is bytes is base64.
const HEX_FIELDS = /digest|hash/i;

export function describeEntry(entry: Entry): EntryDescription {
  const rows: EntryRow[] = [];
  const record = entry as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(record)) flatten(field, value, rows);
  const kind = typeof record['kind'] === 'string' ? (record['kind'] as string) : 'ed25519';
  return { kind, name: entry.name, fingerprint: hexEncode(sha256(entry.key)), rows };
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
