/**
 * Reading a log and checking what it says (issue 14 §2): the checkpoint must
 * carry a valid signature of the pinned log key (c2sp.org/tlog-checkpoint),
 * and every entry shown must be proved included in that checkpoint's tree
 * (RFC 9162 §2.1.3). An entry is checked by turning it into a `.tlog-proof`
 * bundle (docs/formats.md §8) and running the same offline verification as
 * `vitrine verify`, so what the CLI prints has passed exactly the checks a
 * verifier would run.
 *
 * The log's JSON is trusted for nothing: an entry's canonical bytes are
 * rebuilt from its JSON form (the encoding is canonical, so the bytes are
 * unique) and hashed here; the proof is checked against the signed root.
 */
import type { Ed25519 } from '../crypto/ed25519.js';
import { b64decode, hexEncode } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { decodeAnyEntry, entryArtifactHash, entryDigest, entryLeafHash, parseAnyEntryJson } from '../entry/index.js';
import { formatKeyId, openCheckpoint, type OpenedCheckpoint, type Verifier } from '../note/index.js';
import { formatBundle, verifyBundle, type BundlePolicy, type BundleSuccess } from '../proof/index.js';
import type { LogClient } from './log-client.js';

/** The log's answer is not what the pinned key signed, or an entry is not proved in it. */
export class UnverifiedError extends InvalidError {
  constructor(message: string) {
    super(message, 'unverified');
  }
}

/** The entry is proved in the log, but not signed by any of the signer keys the caller pinned. */
export class NotPinnedError extends InvalidError {
  constructor(message: string) {
    super(message, 'signer-not-pinned');
  }
}

/** Signer keys an entry must be signed by (one of them), as `vitrine verify --signer` pins them; none: any signer. */
export type SignerPins = Pick<BundlePolicy, 'signers' | 'signerKeys'>;

/** A checkpoint opened with the pinned log key, and the note exactly as served (cosignatures included). */
export type VerifiedCheckpoint = OpenedCheckpoint & { readonly served: string };

/** Fetches /checkpoint and opens it with the pinned log key. */
export async function verifiedCheckpoint(client: LogClient, logKey: Verifier, ed: Ed25519): Promise<VerifiedCheckpoint> {
  const note = await client.checkpoint();
  try {
    return { ...openCheckpoint(note, logKey, ed), served: note };
  } catch (err) {
    throw new UnverifiedError(`the checkpoint of ${client.base} does not verify with the log key ${logKey.name}+${formatKeyId(logKey.keyId)}: ${(err as Error).message}`);
  }
}

/** The fields the API adds to an entry's JSON form (docs/api.md, GET /v1/entries/<index>). */
const VIEW_FIELDS = ['index', 'leafHash', 'keyHash', 'signers'] as const;

/** One entry as the API shows it (docs/api.md): the entry's JSON form plus index, leafHash, keyHash. */
export type EntryView = Record<string, unknown> & { index: number; leafHash: string };

export interface VerifiedEntry {
  /** The API's view of the entry, as served (it matched the verified bytes). */
  view: EntryView;
  /** The canonical entry bytes. */
  bytes: Uint8Array;
  /** The `.tlog-proof` bundle text: the entry, its index, its audit path, the checkpoint. */
  bundle: string;
  /** The offline verification of that bundle. */
  verified: BundleSuccess;
}

/** Canonical entry bytes from an API entry view; its leafHash must be theirs. */
export function entryBytesOfView(view: unknown): Uint8Array {
  if (typeof view !== 'object' || view === null || Array.isArray(view)) throw new MalformedError('the log answered an entry that is not a JSON object');
  const fields = { ...(view as Record<string, unknown>) };
  const leafHash = fields['leafHash'];
  for (const f of VIEW_FIELDS) delete fields[f];
  const bytes = parseAnyEntryJson(JSON.stringify(fields));
  const claimed = typeof leafHash === 'string' ? leafHash : '';
  let ok = false;
  try {
    ok = hexEncode(b64decode(claimed, 'leafHash')) === hexEncode(entryLeafHash(bytes));
  } catch {
    ok = false;
  }
  if (!ok) throw new UnverifiedError(`the log's leafHash ${JSON.stringify(claimed)} is not the hash of the entry it served`);
  return bytes;
}

/**
 * Proves `bytes` (the entry at `index`, if known) included in the checkpoint
 * `cp`, and verifies the resulting bundle offline, with the signer `pins`.
 */
export async function proveEntry(client: LogClient, cp: VerifiedCheckpoint, logKey: Verifier, bytes: Uint8Array, ed: Ed25519, index?: number, pins: SignerPins = {}): Promise<{ bundle: string; verified: BundleSuccess }> {
  const leaf = hexEncode(entryLeafHash(bytes));
  if (index !== undefined && BigInt(index) >= cp.size) {
    throw new UnverifiedError(`entry ${index} is not yet in the newest checkpoint the log serves (size ${cp.size}); try again once it is`);
  }
  const answer = await client.getJson<{ index: unknown; size: unknown; proof: unknown }>(`/v1/proof/inclusion?leaf=${leaf}&size=${cp.size}`);
  if (typeof answer.index !== 'number' || !Number.isSafeInteger(answer.index) || !Array.isArray(answer.proof) || !answer.proof.every((h) => typeof h === 'string')) {
    throw new MalformedError('the log answered an inclusion proof that is not {index, size, proof: [b64]}');
  }
  if (index !== undefined && answer.index !== index) throw new UnverifiedError(`the log proves this entry at index ${answer.index}, but served it as index ${index}`);
  const proof = (answer.proof as string[]).map((h, i) => b64decode(h, `proof[${i}]`));
  const bundle = formatBundle({ entry: bytes, index: BigInt(answer.index), proof, checkpoint: cp.served });
  // The entry itself is what is shown: its own digests stand in for the artifact's
  // (SSH and minisign entries also carry the SHA-512 or BLAKE2b-512 their signature covers).
  const any = decodeAnyEntry(bytes);
  const second = entryArtifactHash(any);
  const digests = { digest: entryDigest(any), ...(second?.algorithm === 'sha512' ? { sha512: second.value } : {}), ...(second?.algorithm === 'blake2b-512' ? { blake2b512: second.value } : {}) };
  const verified = verifyBundle(digests, bundle, { logKey, ...pins }, ed);
  if (!verified.ok && verified.code === 'signer-not-pinned') throw new NotPinnedError(`entry ${answer.index}: ${verified.message}`);
  if (!verified.ok) throw new UnverifiedError(`entry ${answer.index} does not verify against the checkpoint of size ${cp.size}: step ${verified.step}: ${verified.message}`);
  return { bundle, verified };
}

/** Fetches the entry at `index` and proves it in `cp`. */
export async function verifiedEntry(client: LogClient, cp: VerifiedCheckpoint, logKey: Verifier, index: number, ed: Ed25519, pins: SignerPins = {}): Promise<VerifiedEntry> {
  const view = await client.getJson<EntryView>(`/v1/entries/${index}`);
  if (view.index !== index) throw new UnverifiedError(`asked for entry ${index}, the log answered entry ${String(view.index)}`);
  const bytes = entryBytesOfView(view);
  const { bundle, verified } = await proveEntry(client, cp, logKey, bytes, ed, index, pins);
  return { view, bytes, bundle, verified };
}

export type SearchField = 'name' | 'digest' | 'key';

export interface SearchPage {
  entries: VerifiedEntry[];
  /** Pass as `after` for the next page; null when there is none. */
  next: number | null;
}

/** One page of a lookup (docs/api.md), every entry proved in `cp` and signed as `pins` require; entries newer than `cp` are left out. */
export async function searchEntries(
  client: LogClient,
  cp: VerifiedCheckpoint,
  logKey: Verifier,
  q: { field: SearchField; value: string; after?: number; limit?: number },
  ed: Ed25519,
  pins: SignerPins = {},
): Promise<SearchPage> {
  const params = new URLSearchParams({ [q.field]: q.value });
  if (q.after !== undefined) params.set('after', String(q.after));
  if (q.limit !== undefined) params.set('limit', String(q.limit));
  const page = await client.getJson<{ entries: unknown; next: unknown }>(`/v1/entries?${params.toString().replace(/\+/g, '%20')}`);
  if (!Array.isArray(page.entries) || !(page.next === null || typeof page.next === 'number')) throw new MalformedError('the log answered a lookup that is not {entries: [...], next}');
  const entries: VerifiedEntry[] = [];
  for (const view of page.entries as EntryView[]) {
    if (typeof view?.index !== 'number' || BigInt(view.index) >= cp.size) continue;
    const bytes = entryBytesOfView(view);
    const { bundle, verified } = await proveEntry(client, cp, logKey, bytes, ed, view.index, pins);
    entries.push({ view, bytes, bundle, verified });
  }
  return { entries, next: page.next };
}
