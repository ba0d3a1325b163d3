/**
 * The per-bundle work of an audit, shared by the worker threads
 * (./audit-worker.ts) and the in-thread fallback: split a c2sp.org/tlog-tiles
 * entry bundle (uint16 big-endian length || entry bytes, repeated), hash
 * every entry to its RFC 9162 leaf hash, fold a full bundle into the hash of
 * its level-8 subtree, and audit each new entry: strict v1 decode
 * (docs/formats.md §4), Ed25519 signature (node:crypto), then the policy
 * (docs/formats.md §11): signers, releases, revoked keys, attestations. Nothing here trusts the bundle: whether these leaves
 * are the log's is decided by the caller against authenticated tiles.
 */
import { hash } from 'node:crypto';
import { BundleFormatError, splitBundle, treeHash } from '../../merkle/index.js';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { nodeP256 } from '../crypto/p256-node.js';
import {
  decodeAnyEntry,
  decodeEntry,
  entryKind,
  entrySignedMessage,
  entrySigners,
  ENTRY_SIGNATURE_PREFIX,
  isEntryV2,
  keyHash,
  verifyAnyEntry,
  type AnyEntry,
  type Entry,
} from '../entry/index.js';
import { dsseStatement } from '../entry/kinds/dsse.js';
import type { CompiledPolicy, PolicyAttestation } from './policy.js';

// The framing lives with the tile coordinates (merkle/tiles.ts), where browsers can use it too.
export { BundleFormatError, splitBundle };

/** The entries of a bundle (views into `data`). */
export function bundleEntries(data: Uint8Array, width: number): Uint8Array[] {
  const { starts, ends } = splitBundle(data, width);
  const out: Uint8Array[] = [];
  for (let i = 0; i < width; i++) out.push(data.subarray(starts[i], ends[i]));
  return out;
}

/**
 * The signed message of an entry whose bytes `decodeEntry` accepted: the
 * same canonical map without the key-5 pair and with a count one lower.
 * Canonical order puts the 67-byte pair `05 58 40 <sig>` right after the
 * key (after name, digest `03 58 20 …` and key `04 58 20 …`), so the
 * message is cut out of the leaf instead of being re-encoded. Falls back
 * to the encoder if the layout is not the expected one.
 */
export function signedMessageOf(bytes: Uint8Array, entry: Entry): Uint8Array {
  // [0] map(5|6), [1..2] 01 01, [3] 02, [4] text header, then the name.
  const head = bytes[4]!;
  const nameStart = head === 0x78 ? 6 : 5;
  const nameLen = head === 0x78 ? bytes[5]! : head - 0x60;
  const s = nameStart + nameLen + 70;
  if ((bytes[0] !== 0xa5 && bytes[0] !== 0xa6) || bytes[s] !== 0x05 || bytes[s + 1] !== 0x58 || bytes[s + 2] !== 0x40 || bytes.length < s + 67) {
    return entrySignedMessage(entry);
  }
  const p = ENTRY_SIGNATURE_PREFIX.length;
  const out = new Uint8Array(p + bytes.length - 67);
  out.set(ENTRY_SIGNATURE_PREFIX, 0);
  out[p] = bytes[0]! - 1;
  out.set(bytes.subarray(1, s), p + 1);
  out.set(bytes.subarray(s + 67), p + s);
  return out;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A bad entry or a policy violation, as the worker reports it. */
export interface Finding {
  readonly index: number;
  readonly kind: 'bad-entry' | 'unexpected-signer' | 'unexpected-entry' | 'revoked-key' | 'unexpected-attestation';
  readonly name?: string;
  readonly digest?: string;
  readonly keyHash?: string;
  readonly message: string;
}

export interface BundleJob {
  /** Bundle bytes. */
  readonly data: Uint8Array;
  /** Entries the bundle must hold (1..256). */
  readonly width: number;
  /** Log index of the bundle's first entry. */
  readonly firstIndex: number;
  /** Entries before this position in the bundle were audited already: hash them, do not audit them. */
  readonly skip: number;
  /** false: hash only (tree-only rebuild). */
  readonly audit: boolean;
}

export type BundleResult =
  | { readonly ok: true; readonly leafHashes: Uint8Array; readonly subtree?: Uint8Array; readonly findings: Finding[]; readonly audited: number }
  | { readonly ok: false; readonly error: string };

/** Checks one entry: decode, signature, policy. Returns its findings. */
export function auditEntry(bytes: Uint8Array, index: number, policy: CompiledPolicy | undefined): Finding[] {
  if (isEntryV2(bytes)) return auditEntryV2(bytes, index, policy);
  let entry: Entry;
  try {
    entry = decodeEntry(bytes);
  } catch (err) {
    return [{ index, kind: 'bad-entry', message: `Entry ${index} is not a valid v1 entry: ${(err as Error).message}.` }];
  }
  const digest = hex(entry.digest);
  if (!nodeEd25519.verify(entry.key, signedMessageOf(bytes, entry), entry.sig)) {
    return [{
      index,
      kind: 'bad-entry',
      name: entry.name,
      digest,
      keyHash: keyHash(entry.key),
      message: `Entry ${index} (${JSON.stringify(entry.name)}) carries a signature that does not verify under its own key.`,
    }];
  }
  if (policy === undefined || policy.empty) return [];
  const kh = keyHash(entry.key);
  const found = policy.check(index, entry.name, digest, [{ algorithm: 'ed25519', key: entry.key, fingerprint: kh }]);
  if (found.length === 0) return [];
  return found.map((f) => ({ index, kind: f.kind, name: entry.name, digest, keyHash: kh, message: f.message }));
}

/**
 * Checks an entry of version 2 (docs/formats.md §4.3): strict decode, every
 * signature re-verified by its kind, then the policy with every signer (by
 * its raw key and native fingerprint) and, for an attestation, its
 * predicateType, SLSA builder id and subjects' names.
 */
function auditEntryV2(bytes: Uint8Array, index: number, policy: CompiledPolicy | undefined): Finding[] {
  let any: AnyEntry;
  try {
    any = decodeAnyEntry(bytes);
  } catch (err) {
    return [{ index, kind: 'bad-entry', message: `Entry ${index} is not a valid version-2 entry: ${(err as Error).message}.` }];
  }
  const e = any.entry;
  const digest = hex(e.digest);
  const signers = entrySigners(any);
  const kh = hex(signers[0]!.keyHash);
  try {
    verifyAnyEntry(any, { ed: nodeEd25519, p256: nodeP256 });
  } catch (err) {
    return [{ index, kind: 'bad-entry', name: e.name, digest, keyHash: kh, message: `Entry ${index} (${JSON.stringify(e.name)}, kind ${entryKind(any)}): ${(err as Error).message}.` }];
  }
  if (policy === undefined || policy.empty) return [];
  let attestation: PolicyAttestation | undefined;
  if (any.version === 2 && any.entry.kind === 'dsse') {
    const st = dsseStatement(any.entry);
    attestation = { predicateType: st.predicateType, builderId: st.builderId, subjectNames: st.subjects.map((s) => s.name) };
  }
  return policy.check(index, e.name, digest, signers, attestation).map((f) => ({ index, kind: f.kind, name: e.name, digest, keyHash: kh, message: f.message }));
}

/** Runs a bundle job. Never throws for bad input: a malformed bundle is reported in the result. */
export function runBundleJob(job: BundleJob, policy: CompiledPolicy | undefined): BundleResult {
  let split;
  try {
    split = splitBundle(job.data, job.width);
  } catch (err) {
    if (err instanceof BundleFormatError) return { ok: false, error: err.message };
    throw err;
  }
  const { starts, ends } = split;
  const data = job.data;
  const leafHashes = new Uint8Array(job.width * 32);
  const findings: Finding[] = [];
  for (let i = 0; i < job.width; i++) {
    // RFC 9162 leaf hash SHA-256(0x00 || entry): the byte before the entry (its length's low byte)
    // stands in for the prefix for the time of the one-shot hash, saving a copy per entry.
    const at = starts[i]! - 1;
    const saved = data[at]!;
    data[at] = 0;
    leafHashes.set(hash('sha256', data.subarray(at, ends[i]), 'buffer'), i * 32);
    data[at] = saved;
  }
  let audited = 0;
  if (job.audit) {
    for (let i = job.skip; i < job.width; i++) {
      const f = auditEntry(job.data.subarray(starts[i], ends[i]), job.firstIndex + i, policy);
      for (const x of f) findings.push(x);
      audited++;
    }
  }
  let subtree: Uint8Array | undefined;
  if (job.width === 256) {
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < 256; i++) leaves.push(leafHashes.subarray(i * 32, i * 32 + 32));
    subtree = treeHash(leaves);
  }
  return subtree === undefined ? { ok: true, leafHashes, findings, audited } : { ok: true, leafHashes, subtree, findings, audited };
}
