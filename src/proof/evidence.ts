/**
 * Split-view evidence (docs/formats.md §9): a JSON document that proves, with
 * the log's verifier key alone, that the log signed two trees where one is
 * not a prefix of the other.
 *
 * It proves misbehaviour when both checkpoints carry a valid signature of
 * the log key for the document's origin, and either
 * - same size, different roots (empty proof); or
 * - sizes m < n, and running the RFC 9162 §2.1.4.2 loop over `proof`
 *   WITHOUT prepending the first root when m is a power of two (proof[0] is
 *   then the larger tree's hash of its first m leaves) yields B's root as
 *   the second root and a first root different from A's root. Because those
 *   hashes reproduce B's signed root, they are genuine: the log's tree of
 *   size n does not extend its tree of size m.
 * `observed` is informative and unauthenticated; verifiers ignore it.
 *
 * Browser-safe.
 */
import { consistencyRoots, type Hash } from '../../merkle/index.js';
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { b64decode, b64encode, bytesEqual, fromUtf8, utf8 } from '../encoding.js';
import { MalformedError, VitrineError } from '../errors.js';
import { openCheckpoint, parseVerifier, TYPE_ED25519, type OpenedCheckpoint, type Verifier } from '../note/index.js';

export const EVIDENCE_TYPE = 'vitrine-evidence/v1';
/** An evidence document larger than this is rejected before parsing. */
export const MAX_EVIDENCE_BYTES = 256 * 1024;

export interface Observation {
  from: string;
  at: string;
}

export interface Evidence {
  type: typeof EVIDENCE_TYPE;
  origin: string;
  checkpoints: [string, string];
  proof: string[];
  observed: Observation[];
}

/** The fields every evidence document has, read by parseEvidenceFields. */
export interface EvidenceFields {
  readonly fields: Record<string, unknown>;
  readonly origin: string;
  readonly checkpoints: [string, string];
  readonly observed: Observation[];
}

/**
 * Reads an evidence document of type `type` (docs/formats.md §9) strictly:
 * bounded in bytes before it is decoded, a JSON object with only `allowed`
 * fields, a non-empty origin, exactly two signed notes and at most 16
 * observations. `label` names the document in the unknown-field message.
 * The caller checks its own further fields in `fields`.
 */
export function parseEvidenceFields(input: string | Uint8Array | unknown, type: string, allowed: readonly string[], label: string): EvidenceFields {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    // Measured in bytes before anything is decoded (a UTF-16 unit is at most 3 UTF-8 bytes).
    const size = typeof input === 'string' ? (input.length * 3 <= MAX_EVIDENCE_BYTES ? input.length : utf8(input).length) : input.length;
    if (size > MAX_EVIDENCE_BYTES) throw new MalformedError(`evidence: larger than ${MAX_EVIDENCE_BYTES} bytes`);
    const text = typeof input === 'string' ? input : fromUtf8(input, 'evidence');
    try {
      value = JSON.parse(text);
    } catch {
      throw new MalformedError('evidence: not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedError('evidence: must be a JSON object');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new MalformedError(`${label}: unknown field ${JSON.stringify(k)}`);
  if (o['type'] !== type) throw new MalformedError(`evidence type: must be ${JSON.stringify(type)}`);
  if (typeof o['origin'] !== 'string' || o['origin'] === '') throw new MalformedError('evidence origin: must be a non-empty string');
  const cps = o['checkpoints'];
  if (!Array.isArray(cps) || cps.length !== 2 || !cps.every((c) => typeof c === 'string')) {
    throw new MalformedError('evidence checkpoints: must be an array of exactly two signed notes');
  }
  const observed = o['observed'] ?? [];
  if (!Array.isArray(observed) || observed.length > 16) throw new MalformedError('evidence observed: must be an array of at most 16 objects');
  for (const [i, ob] of observed.entries()) {
    const x = ob as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || typeof x['from'] !== 'string' || typeof x['at'] !== 'string') {
      throw new MalformedError(`evidence observed[${i}]: must be {"from": string, "at": string}`);
    }
  }
  return {
    fields: o,
    origin: o['origin'],
    checkpoints: [cps[0] as string, cps[1] as string],
    observed: (observed as Observation[]).map((x) => ({ from: x.from, at: x.at })),
  };
}

/** Parses an evidence document strictly (exact field set and types). */
export function parseEvidence(input: string | Uint8Array | unknown): Evidence {
  const { fields, origin, checkpoints, observed } = parseEvidenceFields(input, EVIDENCE_TYPE, ['type', 'origin', 'checkpoints', 'proof', 'observed'], 'evidence');
  const proof = fields['proof'];
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((p) => typeof p === 'string')) {
    throw new MalformedError('evidence proof: must be an array of at most 64 base64 hashes');
  }
  proof.forEach((p, i) => b64decode(p as string, `evidence proof[${i}]`, 32));
  return { type: EVIDENCE_TYPE, origin, checkpoints, proof: proof as string[], observed };
}

export type EvidenceResult =
  | { ok: true; kind: 'same-size' | 'not-prefix'; origin: string; sizes: [bigint, bigint] }
  | { ok: false; message: string };

/**
 * Checks whether a document proves a split view by the log with key
 * `logKey`. Never throws for a bad document: the result says why it proves
 * nothing. Throws MalformedError for a bad `logKey` (not a type-0x01 vkey).
 */
export function verifyEvidence(input: string | Uint8Array | Evidence, logKey: string | Verifier, ed: Ed25519 = nobleEd25519): EvidenceResult {
  const key = typeof logKey === 'string' ? parseVerifier(logKey) : logKey;
  // A cosigner key here is the caller's mistake, not a fault of the document.
  if (key.type !== TYPE_ED25519) throw new MalformedError(`log key ${key.name}: must be an Ed25519 (type 0x01) vkey, not a cosigner key`);
  let doc: Evidence;
  try {
    doc = typeof input === 'string' || input instanceof Uint8Array ? parseEvidence(input) : parseEvidence(input as unknown);
  } catch (err) {
    return { ok: false, message: messageOf(err) };
  }
  if (doc.origin !== key.name) return { ok: false, message: `the document's origin ${doc.origin} is not the log key's name ${key.name}` };
  let a: OpenedCheckpoint;
  let b: OpenedCheckpoint;
  try {
    a = openCheckpoint(doc.checkpoints[0], key, ed);
    b = openCheckpoint(doc.checkpoints[1], key, ed);
  } catch (err) {
    return { ok: false, message: `a checkpoint is not validly signed by the log: ${messageOf(err)}` };
  }
  if (a.size > b.size) [a, b] = [b, a];
  const proof = doc.proof.map((p) => b64decode(p, 'evidence proof'));
  if (a.size === b.size) {
    if (proof.length !== 0) return { ok: false, message: 'checkpoints of equal size must come with an empty proof' };
    if (bytesEqual(a.rootHash, b.rootHash)) return { ok: false, message: 'the two checkpoints sign the same tree' };
    return { ok: true, kind: 'same-size', origin: doc.origin, sizes: [a.size, b.size] };
  }
  if (a.size === 0n) return { ok: false, message: 'the empty tree is a prefix of every tree' };
  let roots: { rootM: Hash; rootN: Hash };
  try {
    roots = consistencyRoots(a.size, b.size, proof, { prependFirstRoot: false });
  } catch (err) {
    return { ok: false, message: `the proof does not fit sizes ${a.size} and ${b.size}: ${messageOf(err)}` };
  }
  if (!bytesEqual(roots.rootN, b.rootHash)) {
    return { ok: false, message: `the proof's hashes do not reproduce the signed root of the tree of size ${b.size}` };
  }
  if (bytesEqual(roots.rootM, a.rootHash)) {
    return { ok: false, message: `the tree of size ${b.size} extends the tree of size ${a.size}: no split view` };
  }
  return { ok: true, kind: 'not-prefix', origin: doc.origin, sizes: [a.size, b.size] };
}

/**
 * Builds an evidence document. For different sizes, `proof` must be the
 * §9 proof: hashes from the larger tree (see `evidenceProof` in the
 * monitor, which computes it from the larger tree's tiles).
 */
export function buildEvidence(origin: string, a: string, b: string, proof: readonly Uint8Array[], observed: Observation[] = []): Evidence {
  return { type: EVIDENCE_TYPE, origin, checkpoints: [a, b], proof: proof.map(b64encode), observed };
}

function messageOf(err: unknown): string {
  return err instanceof VitrineError || err instanceof Error ? err.message : String(err);
}
