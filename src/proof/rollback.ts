/**
 * Rollback evidence: a JSON document holding two checkpoints signed by one
 * log, the larger one first, which a monitor raises when a log it verified
 * at size n later serves a signed checkpoint of size m < n as its newest
 * (docs/monitoring.md, "Rollback"; c2sp.org/tlog-checkpoint for the notes).
 *
 *     {"type": "vitrine-rollback/v1", "origin": "...",
 *      "checkpoints": ["<signed note, size n>", "<signed note, size m < n>"],
 *      "observed": [{"from": "<where the smaller one was served>", "at": "<RFC 3339>"}]}
 *
 * What the log key alone proves: the log signed a tree of size n, so it
 * committed to serving at least n entries for good, and it signed the
 * smaller tree too. That it served the smaller one AFTER the larger one is
 * the observer's report (`observed`, unauthenticated): checkpoints carry no
 * time, so no signature can order them.
 * Anyone can confirm it against the log's /checkpoint, which must never be
 * smaller than n again. When the two trees also fork, the monitor raises
 * `inconsistent` with a §9 split-view document as well: that one is proof
 * by signatures alone.
 *
 * Browser-safe.
 */
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { fromUtf8 } from '../encoding.js';
import { MalformedError, VitrineError } from '../errors.js';
import { openCheckpoint, parseVerifier, TYPE_ED25519, type OpenedCheckpoint, type Verifier } from '../note/index.js';
import { parseEvidenceFields, type Observation } from './evidence.js';

export const ROLLBACK_TYPE = 'vitrine-rollback/v1';

export interface RollbackEvidence {
  type: typeof ROLLBACK_TYPE;
  origin: string;
  /** [the larger checkpoint, seen first; the smaller one, served later]. */
  checkpoints: [string, string];
  observed: Observation[];
}

export type RollbackResult =
  | { ok: true; kind: 'rollback'; origin: string; sizes: [bigint, bigint]; observed: Observation[] }
  | { ok: false; message: string };

/** Parses a rollback document strictly (exact field set and types). */
export function parseRollbackEvidence(input: string | Uint8Array | unknown): RollbackEvidence {
  const { origin, checkpoints, observed } = parseEvidenceFields(input, ROLLBACK_TYPE, ['type', 'origin', 'checkpoints', 'observed'], 'rollback evidence');
  return { type: ROLLBACK_TYPE, origin, checkpoints, observed };
}

/**
 * Checks a rollback document against the log key: both checkpoints signed
 * by it for the document's origin, the first strictly larger. Never throws
 * for a bad document; throws MalformedError for a bad `logKey`.
 */
export function verifyRollbackEvidence(input: string | Uint8Array | RollbackEvidence, logKey: string | Verifier, ed: Ed25519 = nobleEd25519): RollbackResult {
  const key = typeof logKey === 'string' ? parseVerifier(logKey) : logKey;
  if (key.type !== TYPE_ED25519) throw new MalformedError(`log key ${key.name}: must be an Ed25519 (type 0x01) vkey, not a cosigner key`);
  let doc: RollbackEvidence;
  try {
    doc = parseRollbackEvidence(input);
  } catch (err) {
    return { ok: false, message: messageOf(err) };
  }
  if (doc.origin !== key.name) return { ok: false, message: `the document's origin ${doc.origin} is not the log key's name ${key.name}` };
  let larger: OpenedCheckpoint;
  let smaller: OpenedCheckpoint;
  try {
    larger = openCheckpoint(doc.checkpoints[0], key, ed);
    smaller = openCheckpoint(doc.checkpoints[1], key, ed);
  } catch (err) {
    return { ok: false, message: `a checkpoint is not validly signed by the log: ${messageOf(err)}` };
  }
  if (larger.size <= smaller.size) {
    return { ok: false, message: `the first checkpoint (size ${larger.size}) must be larger than the second (size ${smaller.size}): that is no rollback` };
  }
  return { ok: true, kind: 'rollback', origin: doc.origin, sizes: [larger.size, smaller.size], observed: doc.observed };
}

export function buildRollbackEvidence(origin: string, larger: string, smaller: string, observed: Observation[] = []): RollbackEvidence {
  return { type: ROLLBACK_TYPE, origin, checkpoints: [larger, smaller], observed };
}

/** The `type` of a document, to pick its checker; undefined when it has none. */
export function evidenceTypeOf(input: string | Uint8Array): string | undefined {
  try {
    const v = JSON.parse(typeof input === 'string' ? input : fromUtf8(input, 'evidence')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Record<string, unknown>)['type'] === 'string') return (v as Record<string, string>)['type'];
  } catch {
    // The checker says why.
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof VitrineError || err instanceof Error ? err.message : String(err);
}
