/**
 * Signed notes, c2sp.org/signed-note (docs/formats.md §2): a text of one or more
 * lines each ending in `\n`, a blank line, then signature lines
 * `— <key name> <b64(key ID(4, big-endian) || signature)>\n`.
 *
 *     log.example.com/vitrine
 *     8
 *     xcLIIO00L92ozolra5z1uMAKIcxLIHFMxuXTwFw1JAs=
 *
 *     — log.example.com/vitrine 6si4pg6SeFQ5dkSWXPP9AcxIqHq6…
 *
 * Verification follows Go's golang.org/x/mod/sumdb/note `Open`: the text ends
 * at the last blank line; lines are matched to known keys by (name, key ID);
 * unknown lines are kept but not verified; a known line that fails rejects the
 * note; a note without a verified known signature is rejected; more than 100
 * signature lines are rejected. Where Go is more lenient than docs/formats.md,
 * Vitrine is strict: base64 must be canonical, and every line of a known key
 * is verified (Go skips a second line of the same key unchecked).
 *
 * Type-0x04 keys (c2sp.org/tlog-cosignature/v1) are verified here too, so that
 * a note can be opened with log and witness keys in one pass; the signed
 * message for them is `cosignatureMessage`. Pure and browser-safe: the
 * Ed25519 backend is a parameter, defaulting to pure-JS noble.
 */
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { b64decode, b64encode, concatBytes, fromUtf8, MAX_INT63, utf8 } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { checkKeyName, formatKeyId, sameVerifier, TYPE_COSIGNATURE, TYPE_ED25519, type Signer, type Verifier } from './keys.js';

/** Most signature lines a note may carry (Go's note package limit). */
export const MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 ';
const CONTROL = /[\x00-\x09\x0b-\x1f]/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** One signature line as written: the name, the key ID and the base64 payload (key ID included). */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly base64: string;
}

/** A signature line as parsed: `signature` is the payload after the 4-byte key ID. */
export interface ParsedSignature extends NoteSignature {
  readonly signature: Uint8Array;
}

/** A signature line verified by a known key; `timestamp` is set for type-0x04 cosignatures. */
export interface VerifiedSignature extends NoteSignature {
  readonly verifier: Verifier;
  readonly timestamp?: bigint;
}

/** A note split into text and signature lines, nothing verified yet. */
export interface ParsedNote {
  /** The signed text, ending in `\n` (without the blank line). */
  readonly text: string;
  readonly signatures: readonly ParsedSignature[];
}

/** The result of `openNote`. */
export interface OpenedNote {
  readonly text: string;
  /** Verified lines of known keys, one per key, in note order. */
  readonly signatures: readonly VerifiedSignature[];
  /** Lines of unknown keys, in note order, repeated identical lines dropped. */
  readonly unverified: readonly NoteSignature[];
}

export interface OpenNoteOptions {
  /** Ed25519 backend; default `nobleEd25519` (pure JS). */
  ed?: Ed25519;
}

function controlCharName(c: number): string {
  if (c === 0x0d) return 'carriage return';
  if (c === 0x00) return 'NUL byte';
  if (c === 0x09) return 'tab';
  return `control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** Throws MalformedError naming `field` unless `text` is well-formed Unicode with no control character but `\n`. */
export function checkNoteChars(text: string, field: string): void {
  const bad = CONTROL.exec(text);
  if (bad !== null) {
    throw new MalformedError(`${field}: ${controlCharName(text.charCodeAt(bad.index))} at offset ${bad.index} (only \\n is allowed below U+0020)`);
  }
  if (LONE_SURROGATE.test(text)) throw new MalformedError(`${field}: not well-formed Unicode (lone surrogate)`);
}

function toNoteString(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  if (note instanceof Uint8Array) return fromUtf8(note, 'note');
  throw new MalformedError('note: must be a string or bytes');
}

function readKeyId(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/**
 * Splits a note into its text and signature lines, checking only syntax:
 * UTF-8, control characters, the blank line, at most 100 lines, each line
 * `— <valid name> <canonical base64 of at least 5 bytes>`.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const s = toNoteString(note);
  checkNoteChars(s, 'note');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new MalformedError('note: no blank line between the text and the signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0) throw new MalformedError('note signatures: there must be at least one signature line');
  if (!block.endsWith('\n')) throw new MalformedError('note signatures: the last signature line must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) {
    throw new MalformedError(`note signatures: ${lines.length} signature lines, more than the limit of ${MAX_SIGNATURES}`);
  }
  const signatures = lines.map((line, i) => parseSignatureLine(line, `note signature line ${i + 1}`));
  return { text, signatures };
}

/** Parses one signature line without its trailing newline. */
function parseSignatureLine(line: string, field: string): ParsedSignature {
  if (!line.startsWith(SIG_PREFIX)) throw new MalformedError(`${field}: must start with an em dash (U+2014) and a space`);
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw new MalformedError(`${field}: want "— <key name> <base64 signature>"`);
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  checkKeyName(name, `${field} key name`);
  const raw = b64decode(base64, `${field} signature`);
  if (raw.length < 5) throw new MalformedError(`${field} signature: must hold a 4-byte key ID and a signature, got ${raw.length} bytes`);
  return { name, keyId: readKeyId(raw), base64, signature: raw.subarray(4) };
}

/**
 * Parses one signature line as returned by a signer or witness, with or
 * without its trailing newline.
 */
export function parseSignature(line: string, field = 'signature line'): ParsedSignature {
  if (typeof line !== 'string') throw new MalformedError(`${field}: must be a string`);
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  checkNoteChars(body, field);
  if (body.includes('\n')) throw new MalformedError(`${field}: must be a single line`);
  return parseSignatureLine(body, field);
}

/** Formats a signature line, with its trailing newline. */
export function formatSignature(sig: NoteSignature): string {
  checkKeyName(sig.name, 'signature key name');
  return `${SIG_PREFIX}${sig.name} ${sig.base64}\n`;
}

function signatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const id = new Uint8Array([keyId >>> 24, (keyId >>> 16) & 0xff, (keyId >>> 8) & 0xff, keyId & 0xff]);
  return `${SIG_PREFIX}${name} ${b64encode(concatBytes(id, signature))}\n`;
}

/**
 * The tlog-cosignature/v1 signed message (c2sp.org/tlog-cosignature):
 * `"cosignature/v1\ntime " || decimal(timestamp) || "\n" || text`.
 */
export function cosignatureMessage(text: string, timestamp: bigint): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp.toString()}\n${text}`);
}

/** Checks a cosignature timestamp: 1..2^63-1 (never 0). */
export function checkTimestamp(timestamp: bigint | number, field = 'cosignature timestamp'): bigint {
  if (typeof timestamp === 'number') {
    if (!Number.isSafeInteger(timestamp)) throw new MalformedError(`${field}: must be a whole number of seconds`);
    timestamp = BigInt(timestamp);
  }
  if (typeof timestamp !== 'bigint') throw new MalformedError(`${field}: must be a bigint or a number`);
  if (timestamp <= 0n) throw new MalformedError(`${field}: must be positive (never 0)`);
  if (timestamp > MAX_INT63) throw new MalformedError(`${field}: exceeds 2^63-1`);
  return timestamp;
}

/**
 * Signs a timestamped cosignature over `text` and returns its line. The key
 * ID is the signer's type-0x04 ID. Internal: callers use `cosign`, which
 * checks that `text` is a checkpoint.
 */
export function _cosignText(text: string, signer: Signer, keyId: number, timestamp: bigint, ed: Ed25519): string {
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, timestamp, false);
  const sig = ed.sign(signer.seed, cosignatureMessage(text, timestamp));
  return signatureLine(signer.name, keyId, concatBytes(ts, sig));
}

function keyLabel(v: { name: string; keyId: number }): string {
  return `${v.name}+${formatKeyId(v.keyId)}`;
}

/**
 * Verifies one signature payload (after the key ID) of a known key over
 * `text`. Returns the cosignature timestamp for type 0x04, undefined for type
 * 0x01, and throws InvalidError naming the key on any failure.
 */
export function _verifyPayload(
  v: Verifier,
  text: string,
  textBytes: Uint8Array,
  payload: Uint8Array,
  ed: Ed25519,
  field = `note signature by ${keyLabel(v)}`,
): bigint | undefined {
  if (v.type === TYPE_ED25519) {
    if (payload.length !== 64) throw new InvalidError(`${field}: Ed25519 signature must be 64 bytes, got ${payload.length}`, 'invalid-signature');
    if (!ed.verify(v.publicKey, textBytes, payload)) throw new InvalidError(`${field}: signature does not verify`, 'invalid-signature');
    return undefined;
  }
  if (v.type === TYPE_COSIGNATURE) {
    if (payload.length !== 72) {
      throw new InvalidError(`${field}: cosignature must be an 8-byte timestamp and a 64-byte signature, got ${payload.length} bytes`, 'invalid-signature');
    }
    const timestamp = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0, false);
    if (timestamp === 0n || timestamp > MAX_INT63) {
      throw new InvalidError(`${field}: cosignature timestamp must be in 1..2^63-1`, 'invalid-signature');
    }
    if (!ed.verify(v.publicKey, cosignatureMessage(text, timestamp), payload.subarray(8))) {
      throw new InvalidError(`${field}: cosignature does not verify`, 'invalid-signature');
    }
    return timestamp;
  }
  throw new InvalidError(`${field}: unsupported key type`, 'invalid-signature');
}

/**
 * Verifies every line of a known key in a parsed note. Unlike `openNote`, it
 * does not require any verified signature. Internal helper shared with
 * `verifyCosignatures`.
 */
export function _verifyLines(parsed: ParsedNote, verifiers: readonly Verifier[], ed: Ed25519): OpenedNote {
  const known = new Map<string, Verifier>();
  for (const v of verifiers) {
    const key = `${v.name}\n${v.keyId}`;
    const other = known.get(key);
    if (other !== undefined && !sameVerifier(other, v)) {
      // Go's note package calls this an ambiguous key: a misconfiguration, not a property of the note.
      throw new InvalidError(`verifiers: two different keys share the name and key ID ${keyLabel(v)}`, 'ambiguous-key');
    }
    known.set(key, v);
  }
  const textBytes = utf8(parsed.text);
  const signatures: VerifiedSignature[] = [];
  const verifiedKeys = new Set<string>();
  const seenLines = new Set<string>();
  const unverified: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const key = `${sig.name}\n${sig.keyId}`;
    const lineKey = `${key}\n${sig.base64}`;
    // A byte-identical repeat adds nothing: Go drops it too.
    if (seenLines.has(lineKey)) continue;
    seenLines.add(lineKey);
    const v = known.get(key);
    if (v === undefined) {
      unverified.push({ name: sig.name, keyId: sig.keyId, base64: sig.base64 });
      continue;
    }
    const timestamp = _verifyPayload(v, parsed.text, textBytes, sig.signature, ed);
    if (verifiedKeys.has(key)) continue;
    verifiedKeys.add(key);
    const verified: VerifiedSignature = { name: sig.name, keyId: sig.keyId, base64: sig.base64, verifier: v };
    signatures.push(timestamp === undefined ? verified : { ...verified, timestamp });
  }
  return { text: parsed.text, signatures, unverified };
}

/**
 * Opens a signed note: parses it and verifies the lines of the known
 * `verifiers` (type 0x01 over the text, type 0x04 as cosignatures). Throws
 * MalformedError for syntax, InvalidError (code `invalid-signature`) when a
 * known line fails, and InvalidError (code `unverified-note`) when no known
 * key signed it.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly Verifier[], opts: OpenNoteOptions = {}): OpenedNote {
  const parsed = parseNote(note);
  const opened = _verifyLines(parsed, verifiers, opts.ed ?? nobleEd25519);
  if (opened.signatures.length === 0) {
    const names = verifiers.map(keyLabel).join(', ') || 'none given';
    throw new InvalidError(`note: no valid signature by a known key (known: ${names})`, 'unverified-note');
  }
  return opened;
}

/** Throws MalformedError unless `text` can be the text of a note. */
export function checkNoteText(text: string, field = 'note text'): void {
  if (typeof text !== 'string' || text.length === 0) throw new MalformedError(`${field}: must not be empty`);
  if (!text.endsWith('\n')) throw new MalformedError(`${field}: must end with a newline`);
  checkNoteChars(text, field);
}

/**
 * Signs `text` with each signer (Ed25519, type 0x01) and returns the note:
 * text, blank line, one signature line per signer in order. Ed25519 is
 * deterministic, so the same inputs always give the same note.
 */
export function signNote(text: string, signers: readonly Signer[], ed: Ed25519 = nobleEd25519): string {
  checkNoteText(text);
  if (signers.length === 0) throw new MalformedError('signers: at least one signer is required');
  if (signers.length > MAX_SIGNATURES) throw new MalformedError(`signers: more than ${MAX_SIGNATURES}`);
  const message = utf8(text);
  let out = `${text}\n`;
  for (const signer of signers) {
    checkKeyName(signer.name, 'signer key name');
    out += signatureLine(signer.name, signer.keyId, ed.sign(signer.seed, message));
  }
  return out;
}

/**
 * Appends signature lines (each ending in `\n`, e.g. from `cosign`) to a
 * signed note, checking the syntax of the result. Signatures are not verified.
 */
export function appendSignatures(note: string, lines: readonly string[]): string {
  const parsed = parseNote(note);
  if (parsed.signatures.length + lines.length > MAX_SIGNATURES) {
    throw new MalformedError(`note signatures: more than the limit of ${MAX_SIGNATURES}`);
  }
  let out = note;
  lines.forEach((line, i) => {
    if (!line.endsWith('\n')) throw new MalformedError(`signature line ${i + 1}: must end with a newline`);
    parseSignature(line, `signature line ${i + 1}`);
    out += line;
  });
  return out;
}
