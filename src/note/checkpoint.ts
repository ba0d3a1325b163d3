/**
 * Checkpoints, c2sp.org/tlog-checkpoint (docs/formats.md §3): the text of a signed
 * note made of the origin, the tree size and the root hash, each on its own
 * line, then optional extension lines.
 *
 *     log.example.com/vitrine
 *     8
 *     xcLIIO00L92ozolra5z1uMAKIcxLIHFMxuXTwFw1JAs=
 *
 * Parsing is strict: the size is canonical decimal in 0..2^63-1 (a bigint),
 * the root hash is canonical base64 of exactly 32 bytes, extension lines are
 * non-empty and preserved. Vitrine emits no extension lines but keeps those it
 * reads, since cosignatures cover them. The log's key name equals the origin.
 */
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { b64decode, b64encode, MAX_INT63, parseDecimal } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { formatKeyId, TYPE_ED25519, type Signer, type Verifier } from './keys.js';
import { checkNoteChars, openNote, signNote, type OpenedNote } from './note.js';

export interface Checkpoint {
  readonly origin: string;
  /** Tree size, 0..2^63-1. */
  readonly size: bigint;
  /** RFC 6962 root hash, 32 bytes. */
  readonly rootHash: Uint8Array;
  /** Extension lines after the root hash, without their newlines. */
  readonly extensions: readonly string[];
}

/** What `formatCheckpoint` takes: `size` may be a safe-integer number, `extensions` may be left out. */
export interface CheckpointInput {
  readonly origin: string;
  readonly size: bigint | number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}

/** A checkpoint whose note carries a valid signature of the log key: its fields, its text and the opened note. */
export interface OpenedCheckpoint extends Checkpoint {
  /** The checkpoint text (the note text, with extension lines). */
  readonly text: string;
  /** The opened note: the log's verified signature and every other line, unverified. */
  readonly note: OpenedNote;
}

/** Parses a checkpoint body (the note text, without blank line or signatures). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new MalformedError('checkpoint: must be a string');
  checkNoteChars(text, 'checkpoint');
  if (!text.endsWith('\n')) throw new MalformedError('checkpoint: must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new MalformedError(`checkpoint: needs origin, tree size and root hash lines, got ${lines.length} line(s)`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new MalformedError('checkpoint origin: must not be empty');
  const size = parseDecimal(sizeText, 'checkpoint tree size');
  const rootHash = b64decode(rootText, 'checkpoint root hash', 32);
  extensions.forEach((line, i) => {
    if (line.length === 0) throw new MalformedError(`checkpoint extension line ${i + 1}: must not be empty`);
  });
  return { origin, size, rootHash, extensions };
}

/** Formats a checkpoint body canonically, checking every field. */
export function formatCheckpoint(c: CheckpointInput): string {
  if (typeof c.origin !== 'string' || c.origin.length === 0) throw new MalformedError('checkpoint origin: must not be empty');
  if (c.origin.includes('\n')) throw new MalformedError('checkpoint origin: must be a single line');
  checkNoteChars(c.origin, 'checkpoint origin');
  let size: bigint;
  if (typeof c.size === 'number') {
    if (!Number.isSafeInteger(c.size)) throw new MalformedError('checkpoint tree size: must be a whole number');
    size = BigInt(c.size);
  } else if (typeof c.size === 'bigint') {
    size = c.size;
  } else {
    throw new MalformedError('checkpoint tree size: must be a bigint or a number');
  }
  if (size < 0n || size > MAX_INT63) throw new MalformedError('checkpoint tree size: must be in 0..2^63-1');
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== 32) throw new MalformedError('checkpoint root hash: must be 32 bytes');
  let text = `${c.origin}\n${size.toString()}\n${b64encode(c.rootHash)}\n`;
  (c.extensions ?? []).forEach((line, i) => {
    const field = `checkpoint extension line ${i + 1}`;
    if (typeof line !== 'string' || line.length === 0) throw new MalformedError(`${field}: must not be empty`);
    if (line.includes('\n')) throw new MalformedError(`${field}: must be a single line`);
    checkNoteChars(line, field);
    text += `${line}\n`;
  });
  return text;
}

/** Formats and signs a checkpoint with the log's signer (whose name must be the origin). */
export function signCheckpoint(c: CheckpointInput, signer: Signer, ed: Ed25519 = nobleEd25519): string {
  if (signer.name !== c.origin) {
    throw new InvalidError(`checkpoint origin: ${JSON.stringify(c.origin)} differs from the log key name ${JSON.stringify(signer.name)}`);
  }
  return signNote(formatCheckpoint(c), [signer], ed);
}

/**
 * Opens a signed checkpoint: verifies the note with the log's key (type
 * 0x01), parses the text as a checkpoint, and checks that the origin equals
 * the key name. Other signature lines (cosignatures) are left unverified;
 * check them with `verifyCosignatures`.
 */
export function openCheckpoint(note: string | Uint8Array, logVerifier: Verifier, ed: Ed25519 = nobleEd25519): OpenedCheckpoint {
  if (logVerifier.type !== TYPE_ED25519) {
    throw new InvalidError(`log key ${logVerifier.name}+${formatKeyId(logVerifier.keyId)}: must be an Ed25519 (type 0x01) key`);
  }
  const opened = openNote(note, [logVerifier], { ed });
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== logVerifier.name) {
    throw new InvalidError(
      `checkpoint origin: ${JSON.stringify(checkpoint.origin)} does not match the log key name ${JSON.stringify(logVerifier.name)}`,
      'origin-mismatch',
    );
  }
  return { ...checkpoint, text: opened.text, note: opened };
}
