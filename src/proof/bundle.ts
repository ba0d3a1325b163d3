/**
 * Offline proof bundles, `.tlog-proof` (c2sp.org/tlog-proof; docs/formats.md §8):
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <b64 entry bytes>
 *   index <leaf index>
 *   <b64 audit path hash>        (0 to 63 lines)
 *   <empty line>
 *   <signed checkpoint note, with every cosignature the log had>
 *
 * In Vitrine the `extra` line is required: it carries the entry, so that a
 * verifier holding only the artifact and the log's key (and, by policy,
 * witness keys) can check everything offline. `verifyBundle` runs the five
 * steps of §8 in order and reports the first that fails.
 *
 * Browser-safe: no Node-only imports on this path (see test/proof/browser).
 */
import { rootFromInclusionProof, sha256 } from '../../merkle/index.js';
import { nobleEd25519, type Ed25519 } from '../crypto/ed25519.js';
import { b64decode, b64encode, bytesEqual, fromUtf8, hexEncode, parseDecimal, utf8 } from '../encoding.js';
import { MalformedError, VitrineError } from '../errors.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { decodeAnyEntry, entryArtifactHash, entryLeafHash, entrySigners, entrySubjects, keyHash, verifyAnyEntry, type AnyEntry, type Entry, type EntryV2, type Signer } from '../entry/index.js';
import {
  openCheckpoint,
  parseCheckpoint,
  parseCosignerVerifier,
  cosignerVerifier,
  formatKeyId,
  parseNote,
  parseVerifier,
  sameVerifier,
  TYPE_ED25519,
  verifyCosignatures,
  type Verifier,
} from '../note/index.js';

export const BUNDLE_HEADER = 'c2sp.org/tlog-proof@v1';
/**
 * A bundle larger than this is rejected before parsing: an entry of at most
 * 65535 bytes (the entry-bundle limit; 87,380 in base64), 63 hashes and a
 * checkpoint with its cosignatures fit.
 */
export const MAX_BUNDLE_BYTES = 128 * 1024;
const MAX_PROOF_LINES = 63;

export interface Bundle {
  /** Canonical entry bytes (the `extra` line). */
  entry: Uint8Array;
  index: bigint;
  /** Audit path, from the leaf's sibling upward. */
  proof: Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
}

export function formatBundle(b: Bundle): string {
  return formatEncodedBundle(b64encode(b.entry), b.index, b.proof.map(b64encode), b.checkpoint);
}

/**
 * formatBundle from parts already in base64: the log's submission answer
 * carries the entry and the proof in base64 beside the bundle, and encodes
 * them once for both.
 */
export function formatEncodedBundle(entryB64: string, index: bigint | number, proofB64: readonly string[], checkpoint: string): string {
  let out = `${BUNDLE_HEADER}\nextra ${entryB64}\nindex ${index}\n`;
  for (const h of proofB64) out += `${h}\n`;
  return `${out}\n${checkpoint}`;
}

/** Parses a bundle strictly. Throws MalformedError naming the line and rule. */
export function parseBundle(input: string | Uint8Array): Bundle {
  // The limit is on bytes: a string is measured in UTF-8, without encoding
  // it when it cannot be over (a UTF-16 code unit is at most 3 UTF-8 bytes).
  const size =
    typeof input === 'string' ? (input.length * 3 <= MAX_BUNDLE_BYTES ? input.length : utf8(input).length) : input instanceof Uint8Array ? input.length : -1;
  if (size < 0) throw new MalformedError('bundle: must be a string or bytes');
  if (size > MAX_BUNDLE_BYTES) throw new MalformedError(`bundle: larger than ${MAX_BUNDLE_BYTES} bytes`);
  const text = typeof input === 'string' ? input : fromUtf8(input, 'bundle');
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new MalformedError('bundle: no empty line between the proof and the checkpoint');
  const head = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (head[0] !== BUNDLE_HEADER) throw new MalformedError(`bundle line 1: must be exactly ${JSON.stringify(BUNDLE_HEADER)}`);
  const extra = head[1];
  if (extra === undefined || !extra.startsWith('extra ')) {
    throw new MalformedError('bundle line 2: must be "extra <base64 entry>" (Vitrine bundles carry the entry)');
  }
  const entry = b64decode(extra.slice(6), 'bundle extra');
  const indexLine = head[2];
  if (indexLine === undefined || !indexLine.startsWith('index ')) throw new MalformedError('bundle line 3: must be "index <decimal>"');
  const index = parseDecimal(indexLine.slice(6), 'bundle index');
  const proofLines = head.slice(3);
  if (proofLines.length > MAX_PROOF_LINES) throw new MalformedError(`bundle: more than ${MAX_PROOF_LINES} proof lines`);
  const proof = proofLines.map((l, i) => b64decode(l, `bundle proof line ${i + 1}`, 32));
  // The checkpoint must at least be a well-formed note with a checkpoint body.
  parseCheckpoint(parseNote(checkpoint).text);
  return { entry, index, proof, checkpoint };
}

/** Which §8 step failed: 0 is "the bundle does not parse". */
export type BundleStep = 0 | 1 | 2 | 3 | 4 | 5;

export type BundleFailureCode =
  | 'malformed-bundle'
  | 'bad-entry'
  | 'digest-mismatch'
  | 'name-mismatch'
  | 'bad-entry-signature'
  | 'signer-not-pinned'
  | 'inclusion-failed'
  | 'bad-log-signature'
  | 'witness-quorum';

export interface BundleSuccess {
  ok: true;
  /** The decoded entry: version 1 (`key` and `sig`) or version 2 (`kind` and `body`). */
  entry: Entry | EntryV2;
  /** Who signed it, with native fingerprints (docs/formats.md §4). */
  signers: Signer[];
  index: bigint;
  origin: string;
  treeSize: bigint;
  rootHash: Uint8Array;
  /** Names of the witnesses from the policy that validly cosigned. */
  witnesses: string[];
}

export interface BundleFailure {
  ok: false;
  step: BundleStep;
  code: BundleFailureCode;
  /** One plain sentence. */
  message: string;
}

export type BundleResult = BundleSuccess | BundleFailure;

export interface BundlePolicy {
  /** The log's vkey (type 0x01), as a string or parsed. */
  logKey: string | Verifier;
  /** If given (with `signerKeys`), the entry's key must be one of these signer vkeys. */
  signers?: ReadonlyArray<string | Verifier>;
  /** Signer keys in their native formats (src/sig/native-key.ts): pinned like `signers`, matched by key hash. */
  signerKeys?: ReadonlyArray<{ readonly keyHash: Uint8Array; readonly fingerprint: string }>;
  /** Witness vkeys (type 0x01 or 0x04). */
  witnesses?: ReadonlyArray<string | Verifier>;
  /**
   * If given, the entry must name exactly this artifact. Without it, a
   * mirror could serve an older, validly signed and logged release under a
   * newer name: the digest would match the bytes it serves.
   */
  name?: string;
  /** How many of `witnesses` must have cosigned (default: 0). */
  quorum?: number;
}

/**
 * The artifact's bytes, or its digests when it was hashed elsewhere (e.g.
 * streamed from disk): the SHA-256, and the SHA-512 or BLAKE2b-512 when the
 * entry's signature covers that one (SSH with sha512, minisign; see
 * `entryArtifactHash`).
 */
export type ArtifactInput = Uint8Array | { digest: Uint8Array; sha512?: Uint8Array; blake2b512?: Uint8Array };

/**
 * Verifies a bundle offline against an artifact and a policy, following the
 * five steps of docs/formats.md §8. Never throws for bad bundles: the result
 * says which step failed (a quorum larger than the witness list can never
 * be met, so it fails step 5). Throws MalformedError only for a malformed
 * policy: a bad vkey, a log key of type 0x04, two different witness keys
 * with the same name and key ID, or a negative quorum. A witness key counts
 * once towards the quorum, even when listed twice or under two names.
 */
export function verifyBundle(artifact: ArtifactInput, bundle: string | Uint8Array | Bundle, policy: BundlePolicy, ed: Ed25519 = nobleEd25519): BundleResult {
  const { logKey, signers, witnesses, quorum } = checkPolicy(policy);

  let b: Bundle;
  try {
    b = bundle instanceof Uint8Array || typeof bundle === 'string' ? parseBundle(bundle) : bundle;
  } catch (err) {
    return fail(0, 'malformed-bundle', `The proof bundle is malformed: ${messageOf(err)}.`);
  }

  // Step 1: the entry decodes, follows the format, and names this artifact.
  let any: AnyEntry;
  try {
    any = decodeAnyEntry(b.entry);
  } catch (err) {
    return fail(1, 'bad-entry', `The logged entry is not a valid Vitrine entry: ${messageOf(err)}.`);
  }
  const entry = any.entry;
  const digest = artifact instanceof Uint8Array ? sha256(artifact) : artifact.digest;
  // An attestation speaks for each of its subjects: the artifact may be any of them.
  const subjects = bytesEqual(digest, entry.digest) ? [] : entrySubjects(any).filter((s) => bytesEqual(s.digest, digest));
  if (!bytesEqual(digest, entry.digest) && subjects.length === 0) {
    const more = entrySubjects(any).length > 0 ? ' nor of any other subject of the attestation' : '';
    return fail(1, 'digest-mismatch', `The artifact's SHA-256 (${hexEncode(digest)}) is not the digest the entry signs (${hexEncode(entry.digest)})${more}.`);
  }
  const second = entryArtifactHash(any);
  if (second !== undefined) {
    const mine = artifact instanceof Uint8Array
      ? (second.algorithm === 'sha512' ? sha512(artifact) : blake2b(artifact, { dkLen: 64 }))
      : (second.algorithm === 'sha512' ? artifact.sha512 : artifact.blake2b512);
    if (mine === undefined) {
      return fail(1, 'digest-mismatch', `The entry's signature covers the artifact's ${second.algorithm}, which the verifier was not given.`);
    }
    if (!bytesEqual(mine, second.value)) {
      return fail(1, 'digest-mismatch', `The artifact's ${second.algorithm} (${hexEncode(mine)}) is not the one the entry's signature covers (${hexEncode(second.value)}).`);
    }
  }
  const names = subjects.length > 0 ? subjects.map((s) => s.name) : [entry.name];
  if (policy.name !== undefined && !names.includes(policy.name)) {
    return fail(1, 'name-mismatch', `The entry names ${JSON.stringify(names.find((n) => n !== undefined) ?? entry.name)}, not the expected ${JSON.stringify(policy.name)}.`);
  }

  // Step 2: the entry's signature(s), and the pinned signer keys.
  try {
    verifyAnyEntry(any, { ed });
  } catch (err) {
    return fail(2, 'bad-entry-signature', `The entry's signature does not verify with its key: ${messageOf(err)}.`);
  }
  // Pinned keys: vkeys name a Vitrine Ed25519 key by the SHA-256 of its 32
  // bytes; native keys (SSH, minisign, PEM) by the SHA-256 of their own
  // identity bytes, as entries' signers do (docs/formats.md §4).
  const signerKeys = policy.signerKeys ?? [];
  if (signers.length > 0 || signerKeys.length > 0) {
    const pinned = new Set([...signers.map((s) => hexEncode(sha256(s.publicKey))), ...signerKeys.map((k) => hexEncode(k.keyHash))]);
    const named = entrySigners(any);
    if (!named.some((s) => pinned.has(hexEncode(s.keyHash)))) {
      const who = any.version === 1 ? `key ${keyHash(any.entry.key)}` : named.map((s) => s.fingerprint).join(', ');
      return fail(2, 'signer-not-pinned', `The entry was signed by ${who}, which is not one of the pinned signer keys.`);
    }
  }

  // Step 3: leaf hash -> inclusion proof -> the checkpoint's root.
  let cp;
  try {
    cp = parseCheckpoint(parseNote(b.checkpoint).text);
  } catch (err) {
    return fail(0, 'malformed-bundle', `The proof bundle's checkpoint is malformed: ${messageOf(err)}.`);
  }
  try {
    const root = rootFromInclusionProof(entryLeafHash(b.entry), b.index, cp.size, b.proof);
    if (!bytesEqual(root, cp.rootHash)) {
      return fail(3, 'inclusion-failed', `The inclusion proof for index ${b.index} does not lead to the checkpoint's root at size ${cp.size}.`);
    }
  } catch (err) {
    return fail(3, 'inclusion-failed', `The inclusion proof for index ${b.index} is invalid: ${messageOf(err)}.`);
  }

  // Step 4: the log's signature on the checkpoint.
  try {
    openCheckpoint(b.checkpoint, logKey, ed);
  } catch (err) {
    return fail(4, 'bad-log-signature', `The checkpoint is not validly signed by the log key ${logKey.name}: ${messageOf(err)}.`);
  }

  // Step 5: the witness policy. One key counts once towards the quorum,
  // however many names it is listed under.
  const cosigned: string[] = [];
  if (witnesses.length > 0) {
    try {
      const seen: Uint8Array[] = [];
      for (const c of verifyCosignatures(b.checkpoint, witnesses, ed)) {
        if (seen.some((k) => bytesEqual(k, c.witness.publicKey))) continue;
        seen.push(c.witness.publicKey);
        cosigned.push(c.witness.name);
      }
    } catch (err) {
      return fail(5, 'witness-quorum', `A witness cosignature on the checkpoint is invalid: ${messageOf(err)}.`);
    }
  }
  if (cosigned.length < quorum) {
    return fail(5, 'witness-quorum', `The checkpoint has ${cosigned.length} valid cosignature(s) from the given witnesses, fewer than the quorum of ${quorum}.`);
  }
  return { ok: true, entry, signers: entrySigners(any), index: b.index, origin: cp.origin, treeSize: cp.size, rootHash: cp.rootHash, witnesses: cosigned };
}

/**
 * Parses and checks a policy, throwing MalformedError for a mistake in it
 * (never blamed on the bundle): a bad vkey, a log key that is not type
 * 0x01, two different witness keys sharing a name and key ID, a bad quorum.
 * Witness keys come back as type-0x04 verifiers without duplicates.
 */
function checkPolicy(policy: BundlePolicy): { logKey: Verifier; signers: Verifier[]; witnesses: Verifier[]; quorum: number } {
  const logKey = typeof policy.logKey === 'string' ? parseVerifier(policy.logKey) : policy.logKey;
  if (logKey.type !== TYPE_ED25519) {
    throw new MalformedError(`log key ${logKey.name}+${formatKeyId(logKey.keyId)}: must be an Ed25519 (type 0x01) vkey, not a cosigner key`);
  }
  const signers = (policy.signers ?? []).map((s) => (typeof s === 'string' ? parseVerifier(s) : s));
  const witnesses: Verifier[] = [];
  for (const w of policy.witnesses ?? []) {
    const v = typeof w === 'string' ? parseCosignerVerifier(w) : cosignerVerifier(w);
    const same = witnesses.find((x) => x.name === v.name && x.keyId === v.keyId);
    if (same === undefined) witnesses.push(v);
    else if (!sameVerifier(same, v)) throw new MalformedError(`witnesses: two different keys share the name and key ID ${v.name}+${formatKeyId(v.keyId)}`);
  }
  const quorum = policy.quorum ?? 0;
  if (!Number.isSafeInteger(quorum) || quorum < 0) throw new MalformedError('quorum: must be a non-negative integer');
  return { logKey, signers, witnesses, quorum };
}

function fail(step: BundleStep, code: BundleFailureCode, message: string): BundleFailure {
  return { ok: false, step, code, message };
}

function messageOf(err: unknown): string {
  const m = err instanceof VitrineError || err instanceof Error ? err.message : String(err);
  return m.replace(/\.$/, '');
}
