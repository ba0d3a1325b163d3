/**
 * `vitrine/browser`: the offline verifier for web pages, bundled by
 * `npm run build` (scripts/build-web.mjs) into dist/browser/vitrine.js, one
 * minified ES module with no Node API. It checks `.tlog-proof` bundles
 * (docs/formats.md §8), split-view evidence (§9), entries of every version and
 * kind (§4, §16) and signer keys in their native formats, checkpoints and
 * cosignatures (§3, §5), and an entry served by a log against its current
 * checkpoint. See docs/verifying.md, "In a browser".
 */
import { entriesPath, rootFromInclusionProof, splitBundle, tileWidth, TILE_WIDTH, verifyInclusion, leafHash, sha256 } from '../../merkle/index.js';
import { b64decode, b64encode, hexEncode, hexDecode } from '../encoding.js';
import { VitrineError } from '../errors.js';
import { decodeAnyEntry, entryArtifactHash } from '../entry/index.js';
import { verifyBundle, type BundleResult } from '../proof/index.js';

export { rootFromInclusionProof, verifyInclusion, leafHash, sha256, b64decode, b64encode, hexEncode, hexDecode, VitrineError };
export {
  decodeEntry,
  decodeAnyEntry,
  entryArtifactHash,
  entryKind,
  entrySigners,
  encodeEntry,
  entryLeafHash,
  entryFromJson,
  entryToJson,
  keyHash,
  verifyEntrySignature,
  type AnyEntry,
  type Entry,
  type EntryJson,
  type EntryV2,
  type Signer,
} from '../entry/index.js';
export { parseNativeKey, type NativeKey } from '../sig/native-key.js';
export { openCheckpoint, parseCheckpoint, parseNote, parseVerifier, parseCosignerVerifier, formatKeyId, verifyCosignatures, type Verifier } from '../note/index.js';
export {
  formatBundle,
  parseBundle,
  verifyBundle,
  parseEvidence,
  verifyEvidence,
  type Bundle,
  type BundlePolicy,
  type BundleResult,
  type BundleStep,
  type EvidenceResult,
} from '../proof/index.js';
export { describeEntry, type EntryDescription, type EntryRow, type EntrySignerView } from './describe.js';

/** The five checks of docs/formats.md §8, in order, as `vitrine verify` names them. */
export const BUNDLE_STEPS = [
  'the entry decodes and signs this artifact',
  "the entry's signature verifies (and the signer is pinned, if keys were given)",
  'the inclusion proof leads to the checkpoint root',
  "the checkpoint is signed by the log's key",
  'the witness cosignatures meet the quorum',
] as const;

export type StepState = 'passed' | 'failed' | 'not run';

/** The state of each of the five steps after `verifyBundle`. */
export function stepStates(result: BundleResult): StepState[] {
  return BUNDLE_STEPS.map((_, i) => {
    if (result.ok) return 'passed';
    if (result.step === 0) return 'not run';
    const step = i + 1;
    return step < result.step ? 'passed' : step === result.step ? 'failed' : 'not run';
  });
}

/**
 * Where the canonical bytes of entry `index` are, in the tree of `size`:
 * the path of its entry bundle (c2sp.org/tlog-tiles, partial on the right
 * edge) and the bundle's width. Reading the bytes from there, rather than
 * from an API's JSON, shows any entry kind exactly as it was logged.
 */
export function entryBundleOf(index: number, size: bigint): { path: string; width: number } {
  const n = BigInt(Math.floor(index / TILE_WIDTH));
  const width = tileWidth(0, n, size);
  return { path: `/${entriesPath({ index: n, width })}`, width };
}

/** Entry `index` out of its entry bundle `data` of `width` entries (throws BundleFormatError if ill-framed). */
export function entryFromBundle(data: Uint8Array, width: number, index: number): Uint8Array {
  const { starts, ends } = splitBundle(data, width);
  const i = index % TILE_WIDTH;
  if (i >= width) throw new RangeError(`entry ${index} is not in this bundle of ${width}`);
  return data.slice(starts[i]!, ends[i]!);
}

/** What a log serves about one entry, as fetched by a page. */
export interface ServedEntry {
  /** The entry's canonical bytes. */
  entry: Uint8Array;
  index: number | bigint;
  /** The audit path from the log's inclusion endpoint. */
  proof: Uint8Array[];
  /** The log's current signed checkpoint note. */
  checkpoint: string;
}

/**
 * Checks an entry served by a log, the way a `.tlog-proof` is checked
 * (docs/formats.md §8), with the entry's own digest as the artifact: the entry is
 * well-formed and validly signed, it is at `index` in the tree of the
 * checkpoint, and the checkpoint is signed by `logKey` (and cosigned by
 * `quorum` of `witnesses`). Never throws for what the log served.
 */
export function checkServedEntry(served: ServedEntry, policy: { logKey: string; witnesses?: string[]; quorum?: number }): BundleResult {
  // The artifact is the entry's own: its SHA-256 and, for kinds whose
  // signature covers another digest of the file (SSH sha512, minisign's
  // BLAKE2b-512), that digest as the entry carries it.
  const artifact: { digest: Uint8Array; sha512?: Uint8Array; blake2b512?: Uint8Array } = { digest: new Uint8Array(32) };
  try {
    const any = decodeAnyEntry(served.entry);
    artifact.digest = any.entry.digest;
    const second = entryArtifactHash(any);
    if (second?.algorithm === 'sha512') artifact.sha512 = second.value;
    else if (second?.algorithm === 'blake2b-512') artifact.blake2b512 = second.value;
  } catch {
    // verifyBundle reports the undecodable entry as its step 1.
  }
  return verifyBundle(
    artifact,
    { entry: served.entry, index: BigInt(served.index), proof: served.proof, checkpoint: served.checkpoint },
    { logKey: policy.logKey, witnesses: policy.witnesses ?? [], quorum: policy.quorum ?? 0 },
  );
}
