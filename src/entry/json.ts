/**
 * The JSON form of a Vitrine entry (docs/formats.md §4, "JSON form"), used as API
 * input and output:
 *
 *     {"name": "...", "digest": "<hex>", "key": "<b64>", "sig": "<b64>", "annotations": {...}}
 *
 * with `annotations` omitted when absent. Reading is strict: exactly these
 * members (no unknown, missing or duplicate ones), the right JSON types,
 * lowercase hex of 32 bytes, canonical padded base64 (RFC 4648 §4) of 32 and
 * 64 bytes. Shape errors are MalformedError; the field rules shared with the
 * CBOR form (name, annotations, public key) are InvalidError, exactly as
 * `decodeEntry` reports them. The canonical bytes are `encodeEntry` of the
 * result. Pure and browser-safe.
 */
import { InvalidError, MalformedError } from '../errors.js';
import { b64decode, b64encode, fromUtf8, hexDecode, hexEncode } from '../encoding.js';
import { _checkFields, encodeEntry, type Entry } from './entry.js';
import { encodeEntryV2, entryV2FromJson } from './v2.js';

/** An entry in its JSON form. */
export interface EntryJson {
  name: string;
  /** Lowercase hex, 64 digits. */
  digest: string;
  /** Standard padded base64 of the 32-byte public key. */
  key: string;
  /** Standard padded base64 of the 64-byte signature. */
  sig: string;
  annotations?: Record<string, string>;
}

const REQUIRED = ['name', 'digest', 'key', 'sig'] as const;
const ALLOWED = new Set<string>([...REQUIRED, 'annotations']);

/** The JSON form of `entry`, members in a fixed order and annotations in canonical key order. */
export function entryToJson(entry: Entry): EntryJson {
  const json: EntryJson = { name: entry.name, digest: hexEncode(entry.digest), key: b64encode(entry.key), sig: b64encode(entry.sig) };
  if (entry.annotations !== undefined) {
    const annotations: Record<string, string> = {};
    const keys = Object.keys(entry.annotations).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    for (const k of keys) annotations[k] = entry.annotations[k]!;
    json.annotations = annotations;
  }
  return json;
}

/**
 * Reads an already-parsed JSON value (for example an Express body) as an
 * entry. It cannot see duplicate members, which JSON.parse has already
 * collapsed: prefer `parseEntryJson` on the raw text.
 */
export function entryFromJson(value: unknown): Entry {
  if (!isRecord(value)) throw new MalformedError(`entry JSON: must be an object, got ${jsonType(value)}`);
  for (const k of Object.keys(value)) {
    if (!ALLOWED.has(k)) throw new MalformedError(`entry JSON: unknown member ${JSON.stringify(k.slice(0, 80))}`);
  }
  for (const k of REQUIRED) {
    if (!Object.hasOwn(value, k)) throw new MalformedError(`entry JSON: missing member "${k}"`);
    if (typeof value[k] !== 'string') throw new MalformedError(`entry JSON.${k}: must be a string, got ${jsonType(value[k])}`);
  }
  const name = value.name as string;
  const digest = hexDecode(value.digest as string, 'entry JSON.digest', 32);
  const key = b64decode(value.key as string, 'entry JSON.key', 32);
  const sig = b64decode(value.sig as string, 'entry JSON.sig', 64);
  let entry: Entry = { name, digest, key, sig };
  if (Object.hasOwn(value, 'annotations')) {
    const raw = value.annotations;
    if (!isRecord(raw)) throw new MalformedError(`entry JSON.annotations: must be an object, got ${jsonType(raw)}`);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') throw new MalformedError(`entry JSON.annotations[${JSON.stringify(k.slice(0, 80))}]: must be a string, got ${jsonType(v)}`);
      // Safe to assign: _checkFields below refuses any key outside
      // ^[a-z0-9][a-z0-9._-]{0,63}$, and "__proto__" here is an own data
      // property of `raw`, so assigning it would only change this object's
      // prototype, never a shared one. Checked first all the same.
      if (k === '__proto__') throw new InvalidError('entry.annotations: key "__proto__" does not match ^[a-z0-9][a-z0-9._-]{0,63}$');
      annotations[k] = v;
    }
    entry = { ...entry, annotations };
  }
  _checkFields(entry, true);
  return entry;
}

/**
 * Parses the JSON text (or its UTF-8 bytes) of an entry strictly: invalid
 * UTF-8, invalid JSON and duplicate object members are MalformedError, then
 * as `entryFromJson`.
 */
export function parseEntryJson(text: string | Uint8Array): Entry {
  const source = typeof text === 'string' ? text : text instanceof Uint8Array ? fromUtf8(text, 'entry JSON') : undefined;
  if (source === undefined) throw new MalformedError('entry JSON: must be a string or bytes');
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new MalformedError(`entry JSON: not valid JSON (${err instanceof Error ? err.message.slice(0, 120) : 'parse error'})`);
  }
  rejectDuplicateMembers(source);
  return entryFromJson(value);
}

/**
 * Reads the JSON form of an entry of either version (docs/formats.md §4):
 * an object with `"version": 2` is a version-2 entry, anything else the
 * version-1 form. Returns the canonical leaf bytes. Strict like
 * `parseEntryJson` (no duplicate members).
 */
export function parseAnyEntryJson(text: string | Uint8Array): Uint8Array {
  const source = typeof text === 'string' ? text : text instanceof Uint8Array ? fromUtf8(text, 'entry JSON') : undefined;
  if (source === undefined) throw new MalformedError('entry JSON: must be a string or bytes');
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new MalformedError(`entry JSON: not valid JSON (${err instanceof Error ? err.message.slice(0, 120) : 'parse error'})`);
  }
  rejectDuplicateMembers(source);
  if (isRecord(value) && Object.hasOwn(value, 'version')) return encodeEntryV2(entryV2FromJson(value));
  return encodeEntry(entryFromJson(value));
}

/**
 * Throws MalformedError if any object in `text` (already known to be valid
 * JSON) repeats a member name. JSON.parse keeps the last duplicate while
 * other parsers keep the first; refusing them removes the ambiguity. A
 * single iterative pass, so deep nesting costs no stack.
 */
function rejectDuplicateMembers(text: string): void {
  const objects: Array<Set<string> | null> = []; // null marks an array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const members = objects[objects.length - 1];
      if (expectKey && members) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (members.has(key)) throw new MalformedError(`entry JSON: duplicate member ${JSON.stringify(key.slice(0, 80))}`);
        members.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = objects[objects.length - 1] != null;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
