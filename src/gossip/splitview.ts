/**
 * Split-view detection between two checkpoints of one log (docs/formats.md §9,
 * ARCHITECTURE.md monitor invariant 4), with no I/O: hashes of the larger
 * tree come through a reader the caller passes in (tiles of the log, or the
 * monitor's own store).
 *
 * - Same size, different roots: a split view; the evidence needs no proof.
 * - Sizes m < n, where we can read the tree of size n: compute the §9 proof
 *   (SUBPROOF(m, D[n], false), which starts with the larger tree's hash of
 *   its first m leaves when m is a power of two) from that tree. If its
 *   hashes do not reproduce the signed root of n, the reader served forged
 *   hashes: that proves nothing about the log and is reported as such. If
 *   they do, and the first root differs from the signed root of m, the log
 *   signed two trees where one is not a prefix of the other.
 * - Sizes m < n where only the smaller tree is ours: undecidable here; the
 *   caller waits until it can read a tree of at least n leaves, or gets the
 *   evidence from the peer that holds the larger tree.
 *
 * Every verdict of "split view" is re-checked with `verifyEvidence`, the
 * same code any third party runs, before it is returned.
 */
import { consistencyProofAsync, type Hash, type NodeId } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { bytesEqual } from '../encoding.js';
import type { OpenedCheckpoint, Verifier } from '../note/index.js';
import { buildEvidence, verifyEvidence, type Evidence, type Observation } from '../proof/index.js';

export type Comparison =
  | { kind: 'consistent' }
  | { kind: 'split-view'; evidence: Evidence }
  /** The other checkpoint is larger than any tree we can read: decide later. */
  | { kind: 'undecided' }
  /** The hashes we were given do not reproduce a signed root: the reader (tiles) is lying, not necessarily the log. */
  | { kind: 'bad-hashes'; message: string };

export interface CompareInput {
  logKey: Verifier;
  /** A checkpoint we verified, and a reader of the tree it signs. */
  ours: OpenedCheckpoint;
  readOurs: (ids: readonly NodeId[]) => Promise<Hash[]>;
  /** Another validly signed checkpoint of the same log. */
  theirs: OpenedCheckpoint;
  observed?: Observation[];
  ed: Ed25519;
}

export async function compareCheckpoints(c: CompareInput): Promise<Comparison> {
  const { ours, theirs } = c;
  if (ours.origin !== theirs.origin) throw new Error('compareCheckpoints: checkpoints of different logs');
  if (ours.size === theirs.size) {
    if (bytesEqual(ours.rootHash, theirs.rootHash)) return { kind: 'consistent' };
    return confirmed(c, buildEvidence(ours.origin, noteOf(ours), noteOf(theirs), [], c.observed));
  }
  if (theirs.size > ours.size) return { kind: 'undecided' };
  if (theirs.size === 0n) return { kind: 'consistent' };
  // Theirs is smaller: prove from our tree whether it is a prefix of ours.
  const proof = await consistencyProofAsync(theirs.size, ours.size, c.readOurs, { prependFirstRoot: false });
  const evidence = buildEvidence(ours.origin, noteOf(theirs), noteOf(ours), proof, c.observed);
  const verdict = verifyEvidence(evidence, c.logKey, c.ed);
  if (verdict.ok) return { kind: 'split-view', evidence };
  if (/do not reproduce the signed root/.test(verdict.message)) return { kind: 'bad-hashes', message: verdict.message };
  return { kind: 'consistent' };
}

function confirmed(c: CompareInput, evidence: Evidence): Comparison {
  const verdict = verifyEvidence(evidence, c.logKey, c.ed);
  if (!verdict.ok) throw new Error(`internal: evidence for a same-size fork does not verify: ${verdict.message}`);
  return { kind: 'split-view', evidence };
}

/** The full signed note of an opened checkpoint (text, blank line, signature lines). */
function noteOf(cp: OpenedCheckpoint): string {
  const lines = [...cp.note.signatures, ...cp.note.unverified].map((s) => `— ${s.name} ${s.base64}\n`);
  return `${cp.text}\n${lines.join('')}`;
}
