/**
 * A c2sp.org/tlog-witness witness (docs/formats.md §6): `add-checkpoint`
 * processing and the monitoring path, with no HTTP in it.
 *
 * For each known log (origin → log key) the witness keeps the latest
 * checkpoint it cosigned. It cosigns a new checkpoint only when the
 * request's `old` size equals that latest size and the consistency proof
 * from it verifies, so it never cosigns two inconsistent trees. The check
 * and the update are one compare-and-swap in the store: two concurrent
 * requests can never both be cosigned from the same old size.
 *
 * Statuses (thrown as typed errors, mapped by src/http/errors.ts):
 * 400 MalformedError (bad body, old > size), 403 ForbiddenError (no valid
 * signature by the log's key), 404 NotFoundError (unknown origin),
 * 409 ConflictError {size} (old is not our latest size; or same size with a
 * different root, as c2sp.org/tlog-witness says), 422 InvalidError (bad
 * proof, or a non-empty proof with old 0).
 *
 * Every validly signed checkpoint that conflicts with what the witness
 * cosigned (same size, other root; or a proof that fails) is kept as
 * possible evidence of a split view, even though it is refused.
 */
import { verifyConsistency, sha256 } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { b64decode, bytesEqual, fromUtf8, hexEncode, parseDecimal, utf8 } from '../encoding.js';
import { ConflictError, ForbiddenError, InvalidError, MalformedError, NotFoundError, VitrineError } from '../errors.js';
import { appendSignatures, cosign, openCheckpoint, parseCheckpoint, parseNote, type Signer, type Verifier } from '../note/index.js';

export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;
const MAX_PROOF_LINES = 63;

/** What the witness remembers per log. */
export interface WitnessRecord {
  size: bigint;
  rootHash: Uint8Array;
  /** The checkpoint note with the log's signature and this witness's cosignature. */
  note: string;
}

export interface WitnessStore {
  latest(origin: string): WitnessRecord | undefined;
  /**
   * Atomically replaces the record of `origin` if its current size is
   * `oldSize` (0 and no record for a first cosignature). Returns false and
   * changes nothing otherwise.
   */
  compareAndSwap(origin: string, oldSize: bigint, next: WitnessRecord): boolean;
  /** Keeps a validly signed checkpoint that conflicts with the record, with the reason. */
  recordConflict(origin: string, note: string, reason: string): void;
  /** Resolves when every swap so far is on disk (stores with group commit); absent means swaps are durable at once. */
  durable?(): Promise<void>;
}

export interface WitnessOptions {
  signer: Signer;
  /** The logs this witness follows: the log key's name is the origin. */
  logs: readonly Verifier[];
  store: WitnessStore;
  ed: Ed25519;
  /** POSIX seconds; injected for tests. */
  now?: () => number;
  /** Test hook: runs after the checks and before the compare-and-swap, to force races. */
  beforeSwap?: () => void;
}

export interface AddCheckpointRequest {
  old: bigint;
  proof: Uint8Array[];
  checkpoint: string;
}

/** Parses an add-checkpoint body strictly (c2sp.org/tlog-witness). */
export function parseAddCheckpoint(body: Uint8Array | string): AddCheckpointRequest {
  const size = typeof body === 'string' ? utf8(body).length : body.length;
  if (size > MAX_ADD_CHECKPOINT_BYTES) throw new MalformedError(`add-checkpoint body: larger than ${MAX_ADD_CHECKPOINT_BYTES} bytes`);
  const text = typeof body === 'string' ? body : fromUtf8(body, 'add-checkpoint body');
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new MalformedError('add-checkpoint body: no empty line before the checkpoint');
  const head = text.slice(0, blank).split('\n');
  const first = head[0]!;
  if (!first.startsWith('old ')) throw new MalformedError('add-checkpoint body: the first line must be "old <size>"');
  const old = parseDecimal(first.slice(4), 'old');
  const lines = head.slice(1);
  if (lines.length > MAX_PROOF_LINES) throw new MalformedError(`add-checkpoint body: more than ${MAX_PROOF_LINES} proof lines`);
  const proof = lines.map((l, i) => b64decode(l, `proof line ${i + 1}`, 32));
  return { old, proof, checkpoint: text.slice(blank + 2) };
}

export class Witness {
  readonly #o: WitnessOptions;
  readonly #logs: Map<string, Verifier>;
  readonly #byHash: Map<string, string>;

  constructor(o: WitnessOptions) {
    this.#o = o;
    this.#logs = new Map(o.logs.map((v) => [v.name, v]));
    this.#byHash = new Map(o.logs.map((v) => [hexEncode(sha256(utf8(v.name))), v.name]));
  }

  get name(): string {
    return this.#o.signer.name;
  }

  /**
   * Handles an add-checkpoint request; resolves to the cosignature line(s)
   * for a 200 answer once the new record is durable. The checks and the
   * compare-and-swap run synchronously, before the first await.
   */
  async addCheckpoint(body: Uint8Array | string): Promise<string> {
    const line = this.#process(body);
    await this.#o.store.durable?.();
    return line;
  }

  #process(body: Uint8Array | string): string {
    const req = parseAddCheckpoint(body);
    // Structure first (400), then the origin (404), then the signature (403).
    const origin = parseCheckpoint(parseNote(req.checkpoint).text).origin;
    const key = this.#logs.get(origin);
    if (key === undefined) throw new NotFoundError(`unknown log origin ${JSON.stringify(origin.slice(0, 100))}`);
    let cp;
    try {
      cp = openCheckpoint(req.checkpoint, key, this.#o.ed);
    } catch (err) {
      throw new ForbiddenError(`the checkpoint carries no valid signature by the key of ${origin}: ${(err as VitrineError).message}`);
    }
    if (req.old > cp.size) throw new MalformedError(`old size ${req.old} is larger than the checkpoint size ${cp.size}`);
    const latest = this.#o.store.latest(origin);
    const latestSize = latest?.size ?? 0n;
    if (req.old !== latestSize) throw new ConflictError(`old size ${req.old} is not the latest cosigned size ${latestSize}`, latestSize);
    if (req.old === 0n) {
      if (req.proof.length !== 0) throw new InvalidError('a consistency proof must be empty when old is 0', 'bad-proof');
    } else if (req.old === cp.size) {
      if (req.proof.length !== 0) throw new InvalidError('a consistency proof must be empty when old equals the checkpoint size', 'bad-proof');
      if (!bytesEqual(latest!.rootHash, cp.rootHash)) {
        this.#o.store.recordConflict(origin, req.checkpoint, `same size ${cp.size} as the cosigned checkpoint, different root`);
        throw new ConflictError(`the checkpoint has the cosigned size ${cp.size} but a different root`, latestSize);
      }
    } else {
      try {
        verifyConsistency(req.old, cp.size, req.proof, latest!.rootHash, cp.rootHash);
      } catch (err) {
        this.#o.store.recordConflict(origin, req.checkpoint, `no valid consistency proof from the cosigned size ${req.old}: ${(err as Error).message}`);
        throw new InvalidError(`the consistency proof from ${req.old} to ${cp.size} does not verify: ${(err as Error).message}`, 'bad-proof');
      }
    }
    const line = cosign(cp.text, this.#o.signer, this.#timestamp(), this.#o.ed);
    // Keep only the log's own signature line(s) and ours in the stored note.
    const logLines = cp.note.signatures.map((s) => `— ${s.name} ${s.base64}\n`);
    const note = appendSignatures(`${cp.text}\n${logLines.join('')}`, [line]);
    this.#o.beforeSwap?.();
    if (!this.#o.store.compareAndSwap(origin, req.old, { size: cp.size, rootHash: cp.rootHash, note })) {
      const now = this.#o.store.latest(origin)?.size ?? 0n;
      throw new ConflictError(`old size ${req.old} is not the latest cosigned size ${now}`, now);
    }
    return line;
  }

  /** The monitoring path: the latest cosigned checkpoint of the log whose origin hashes to `originHash` (hex). */
  latestCheckpoint(originHash: string): string {
    const origin = this.#byHash.get(originHash);
    const rec = origin === undefined ? undefined : this.#o.store.latest(origin);
    if (rec === undefined) throw new NotFoundError('this witness never cosigned a checkpoint for that origin');
    return rec.note;
  }

  /** What this witness cosigns, for the monitor's dashboard: its name, and per log the latest cosigned size (absent before the first). */
  status(): { name: string; logs: Array<{ origin: string; size?: bigint }> } {
    return {
      name: this.#o.signer.name,
      logs: [...this.#logs.keys()].map((origin) => {
        const rec = this.#o.store.latest(origin);
        return rec === undefined ? { origin } : { origin, size: rec.size };
      }),
    };
  }

  #timestamp(): bigint {
    const now = Math.floor(this.#o.now?.() ?? Date.now() / 1000);
    return BigInt(Math.max(1, now));
  }
}

/** A WitnessStore in memory (tests, and a witness that persists elsewhere). */
export class MemoryWitnessStore implements WitnessStore {
  readonly records = new Map<string, WitnessRecord>();
  readonly conflicts: Array<{ origin: string; note: string; reason: string }> = [];
  latest(origin: string) {
    return this.records.get(origin);
  }
  compareAndSwap(origin: string, oldSize: bigint, next: WitnessRecord): boolean {
    if ((this.records.get(origin)?.size ?? 0n) !== oldSize) return false;
    this.records.set(origin, next);
    return true;
  }
  recordConflict(origin: string, note: string, reason: string): void {
    this.conflicts.push({ origin, note, reason });
  }
}
