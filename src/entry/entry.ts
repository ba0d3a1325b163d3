/**
 * Vitrine entries, version 1 (docs/formats.md §4): the leaf format of the log. An
 * entry records one Ed25519 signature by one signer over one artifact, as a
 * CBOR map (RFC 8949) in core deterministic encoding (§4.2.1) with integer
 * keys 1 version, 2 name, 3 digest, 4 key, 5 sig, 6 annotations.
 *
 * `encodeEntry` is the only way bytes are made and `decodeEntry` the only way
 * they are read. Decoding is strict: the bytes must be the one deterministic
 * encoding of a valid entry, so no two byte strings in any log describe the
 * same entry. Signature checks live in ./message.ts, the JSON form in
 * ./json.ts. Pure and browser-safe (no Node-only imports).
 */
import { checkPublicKey } from '../crypto/ed25519.js';
import { InvalidError, MalformedError } from '../errors.js';
import { bytesEqual, hexEncode } from '../encoding.js';
import { leafHash, sha256, type Hash } from '../../merkle/hash.js';
import { cborx, encodeCbor, encodeCborTransient, majorName, scanDeterministic } from './cbor.js';

/** The only entry version this code reads or writes (key 1). */
export const ENTRY_VERSION = 1;
/** Maximum encoded size of an entry, in bytes. */
export const MAX_ENTRY_SIZE = 8192;
/** At most this many annotation pairs (and at least one when present). */
export const MAX_ANNOTATIONS = 16;

/**
 * Annotations: text → text. A plain record rather than a Map because it is
 * what the JSON form carries, it compares structurally, and its order never
 * matters: the encoder imposes the canonical order (RFC 8949 §4.2.1) itself.
 * Decoded records hold only own data properties, created after each key has
 * passed the key rule (which excludes `__proto__`).
 */
export type Annotations = Readonly<Record<string, string>>;

/** What a signer chooses: the fields the signature covers besides the key. */
export interface EntryFields {
  /** The artifact's name: 1–255 bytes of UTF-8, no control characters, no white space at either end. */
  readonly name: string;
  /** SHA-256 of the artifact's bytes (32 bytes). */
  readonly digest: Uint8Array;
  /** Optional text → text metadata, 1–16 pairs; absent (never empty) when there is none. */
  readonly annotations?: Annotations;
}

/** The signed part of an entry: the fields and the signer's public key (keys 1–4 and 6). */
export interface UnsignedEntry extends EntryFields {
  /** The signer's Ed25519 public key (32 bytes). */
  readonly key: Uint8Array;
}

/** A Vitrine v1 entry. The version (always 1) is implied. */
export interface Entry extends UnsignedEntry {
  /** Ed25519 signature (64 bytes) over `entrySignedMessage` (see ./message.ts). */
  readonly sig: Uint8Array;
}

const KEY = { version: 1, name: 2, digest: 3, key: 4, sig: 5, annotations: 6 } as const;
const KEY_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(KEY).map(([name, k]) => [k, name]));
const REQUIRED = [KEY.version, KEY.name, KEY.digest, KEY.key, KEY.sig] as const;

// C0, DEL and C1 (docs/formats.md §4), and lone UTF-16 surrogates, which have no
// UTF-8 encoding (cbor-x would silently write CESU-8 or U+FFFD for them).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// "White space" read as the Unicode White_Space property, the same test
// docs/formats.md §2 uses for key names.
const EDGE_WHITE_SPACE = /^\p{White_Space}|\p{White_Space}$/u;
const ANNOTATION_KEY = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** UTF-8 length of a string without lone surrogates. */
function utf8Length(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Throws unless `value` is a string of `min`..`max` UTF-8 bytes without control characters. */
export function checkText(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string') throw new InvalidError(`${field}: must be a text string, got ${describe(value)}`);
  // UTF-8 never takes fewer bytes than UTF-16 code units: refuse huge
  // strings before scanning them.
  if (value.length > max) throw new InvalidError(`${field}: must be ${min}–${max} bytes of UTF-8, got more than ${max}`);
  if (LONE_SURROGATE.test(value)) throw new InvalidError(`${field}: contains a lone UTF-16 surrogate (not encodable as UTF-8)`);
  const length = utf8Length(value);
  if (length < min || length > max) throw new InvalidError(`${field}: must be ${min}–${max} bytes of UTF-8, got ${length}`);
  const control = CONTROL.exec(value);
  if (control) {
    const cp = control[0].charCodeAt(0).toString(16).padStart(4, '0');
    throw new InvalidError(`${field}: contains control character U+${cp} at index ${control.index} (C0, DEL and C1 are not allowed)`);
  }
  return value;
}

/** @internal Shared with entry version 2 (./v2.ts). */
export function checkName(value: unknown, field = 'entry.name'): string {
  const name = checkText(value, field, 1, 255);
  if (EDGE_WHITE_SPACE.test(name)) throw new InvalidError(`${field}: must not start or end with white space`);
  return name;
}

function checkBytes(value: unknown, field: string, length: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidError(`${field}: must be a byte string of ${length} bytes, got ${describe(value)}`);
  if (value.length !== length) throw new InvalidError(`${field}: must be ${length} bytes, got ${value.length}`);
  return value;
}

/** Validates one annotation pair; `field` names the annotations map. @internal Shared with ./v2.ts. */
export function checkAnnotation(key: unknown, value: unknown, field: string): void {
  if (typeof key !== 'string') throw new InvalidError(`${field}: keys must be text strings, got ${describe(key)}`);
  if (!ANNOTATION_KEY.test(key)) {
    throw new InvalidError(`${field}: key ${JSON.stringify(key.slice(0, 80))} does not match ^[a-z0-9][a-z0-9._-]{0,63}$`);
  }
  checkText(value, `${field}[${JSON.stringify(key)}]`, 0, 255);
}

/** @internal Shared with ./v2.ts. */
export function checkAnnotationCount(count: number, field: string): void {
  if (count === 0) throw new InvalidError(`${field}: must be absent rather than empty`);
  if (count > MAX_ANNOTATIONS) throw new InvalidError(`${field}: at most ${MAX_ANNOTATIONS} pairs, got ${count}`);
}

/**
 * Validates every field rule of docs/formats.md §4 on a JavaScript value. Used by
 * the encoder (so it never emits an invalid entry) and by the JSON reader.
 * @internal
 */
export function _checkFields(entry: UnsignedEntry & { sig?: Uint8Array }, withSig: boolean): void {
  if (typeof entry !== 'object' || entry === null) throw new InvalidError('entry: must be an object');
  checkName(entry.name);
  checkBytes(entry.digest, 'entry.digest', 32);
  checkBytes(entry.key, 'entry.key', 32);
  checkPublicKey(entry.key, 'entry.key');
  if (withSig) checkBytes(entry.sig, 'entry.sig', 64);
  const annotations = entry.annotations;
  if (annotations !== undefined) {
    if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations) || annotations instanceof Map) {
      throw new InvalidError(`entry.annotations: must be a record of text → text, got ${describe(annotations)}`);
    }
    const keys = Object.keys(annotations);
    checkAnnotationCount(keys.length, 'entry.annotations');
    for (const k of keys) checkAnnotation(k, annotations[k], 'entry.annotations');
  }
}

/**
 * Sort order of annotation keys: by their encoded CBOR bytes (RFC 8949
 * §4.2.1). Keys are ASCII of at most 64 bytes, so the encoded form is one
 * head byte growing with the length (0x60+n, or 0x78 n) followed by the
 * bytes: ordering by length, then by code unit, is the same order.
 */
export function compareKeys(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the CBOR map in canonical key order (cbor-x keeps insertion order). Fields must be valid. */
function toCborMap(entry: UnsignedEntry & { sig?: Uint8Array }, withSig: boolean): Map<number, unknown> {
  const map = new Map<number, unknown>();
  map.set(KEY.version, ENTRY_VERSION);
  map.set(KEY.name, entry.name);
  map.set(KEY.digest, entry.digest);
  map.set(KEY.key, entry.key);
  if (withSig) map.set(KEY.sig, entry.sig);
  if (entry.annotations !== undefined) {
    const annotations = new Map<string, string>();
    for (const k of Object.keys(entry.annotations).sort(compareKeys)) annotations.set(k, entry.annotations[k]!);
    map.set(KEY.annotations, annotations);
  }
  return map;
}

/**
 * The deterministic CBOR map of `entry` with or without key 5; validates the
 * fields first.
 * @internal
 */
export function _encodeMap(entry: UnsignedEntry & { sig?: Uint8Array }, withSig: boolean): Uint8Array {
  _checkFields(entry, withSig);
  return encodeCbor(toCborMap(entry, withSig));
}

/**
 * Encodes `entry` as its canonical leaf bytes (docs/formats.md §4). Throws
 * InvalidError naming the field if any rule does not hold, so this never
 * produces bytes that `decodeEntry` would refuse.
 */
export function encodeEntry(entry: Entry): Uint8Array {
  const bytes = _encodeMap(entry, true);
  // Unreachable with the current limits (the largest valid entry is under
  // 6 KiB), kept so that a future rule change cannot silently break it.
  if (bytes.length > MAX_ENTRY_SIZE) throw new InvalidError(`entry: encodes to ${bytes.length} bytes, more than ${MAX_ENTRY_SIZE}`);
  return bytes;
}

/**
 * Decodes canonical entry bytes, enforcing every rule of docs/formats.md §4 except
 * the signature (see `parseAndVerifyEntry`). Throws MalformedError when the
 * bytes are not CBOR (empty, truncated, reserved values), InvalidError when
 * they are CBOR but not the deterministic encoding of a valid entry (code
 * `non-canonical` for encoding faults, `invalid` for field rules). The
 * returned entry owns copies of its byte fields.
 */
export function decodeEntry(bytes: Uint8Array): Entry {
  if (!(bytes instanceof Uint8Array)) throw new MalformedError(`entry: must be bytes, got ${describe(bytes)}`);
  if (bytes.length === 0) throw new MalformedError('entry: empty input');
  if (bytes.length > MAX_ENTRY_SIZE) throw new InvalidError(`entry: ${bytes.length} bytes, more than the maximum of ${MAX_ENTRY_SIZE}`);
  // Depth 2 is all an entry needs (the map and its annotations); one level
  // more lets misplaced containers reach the field checks and their
  // clearer messages, while nesting bombs stop here.
  const major = scanDeterministic(bytes, { label: 'entry', maxDepth: 3, keyNames: KEY_NAMES });
  if (major !== 5) throw new InvalidError(`entry: must be a CBOR map, found a CBOR ${majorName(major)}`);

  let decoded: unknown;
  try {
    decoded = cborx.decode(bytes);
  } catch (err) {
    // The scanner admits only plain, well-formed items; reaching this is a bug
    // in one of the two, reported as malformed input rather than a crash.
    throw new MalformedError(`entry: CBOR decoder failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(decoded instanceof Map)) throw new InvalidError('entry: must be a CBOR map');

  for (const k of decoded.keys()) {
    if (typeof k !== 'number' || !KEY_NAMES.has(k)) {
      throw new InvalidError(`entry: unknown key ${typeof k === 'string' ? JSON.stringify(k) : String(k)} (allowed: 1–6)`);
    }
  }
  for (const k of REQUIRED) {
    if (!decoded.has(k)) throw new InvalidError(`entry.${KEY_NAMES.get(k)}: missing (key ${k})`);
  }
  const version: unknown = decoded.get(KEY.version);
  if (version !== ENTRY_VERSION) throw new InvalidError(`entry.version: must be ${ENTRY_VERSION}, got ${describe(version)}`);

  const name = checkName(decoded.get(KEY.name));
  const digest = copy(checkBytes(decoded.get(KEY.digest), 'entry.digest', 32));
  const key = copy(checkBytes(decoded.get(KEY.key), 'entry.key', 32));
  checkPublicKey(key, 'entry.key');
  const sig = copy(checkBytes(decoded.get(KEY.sig), 'entry.sig', 64));
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
  const entry: Entry = annotations === undefined ? { name, digest, key, sig } : { name, digest, key, sig, annotations };

  // Defence in depth: the scanner already enforced shortest forms, definite
  // lengths and key order, so re-encoding must give the input back. If it
  // ever does not, there is a second encoding of this entry: refuse it.
  const again = encodeCborTransient(toCborMap(entry, true));
  if (!bytesEqual(again, bytes)) throw new InvalidError('entry: not the deterministic CBOR encoding of its content', 'non-canonical');
  return entry;
}

/** An owned, plain Uint8Array copy (cbor-x hands out views of the input, Buffers in Node). */
export function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** RFC 9162 §2.1.1 leaf hash of entry bytes: SHA-256(0x00 || bytes) (docs/formats.md §4, derived identifiers). */
export function entryLeafHash(bytes: Uint8Array): Hash {
  return leafHash(bytes);
}

/** Key hash of a signer: lowercase hex of SHA-256 of the 32-byte Ed25519 public key (docs/formats.md §4). */
export function keyHash(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new MalformedError('public key: must be 32 bytes');
  return hexEncode(sha256(publicKey));
}

/** @internal A value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `a byte string of ${value.length} bytes`;
  if (value instanceof Map) return 'a map';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${String(value)}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
