/**
 * Entries of version 2 (docs/formats.md §4.3): one artifact signature made
 * by a tool other than `vitrine sign` (SSH, minisign, ECDSA P-256, DSSE...),
 * stored with everything a verifier needs to re-check it offline without
 * the artifact. The leaf bytes are a CBOR map in core deterministic
 * encoding, like version 1:
 *
 *     1 version = 2, 2 kind (text), 3 name (text), 4 digest (bytes 32,
 *     SHA-256 of the artifact), 5 body (map, the kind's fields),
 *     6 annotations (optional, same rules as version 1)
 *
 * This module is the one codec for every kind: the kind (./kind.ts) only
 * declares its body fields and checks. Decoding is strict (the scanner of
 * ./cbor.ts, then field rules, then a re-encoding that must give the input
 * back), so each entry has exactly one encoding. Version 1 is untouched
 * (./entry.ts). Pure and browser-safe.
 */
import { InvalidError, MalformedError } from '../errors.js';
import { b64decode, b64encode, bytesEqual, hexDecode, hexEncode } from '../encoding.js';
import { cborx, encodeCbor, encodeCborTransient, majorName, scanDeterministic } from './cbor.js';
import { checkAnnotation, checkAnnotationCount, checkName, checkText, compareKeys, copy, describe, type Annotations } from './entry.js';
import type { Body, BodyField, BodyValue, EntryKind, EntryV2 } from './kind.js';
import { findKind, kindIds } from './kinds/index.js';

/** Key 1 of a version-2 entry. */
export const ENTRY_VERSION_2 = 2;
/**
 * Largest entry of any kind, in bytes (a kind may set a lower limit): entry
 * bundles frame each entry with a 16-bit length (docs/formats.md §4.1, §7),
 * so no larger entry could be served.
 */
export const MAX_ENTRY_V2_SIZE = 65535;

const KEY = { version: 1, kind: 2, name: 3, digest: 4, body: 5, annotations: 6 } as const;
const KEY_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(KEY).map(([name, k]) => [k, name]));
const REQUIRED = [KEY.version, KEY.kind, KEY.name, KEY.digest, KEY.body] as const;
const KIND_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The kind of `entry`, or InvalidError naming the known ones. */
export function kindOf(id: unknown): EntryKind {
  const text = checkText(id, 'entry.kind', 1, 32);
  if (!KIND_ID.test(text)) throw new InvalidError(`entry.kind: ${JSON.stringify(text)} does not match ^[a-z0-9][a-z0-9-]{0,31}$`);
  const kind = findKind(text);
  if (kind === undefined) throw new InvalidError(`entry.kind: unknown kind ${JSON.stringify(text)} (known: ${kindIds().join(', ') || 'none'})`, 'unknown-kind');
  return kind;
}

/** Checks one body value against its field declaration; returns an owned copy. */
function checkValue(field: BodyField, value: unknown): BodyValue {
  const where = `entry.body.${field.name}`;
  switch (field.type) {
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new InvalidError(`${where}: must be a byte string, got ${describe(value)}`);
      if (value.length < field.min || value.length > field.max) {
        throw new InvalidError(`${where}: must be ${range(field.min, field.max)} bytes, got ${value.length}`);
      }
      return copy(value);
    case 'text': {
      const text = checkText(value, where, field.min, field.max);
      return text;
    }
    case 'uint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new InvalidError(`${where}: must be an unsigned integer, got ${describe(value)}`);
      }
      if (value < field.min || value > field.max) throw new InvalidError(`${where}: must be ${range(field.min, field.max)}, got ${value}`);
      return value;
    case 'bytes-list': {
      if (!Array.isArray(value)) throw new InvalidError(`${where}: must be an array of byte strings, got ${describe(value)}`);
      if (value.length < field.min || value.length > field.max) {
        throw new InvalidError(`${where}: must hold ${range(field.min, field.max)} byte strings, got ${value.length}`);
      }
      const lo = field.itemMin ?? 0;
      const hi = field.itemMax ?? Number.MAX_SAFE_INTEGER;
      return value.map((item: unknown, i) => {
        if (!(item instanceof Uint8Array)) throw new InvalidError(`${where}[${i}]: must be a byte string, got ${describe(item)}`);
        if (item.length < lo || item.length > hi) throw new InvalidError(`${where}[${i}]: must be ${range(lo, hi)} bytes, got ${item.length}`);
        return copy(item);
      });
    }
  }
}

function range(min: number, max: number): string {
  return min === max ? `${min}` : `${min}–${max}`;
}

/** Validates a body given as a record (encoder and JSON reader). */
function checkBody(kind: EntryKind, body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body instanceof Map || body instanceof Uint8Array) {
    throw new InvalidError(`entry.body: must be a record of the ${kind.id} fields, got ${describe(body)}`);
  }
  const record = body as Record<string, unknown>;
  const names = new Set(kind.fields.map((f) => f.name));
  for (const k of Object.keys(record)) {
    if (!names.has(k)) throw new InvalidError(`entry.body: unknown field ${JSON.stringify(k.slice(0, 80))} for kind ${kind.id} (allowed: ${[...names].join(', ')})`);
  }
  const out: Record<string, BodyValue> = {};
  for (const f of kind.fields) {
    if (!Object.hasOwn(record, f.name) || record[f.name] === undefined) {
      if (f.optional) continue;
      throw new InvalidError(`entry.body.${f.name}: missing (required by kind ${kind.id})`);
    }
    out[f.name] = checkValue(f, record[f.name]);
  }
  return out;
}

function checkAnnotationsRecord(annotations: unknown): Annotations | undefined {
  if (annotations === undefined) return undefined;
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations) || annotations instanceof Map) {
    throw new InvalidError(`entry.annotations: must be a record of text → text, got ${describe(annotations)}`);
  }
  const keys = Object.keys(annotations);
  checkAnnotationCount(keys.length, 'entry.annotations');
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = (annotations as Record<string, unknown>)[k];
    checkAnnotation(k, v, 'entry.annotations');
    out[k] = v as string;
  }
  return out;
}

/** Checks every rule of a version-2 entry given as a JavaScript value; returns an owned, normalised copy. */
export function checkEntryV2(entry: EntryV2): EntryV2 {
  if (typeof entry !== 'object' || entry === null) throw new InvalidError('entry: must be an object');
  if (entry.version !== ENTRY_VERSION_2) throw new InvalidError(`entry.version: must be ${ENTRY_VERSION_2}, got ${describe(entry.version)}`);
  const kind = kindOf(entry.kind);
  const name = checkName(entry.name);
  if (!(entry.digest instanceof Uint8Array) || entry.digest.length !== 32) {
    throw new InvalidError(`entry.digest: must be a byte string of 32 bytes (SHA-256 of the artifact), got ${describe(entry.digest)}`);
  }
  const body = checkBody(kind, entry.body);
  const annotations = checkAnnotationsRecord(entry.annotations);
  const out: EntryV2 = annotations === undefined
    ? { version: 2, kind: kind.id, name, digest: copy(entry.digest), body }
    : { version: 2, kind: kind.id, name, digest: copy(entry.digest), body, annotations };
  kind.check(out);
  return out;
}

function toCborMap(kind: EntryKind, entry: EntryV2): Map<number, unknown> {
  const map = new Map<number, unknown>();
  map.set(KEY.version, ENTRY_VERSION_2);
  map.set(KEY.kind, entry.kind);
  map.set(KEY.name, entry.name);
  map.set(KEY.digest, entry.digest);
  const body = new Map<number, unknown>();
  // Field keys are 1..23 (one byte each), so ascending numbers are canonical order.
  for (const f of [...kind.fields].sort((a, b) => a.key - b.key)) {
    const v = entry.body[f.name];
    if (v !== undefined) body.set(f.key, v);
  }
  map.set(KEY.body, body);
  if (entry.annotations !== undefined) {
    const annotations = new Map<string, string>();
    for (const k of Object.keys(entry.annotations).sort(compareKeys)) annotations.set(k, entry.annotations[k]!);
    map.set(KEY.annotations, annotations);
  }
  return map;
}

/** The canonical leaf bytes of a version-2 entry. Throws InvalidError naming the field that breaks a rule. */
export function encodeEntryV2(entry: EntryV2): Uint8Array {
  const e = checkEntryV2(entry);
  const kind = kindOf(e.kind);
  const bytes = encodeCbor(toCborMap(kind, e));
  const max = Math.min(kind.maxEntrySize, MAX_ENTRY_V2_SIZE);
  if (bytes.length > max) throw new InvalidError(`entry: a ${kind.id} entry encodes to ${bytes.length} bytes, more than the limit of ${max}`, 'too-large');
  return bytes;
}

/**
 * True when `bytes` start like a version-2 entry (a map whose first pair is
 * 1 → 2), so callers can route them to `decodeEntryV2` and everything else
 * to the version-1 decoder and its messages.
 */
export function isEntryV2(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0]! >= 0xa5 && bytes[0]! <= 0xa6 && bytes[1] === 0x01 && bytes[2] === 0x02;
}

/**
 * Strictly decodes version-2 leaf bytes: MalformedError for bytes that are
 * not CBOR, InvalidError (code `non-canonical` for encoding faults) for
 * anything that is not the one deterministic encoding of a valid entry of a
 * known kind. Does not verify signatures (`verifyEntryV2`).
 */
export function decodeEntryV2(bytes: Uint8Array): EntryV2 {
  if (!(bytes instanceof Uint8Array)) throw new MalformedError(`entry: must be bytes, got ${describe(bytes)}`);
  if (bytes.length === 0) throw new MalformedError('entry: empty input');
  if (bytes.length > MAX_ENTRY_V2_SIZE) throw new InvalidError(`entry: ${bytes.length} bytes, more than the maximum of ${MAX_ENTRY_V2_SIZE}`, 'too-large');
  // entry map → body map → a list of byte strings is 3 levels; one more
  // lets misplaced containers reach the field checks and their messages.
  const major = scanDeterministic(bytes, { label: 'entry', maxDepth: 4, keyNames: KEY_NAMES });
  if (major !== 5) throw new InvalidError(`entry: must be a CBOR map, found a CBOR ${majorName(major)}`);
  let decoded: unknown;
  try {
    decoded = cborx.decode(bytes);
  } catch (err) {
    throw new MalformedError(`entry: CBOR decoder failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(decoded instanceof Map)) throw new InvalidError('entry: must be a CBOR map');
  for (const k of decoded.keys()) {
    if (typeof k !== 'number' || !KEY_NAMES.has(k)) {
      throw new InvalidError(`entry: unknown key ${typeof k === 'string' ? JSON.stringify(k) : String(k)} (allowed in version 2: 1–6)`);
    }
  }
  for (const k of REQUIRED) {
    if (!decoded.has(k)) throw new InvalidError(`entry.${KEY_NAMES.get(k)}: missing (key ${k})`);
  }
  const version: unknown = decoded.get(KEY.version);
  if (version !== ENTRY_VERSION_2) throw new InvalidError(`entry.version: must be ${ENTRY_VERSION_2}, got ${describe(version)}`);
  const kind = kindOf(decoded.get(KEY.kind));
  const rawBody: unknown = decoded.get(KEY.body);
  if (!(rawBody instanceof Map)) throw new InvalidError(`entry.body: must be a map of the ${kind.id} fields, got ${describe(rawBody)}`);
  const byKey = new Map(kind.fields.map((f) => [f.key, f]));
  const body: Record<string, unknown> = {};
  for (const [k, v] of rawBody as Map<unknown, unknown>) {
    const f = typeof k === 'number' ? byKey.get(k) : undefined;
    if (f === undefined) {
      throw new InvalidError(`entry.body: unknown key ${typeof k === 'string' ? JSON.stringify(k) : String(k)} for kind ${kind.id} (allowed: ${[...byKey.keys()].join(', ')})`);
    }
    body[f.name] = v;
  }
  let annotations: Record<string, string> | undefined;
  if (decoded.has(KEY.annotations)) {
    const raw: unknown = decoded.get(KEY.annotations);
    if (!(raw instanceof Map)) throw new InvalidError(`entry.annotations: must be a map of text → text, got ${describe(raw)}`);
    checkAnnotationCount(raw.size, 'entry.annotations');
    annotations = {};
    for (const [k, v] of raw as Map<unknown, unknown>) {
      checkAnnotation(k, v, 'entry.annotations');
      annotations[k as string] = v as string;
    }
  }
  const entry = checkEntryV2({
    version: 2,
    kind: kind.id,
    name: decoded.get(KEY.name) as string,
    digest: decoded.get(KEY.digest) as Uint8Array,
    body: body as Body,
    ...(annotations === undefined ? {} : { annotations }),
  });
  const max = Math.min(kind.maxEntrySize, MAX_ENTRY_V2_SIZE);
  if (bytes.length > max) throw new InvalidError(`entry: a ${kind.id} entry of ${bytes.length} bytes, more than the limit of ${max}`, 'too-large');
  // The scanner enforced the encoding rules; re-encoding must give the input
  // back, or there would be a second encoding of this entry.
  const again = encodeCborTransient(toCborMap(kind, entry));
  if (!bytesEqual(again, bytes)) throw new InvalidError('entry: not the deterministic CBOR encoding of its content', 'non-canonical');
  return entry;
}

/** JSON form of a version-2 entry (docs/formats.md §4.3): bytes as padded base64, the digest as hex. */
export interface EntryV2Json {
  version: 2;
  kind: string;
  name: string;
  digest: string;
  body: Record<string, string | number | string[]>;
  annotations?: Record<string, string>;
}

export function entryV2ToJson(entry: EntryV2): EntryV2Json {
  const kind = kindOf(entry.kind);
  const body: Record<string, string | number | string[]> = {};
  for (const f of kind.fields) {
    const v = entry.body[f.name];
    if (v === undefined) continue;
    if (v instanceof Uint8Array) body[f.name] = b64encode(v);
    else if (Array.isArray(v)) body[f.name] = (v as Uint8Array[]).map(b64encode);
    else body[f.name] = v as string | number;
  }
  const json: EntryV2Json = { version: 2, kind: entry.kind, name: entry.name, digest: hexEncode(entry.digest), body };
  if (entry.annotations !== undefined) {
    const annotations: Record<string, string> = {};
    for (const k of Object.keys(entry.annotations).sort(compareKeys)) annotations[k] = entry.annotations[k]!;
    json.annotations = annotations;
  }
  return json;
}

const JSON_MEMBERS = new Set(['version', 'kind', 'name', 'digest', 'body', 'annotations']);

/** Reads the JSON form (an already parsed value). Shape errors are MalformedError, rule breaks InvalidError. */
export function entryV2FromJson(value: unknown): EntryV2 {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedError(`entry JSON: must be an object, got ${describe(value)}`);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!JSON_MEMBERS.has(k)) throw new MalformedError(`entry JSON: unknown member ${JSON.stringify(k.slice(0, 80))}`);
  for (const k of ['version', 'kind', 'name', 'digest', 'body']) if (!Object.hasOwn(v, k)) throw new MalformedError(`entry JSON: missing member "${k}"`);
  if (v.version !== 2) throw new InvalidError(`entry JSON.version: must be 2, got ${describe(v.version)}`);
  const kind = kindOf(v.kind);
  if (typeof v.digest !== 'string') throw new MalformedError(`entry JSON.digest: must be a string, got ${describe(v.digest)}`);
  const digest = hexDecode(v.digest, 'entry JSON.digest', 32);
  const rawBody = v.body;
  if (typeof rawBody !== 'object' || rawBody === null || Array.isArray(rawBody)) throw new MalformedError(`entry JSON.body: must be an object, got ${describe(rawBody)}`);
  const body: Record<string, unknown> = {};
  const fields = new Map(kind.fields.map((f) => [f.name, f]));
  for (const [k, x] of Object.entries(rawBody as Record<string, unknown>)) {
    const f = fields.get(k);
    if (f === undefined) throw new InvalidError(`entry JSON.body: unknown member ${JSON.stringify(k.slice(0, 80))} for kind ${kind.id}`);
    const where = `entry JSON.body.${k}`;
    if (f.type === 'bytes') {
      if (typeof x !== 'string') throw new MalformedError(`${where}: must be a base64 string, got ${describe(x)}`);
      body[k] = b64decode(x, where);
    } else if (f.type === 'bytes-list') {
      if (!Array.isArray(x) || x.some((s) => typeof s !== 'string')) throw new MalformedError(`${where}: must be an array of base64 strings`);
      body[k] = (x as string[]).map((s, i) => b64decode(s, `${where}[${i}]`));
    } else if (f.type === 'text') {
      if (typeof x !== 'string') throw new MalformedError(`${where}: must be a string, got ${describe(x)}`);
      body[k] = x;
    } else {
      if (typeof x !== 'number') throw new MalformedError(`${where}: must be a number, got ${describe(x)}`);
      body[k] = x;
    }
  }
  return checkEntryV2({
    version: 2,
    kind: kind.id,
    name: v.name as string,
    digest,
    body: body as Body,
    ...(v.annotations === undefined ? {} : { annotations: v.annotations as Annotations }),
  });
}

export { type EntryV2 } from './kind.js';
