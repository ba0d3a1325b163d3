/**
 * Shared fixtures for the proof tests: the reference vectors, and a tiny
 * in-memory log (entries -> Merkle tree -> signed, optionally cosigned
 * checkpoint -> `.tlog-proof` bundles) built only from the public APIs of
 * merkle/, src/entry and src/note, so that bundles made here are what a
 * real log would hand out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consistencyProof, inclusionProof, treeHash, type Hash, type NodeId } from '../../merkle/index.js';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntry, entryLeafHash, signEntry, type EntryFields } from '../../src/entry/index.js';
import { nodeHash, sha256 } from '../../merkle/index.js';
import { appendSignatures, cosign, formatCheckpoint, signCheckpoint, type Signer } from '../../src/note/index.js';
import { formatBundle } from '../../src/proof/index.js';
import { ROOT } from '../_root.js';

export { ROOT };

export interface ProofVectors {
  bundle: string;
  bundleArtifact: string;
  checkpoint: string;
  entries: string[];
  evidence: Record<string, unknown>;
  notEvidence: Record<string, unknown>;
}

export interface NoteVectors {
  log: { name: string; seed: string; skey: string; vkey: string };
  witness: { name: string; seed: string; vkey: string; vkeyEd25519: string };
  goNoteExample: { vkey: string; skey: string };
}

export function readJson<T>(rel: string): T {
  return JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as T;
}

export const proofVectors = (): ProofVectors => readJson<ProofVectors>('vectors/proof/bundle-and-evidence.json');
export const noteVectors = (): NoteVectors => readJson<NoteVectors>('vectors/note/keys-and-checkpoint.json');

export const BACKENDS: ReadonlyArray<readonly [string, Ed25519]> = [
  ['node:crypto', nodeEd25519],
  ['noble', nobleEd25519],
];

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * A stored-node reader over leaf hashes held in memory: node (L, K) is the
 * tree hash of leaves [K·2^L, (K+1)·2^L). Slow and obviously right.
 */
export function memoryReader(leafHashes: readonly Hash[]): (ids: readonly NodeId[]) => Hash[] {
  return (ids) =>
    ids.map(({ level, index }) => {
      const width = 2 ** level;
      const start = Number(index) * width;
      return treeHash(leafHashes.slice(start, start + width));
    });
}

export interface MemoryLog {
  origin: string;
  entries: Uint8Array[];
  artifacts: Uint8Array[];
  leafHashes: Hash[];
  rootHash: Hash;
  /** The signed checkpoint note, with every witness's cosignature appended. */
  checkpoint: string;
  /** The `.tlog-proof` text of entry `i`. */
  bundle(i: number): string;
}

export interface MemoryLogOptions {
  logSigner: Signer;
  /** Seed of the artifact signer. */
  signerSeed: Uint8Array;
  artifacts: Uint8Array[];
  names?: string[];
  annotations?: Array<Record<string, string> | undefined>;
  witnesses?: Signer[];
  timestamp?: number;
  ed?: Ed25519;
}

/** Signs one entry per artifact, builds the tree, signs and cosigns its checkpoint. */
export function buildLog(o: MemoryLogOptions): MemoryLog {
  const ed = o.ed ?? nodeEd25519;
  const entries = o.artifacts.map((a, i) => {
    const annotations = o.annotations?.[i];
    const fields: EntryFields = {
      name: o.names?.[i] ?? `pkg:generic/test@${i}`,
      digest: sha256(a),
      ...(annotations === undefined ? {} : { annotations }),
    };
    return encodeEntry(signEntry(fields, o.signerSeed, ed));
  });
  return { ...logOfEntries(entries, o.logSigner, o.witnesses ?? [], o.timestamp ?? 1_700_000_000, ed), artifacts: o.artifacts };
}

/** A log of ready-made entry bytes: its tree, its checkpoint signed by `logSigner` and cosigned by `witnesses`, and its bundles. */
export function logOfEntries(entries: Uint8Array[], logSigner: Signer, witnesses: Signer[] = [], timestamp = 1_700_000_000, ed: Ed25519 = nodeEd25519): Omit<MemoryLog, 'artifacts'> {
  const leafHashes = entries.map(entryLeafHash);
  const rootHash = treeHash(leafHashes);
  const body = { origin: logSigner.name, size: entries.length, rootHash };
  let checkpoint = signCheckpoint(body, logSigner, ed);
  const lines = witnesses.map((w) => cosign(formatCheckpoint(body), w, timestamp, ed));
  if (lines.length > 0) checkpoint = appendSignatures(checkpoint, lines);
  const read = memoryReader(leafHashes);
  return {
    origin: logSigner.name,
    entries,
    leafHashes,
    rootHash,
    checkpoint,
    bundle: (i) => formatBundle({ entry: entries[i]!, index: BigInt(i), proof: inclusionProof(i, entries.length, read), checkpoint }),
  };
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), recursively, straight from the RFC: a reference for the fast planner. */
export function refPath(m: number, leaves: readonly Hash[]): Hash[] {
  const n = leaves.length;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m < k ? [...refPath(m, leaves.slice(0, k)), refTreeHash(leaves.slice(k))] : [...refPath(m - k, leaves.slice(k)), refTreeHash(leaves.slice(0, k))];
}

/** RFC 9162 §2.1.1 MTH over leaf hashes, recursively. */
export function refTreeHash(leaves: readonly Hash[]): Hash {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(refTreeHash(leaves.slice(0, k)), refTreeHash(leaves.slice(k)));
}

/** The §9 evidence proof from the larger tree (leaf hashes `larger`) between sizes m < n. */
export function evidenceProof(m: number, n: number, larger: readonly Hash[]): Hash[] {
  return consistencyProof(m, n, memoryReader(larger.slice(0, n)), { prependFirstRoot: false });
}

/** A copy of `bytes` with bit `bit` flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] ^= 1 << (7 - (bit & 7));
  return out;
}

/** A deterministic 32-byte seed from a label (test keys only). */
export function seedOf(label: string): Uint8Array {
  return sha256(utf8(`vitrine test seed: ${label}`));
}
