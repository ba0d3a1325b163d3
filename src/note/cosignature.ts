/**
 * Witness cosignatures, c2sp.org/tlog-cosignature v1 with Ed25519 (docs/formats.md
 * §5): a note signature line of signature type 0x04 whose payload is
 *
 *     key ID(4) || timestamp (uint64 big-endian, POSIX seconds, never 0) || Ed25519 signature(64)
 *
 * over the message
 *
 *     "cosignature/v1\ntime " || decimal(timestamp) || "\n" || checkpoint text
 *
 * where the checkpoint text includes any extension lines but no signature
 * lines. The key ID is SHA-256(name || 0x0A || 0x04 || public key)[:4];
 * witness keys given in their type-0x01 form are converted to type 0x04.
 *
 *     — witness.example.com/w1 qzJwlgAAAABlU/EAm8by…
 */
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { MAX_INT63, utf8 } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { parseCheckpoint } from './checkpoint.js';
import { computeKeyId, cosignerVerifier, formatKeyId, TYPE_COSIGNATURE, type Signer, type Verifier } from './keys.js';
import { _cosignText, _verifyLines, _verifyPayload, checkTimestamp, parseNote, parseSignature } from './note.js';

/** A valid cosignature by a known witness. */
export interface Cosignature {
  /** The witness's type-0x04 verifier. */
  readonly witness: Verifier;
  /** POSIX seconds, 1..2^63-1. */
  readonly timestamp: bigint;
}

/** A cosignature line as parsed, before verification. */
export interface ParsedCosignature {
  readonly name: string;
  readonly keyId: number;
  readonly timestamp: bigint;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
}

/**
 * Cosigns a checkpoint body at `timestamp` (POSIX seconds, 1..2^63-1) and
 * returns the signature line, ending in `\n`. The body must parse as a
 * checkpoint: a witness cosigns nothing else.
 */
export function cosign(checkpointText: string, signer: Signer, timestamp: bigint | number, ed: Ed25519 = nobleEd25519): string {
  parseCheckpoint(checkpointText);
  const ts = checkTimestamp(timestamp);
  return _cosignText(checkpointText, signer, computeKeyId(signer.name, TYPE_COSIGNATURE, signer.publicKey), ts, ed);
}

/** Parses a cosignature line (with or without its newline): 76-byte payload, timestamp in 1..2^63-1. */
export function parseCosignature(line: string): ParsedCosignature {
  const sig = parseSignature(line, 'cosignature line');
  if (sig.signature.length !== 72) {
    throw new MalformedError(`cosignature line signature: must be a 4-byte key ID, an 8-byte timestamp and a 64-byte signature, got ${sig.signature.length + 4} bytes`);
  }
  const timestamp = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0, false);
  if (timestamp === 0n || timestamp > MAX_INT63) throw new MalformedError('cosignature line timestamp: must be in 1..2^63-1');
  return { name: sig.name, keyId: sig.keyId, timestamp, signature: sig.signature.slice(8) };
}

/**
 * Verifies one cosignature line by `witness` (either key type) over a
 * checkpoint body, e.g. a line a witness answered to add-checkpoint. Throws
 * InvalidError unless the line is that witness's and verifies.
 */
export function verifyCosignature(checkpointText: string, line: string, witness: Verifier, ed: Ed25519 = nobleEd25519): Cosignature {
  parseCheckpoint(checkpointText);
  parseCosignature(line);
  const sig = parseSignature(line, 'cosignature line');
  const v = cosignerVerifier(witness);
  if (sig.name !== v.name || sig.keyId !== v.keyId) {
    throw new InvalidError(
      `cosignature line: signed by ${sig.name}+${formatKeyId(sig.keyId)}, not by the witness ${v.name}+${formatKeyId(v.keyId)}`,
      'invalid-signature',
    );
  }
  const timestamp = _verifyPayload(v, checkpointText, utf8(checkpointText), sig.signature, ed, `cosignature by ${v.name}+${formatKeyId(v.keyId)}`)!;
  return { witness: v, timestamp };
}

/**
 * Verifies the cosignatures on a signed checkpoint note by the given
 * witnesses (either key type; converted to type 0x04) and returns one entry
 * per witness that validly cosigned, in note order. Lines of other keys are
 * ignored; a line of a listed witness that fails to verify rejects the note
 * (InvalidError), as c2sp.org/signed-note asks. Returns an empty array when
 * no listed witness cosigned. The log's own signature is not checked here:
 * use `openCheckpoint` for it.
 */
export function verifyCosignatures(note: string | Uint8Array, witnesses: readonly Verifier[], ed: Ed25519 = nobleEd25519): Cosignature[] {
  const parsed = parseNote(note);
  parseCheckpoint(parsed.text);
  const opened = _verifyLines(parsed, witnesses.map(cosignerVerifier), ed);
  return opened.signatures.map((s) => ({ witness: s.verifier, timestamp: s.timestamp! }));
}
