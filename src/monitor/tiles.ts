/**
 * Reading a log through its tiles (c2sp.org/tlog-tiles, docs/formats.md §7) and
 * authenticating every tile against a signed root, so that the monitor
 * trusts the log for nothing but its signatures (ARCHITECTURE.md, monitor
 * invariant 1).
 *
 * - TileSource fetches hash tiles and entry bundles with bounded
 *   concurrency. A right-edge tile is asked for as the partial `.p/W`; once
 *   the tree has grown the log may serve only the full tile, whose first W
 *   hashes (entries) are the same, so that is tried next.
 * - SignedTree authenticates the tiles of one signed tree top-down, as Go's
 *   sumdb tlog does: the right-edge (partial) tiles of every level must fold
 *   to the signed root (RFC 9162 §2.1.1); a full tile at level L must hash
 *   to the entry its parent tile at level L+1 holds for it. A tile that
 *   fails is a root-mismatch SecurityFailure, never retried silently.
 * - checkConsistency computes the RFC 9162 §2.1.4 consistency proof from the
 *   newer tree's tiles (never from /v1/proof) in the docs/formats.md §9 form and
 *   tells a tile that does not reproduce the newer signed root
 *   (root-mismatch) from two signed trees that are not prefixes
 *   (inconsistent, with the evidence).
 */
import {
  consistencyProofAsync,
  consistencyRoots,
  EMPTY_ROOT,
  rootFromStoredAsync,
  TILE_WIDTH,
  tileHashReader,
  tilePath,
  entriesPath,
  tileWidth,
  treeHash,
  type TileId,
} from '../../merkle/index.js';
import { LogHttpError, UnreachableError } from '../client/log-client.js';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { bytesEqual } from '../encoding.js';
import { NotFoundError, PushbackError, VitrineError } from '../errors.js';
import { buildEvidence, verifyEvidence, type Evidence } from '../proof/index.js';
import type { Verifier } from '../note/index.js';
import { BundleFormatError, splitBundle } from './bundle.js';
import { OperationalFailure, SecurityFailure, type MissingTile } from './failures.js';

/** A checkpoint that carries a valid signature of the log key. */
export interface SignedCheckpoint {
  readonly note: string;
  readonly size: number;
  readonly root: Uint8Array;
}

/** A counting semaphore. */
class Limit {
  #free: number;
  readonly #queue: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#queue.push(r));
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

export interface TileSourceOptions {
  /** Requests in flight at most (default 8). */
  concurrency?: number;
  /** Called for each failed request (metrics). */
  onFetchError?: (kind: string) => void;
}

/** What TileSource needs from an HTTP client: GET a path relative to the log's URL (./http-get.ts, or LogClient). */
export interface Getter {
  readonly base: string;
  get(path: string): Promise<Uint8Array>;
}

export class TileSource {
  readonly client: Getter;
  readonly #limit: Limit;
  readonly #onFetchError: (kind: string) => void;

  constructor(client: Getter, opts: TileSourceOptions = {}) {
    this.client = client;
    this.#limit = new Limit(opts.concurrency ?? 8);
    this.#onFetchError = opts.onFetchError ?? (() => {});
  }

  get url(): string {
    return this.client.base;
  }

  /** GET one path. Failures become OperationalFailures, except 404 (NotFoundError) which callers handle. */
  async get(path: string): Promise<Uint8Array> {
    try {
      return await this.#limit.run(() => this.client.get(`/${path}`));
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      throw this.#operational(err, `GET /${path}`);
    }
  }

  async checkpoint(): Promise<string> {
    try {
      const body = await this.#limit.run(() => this.client.get('/checkpoint'));
      return new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch (err) {
      throw this.#operational(err, 'GET /checkpoint');
    }
  }

  #operational(err: unknown, what: string): OperationalFailure {
    if (err instanceof PushbackError && err.status === 429) {
      this.#onFetchError('rate-limited');
      return new OperationalFailure('rate-limited', `${what}: the log keeps answering 429 (rate limited)`);
    }
    const kind = err instanceof UnreachableError ? 'unreachable' : err instanceof LogHttpError || err instanceof PushbackError ? 'http' : err instanceof NotFoundError ? 'not-found' : 'other';
    this.#onFetchError(kind);
    const message = err instanceof VitrineError || err instanceof Error ? err.message : String(err);
    return new OperationalFailure('log-unreachable', `${what} failed: ${message}`);
  }

  /** Fetches a partial path, then the full one on 404; `cut` turns the full content into the partial one. */
  async #partialOrFull(tile: Omit<MissingTile, 'path'>, partial: string, full: string | undefined, cut: (data: Uint8Array) => Uint8Array, size: number): Promise<Uint8Array> {
    try {
      return await this.get(partial);
    } catch (err) {
      if (!(err instanceof NotFoundError) || full === undefined) throw this.#missing(err, { ...tile, path: partial }, size);
    }
    try {
      return cut(await this.get(full));
    } catch (err) {
      throw this.#missing(err, { ...tile, path: partial }, size);
    }
  }

  #missing(err: unknown, tile: MissingTile, size: number): unknown {
    if (!(err instanceof NotFoundError)) return err;
    this.#onFetchError('not-found');
    return new OperationalFailure('log-unreachable', `the log does not serve ${tile.path}, which its checkpoint of size ${size} covers`, tile);
  }

  /** Hash tile `t` (width as in the tree of `size`), checked to hold exactly t.width hashes. */
  async hashTile(t: TileId, size: number, note?: string): Promise<Uint8Array> {
    const path = tilePath(t);
    const tile = { level: t.level, index: Number(t.index), width: t.width };
    const data =
      t.width === TILE_WIDTH
        ? await this.#partialOrFull(tile, path, undefined, (d) => d, size)
        : await this.#partialOrFull(tile, path, tilePath({ ...t, width: TILE_WIDTH }), (d) => (d.length === TILE_WIDTH * 32 ? d.subarray(0, t.width * 32) : d), size);
    if (data.length !== t.width * 32) {
      throw new SecurityFailure('root-mismatch', path, `The log served ${path} as ${data.length} bytes, not the ${t.width} hashes its checkpoint of size ${size} needs.`, note === undefined ? {} : { checkpoint: note });
    }
    return data;
  }

  /** Entry bundle `index` of width `width` (the tree holds at least index·256 + width entries). */
  async bundle(index: number, width: number, size: number): Promise<Uint8Array> {
    const id = { index: BigInt(index), width };
    const path = entriesPath(id);
    const tile = { level: -1, index, width };
    if (width === TILE_WIDTH) return this.#partialOrFull(tile, path, undefined, (d) => d, size);
    return this.#partialOrFull(tile, path, entriesPath({ index: id.index, width: TILE_WIDTH }), (d) => {
      // The first `width` entries of the full bundle are the partial bundle.
      try {
        const { ends } = splitBundle(d, TILE_WIDTH);
        return d.subarray(0, ends[width - 1]);
      } catch (err) {
        if (err instanceof BundleFormatError) return d;
        throw err;
      }
    }, size);
  }
}

/** The hashes of a tile as a list of 32-byte views. */
function hashesOf(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += 32) out.push(data.subarray(o, o + 32));
  return out;
}

/**
 * The tiles of one signed tree, each authenticated before use. Holds the
 * right-edge tiles (at most one per level) and, per level, the last two
 * full tiles it authenticated: bounded memory whatever the log's size.
 */
export class SignedTree {
  readonly checkpoint: SignedCheckpoint;
  readonly #source: TileSource;
  readonly #tiles = new Map<string, Promise<Uint8Array>>();
  readonly #recent = new Map<number, string[]>();

  private constructor(source: TileSource, checkpoint: SignedCheckpoint) {
    this.#source = source;
    this.checkpoint = checkpoint;
  }

  get size(): number {
    return this.checkpoint.size;
  }

  /** Fetches the right-edge tiles and checks that they fold to the signed root. */
  static async open(source: TileSource, checkpoint: SignedCheckpoint): Promise<SignedTree> {
    const tree = new SignedTree(source, checkpoint);
    const { size, root, note } = checkpoint;
    if (size === 0) {
      if (!bytesEqual(root, EMPTY_ROOT)) throw new SecurityFailure('root-mismatch', 'empty-root', 'The log signed an empty tree whose root is not SHA-256 of the empty string.', { checkpoint: note });
      return tree;
    }
    const got = await rootFromStoredAsync(size, tileHashReader(size, async (tiles) => {
      return Promise.all(tiles.map((t) => {
        const p = source.hashTile(t, size, note);
        tree.#tiles.set(tilePath(t), p);
        return p;
      }));
    }));
    if (!bytesEqual(got, root)) {
      const paths = [...tree.#tiles.keys()].join(', ');
      throw new SecurityFailure('root-mismatch', `edge/${size}/${paths}`, `The log's right-edge tiles for its tree of size ${size} (${paths}) do not hash to the root it signed.`, { checkpoint: note });
    }
    return tree;
  }

  /** Authenticated hash tile (level, index) of this tree. */
  tile(level: number, index: number): Promise<Uint8Array> {
    const width = tileWidth(level, index, this.size);
    if (width === 0) throw new Error(`tile ${level}/${index} is not in a tree of ${this.size}`);
    const path = tilePath({ level, index: BigInt(index), width });
    const known = this.#tiles.get(path);
    if (known !== undefined) return known;
    // Every partial tile of this tree is on its right edge, fetched and checked by open().
    if (width < TILE_WIDTH) throw new Error(`partial tile ${path} was not authenticated with the edge`);
    const p = this.#fetchFull(level, index, path);
    this.#tiles.set(path, p);
    p.catch(() => this.#tiles.delete(path));
    const recent = this.#recent.get(level) ?? [];
    recent.push(path);
    if (recent.length > 2) this.#tiles.delete(recent.shift()!);
    this.#recent.set(level, recent);
    return p;
  }

  async #fetchFull(level: number, index: number, path: string): Promise<Uint8Array> {
    const data = await this.#source.hashTile({ level, index: BigInt(index), width: TILE_WIDTH }, this.size, this.checkpoint.note);
    const parent = await this.tile(level + 1, Math.floor(index / TILE_WIDTH));
    const at = (index % TILE_WIDTH) * 32;
    if (!bytesEqual(treeHash(hashesOf(data)), parent.subarray(at, at + 32))) {
      throw new SecurityFailure('root-mismatch', path, `Tile ${path} does not hash to the value its parent tile holds, which the log's signed root of size ${this.size} authenticates.`, { checkpoint: this.checkpoint.note });
    }
    return data;
  }

  /** The authenticated hash of the level-8 subtree over entries [256k, 256k + 256). */
  async subtreeHash(k: number): Promise<Uint8Array> {
    const t = await this.tile(1, Math.floor(k / TILE_WIDTH));
    const at = (k % TILE_WIDTH) * 32;
    return t.subarray(at, at + 32);
  }

  /** The authenticated level-0 tile of bundle k (its leaf hashes). */
  leafTile(k: number): Promise<Uint8Array> {
    return this.tile(0, k);
  }
}

/**
 * Checks that the signed tree `older` is a prefix of the signed tree
 * `newer` (older.size < newer.size), with the proof computed from the
 * newer tree's tiles. Throws SecurityFailure: root-mismatch when those
 * tiles do not reproduce the newer signed root, inconsistent (with §9
 * evidence) when they do but the older root differs.
 */
export async function checkConsistency(source: TileSource, origin: string, older: SignedCheckpoint, newer: SignedCheckpoint, logKey: Verifier): Promise<void> {
  const m = older.size;
  const n = newer.size;
  if (m === 0) return;
  if (m >= n) throw new Error(`checkConsistency: ${m} is not below ${n}`);
  const read = tileHashReader(n, (tiles) => Promise.all(tiles.map((t) => source.hashTile(t, n, newer.note))));
  const proof = await consistencyProofAsync(m, n, read, { prependFirstRoot: false });
  const roots = consistencyRoots(m, n, proof, { prependFirstRoot: false });
  if (!bytesEqual(roots.rootN, newer.root)) {
    throw new SecurityFailure('root-mismatch', `consistency/${m}/${n}`, `The log's tiles for its tree of size ${n} do not hash to the root it signed (checked while proving consistency with size ${m}).`, { checkpoint: newer.note });
  }
  if (!bytesEqual(roots.rootM, older.root)) {
    const evidence = buildEvidence(origin, older.note, newer.note, proof, [{ from: source.url, at: new Date().toISOString() }]);
    assertEvidence(evidence, logKey);
    throw new SecurityFailure('inconsistent', `${m}:${hex(older.root)}/${n}:${hex(newer.root)}`, `The log signed a tree of size ${n} that does not extend the tree of size ${m} it signed before.`, { checkpoint: newer.note, evidence });
  }
}

/** Two signed checkpoints of the same size with different roots. */
export function sameSizeConflict(origin: string, a: SignedCheckpoint, b: SignedCheckpoint, from: string, logKey: Verifier): SecurityFailure {
  const evidence = buildEvidence(origin, a.note, b.note, [], [{ from, at: new Date().toISOString() }]);
  assertEvidence(evidence, logKey);
  return new SecurityFailure('inconsistent', `${a.size}:${hex(a.root)}/${b.size}:${hex(b.root)}`, `The log signed two different trees of the same size ${a.size}.`, { checkpoint: b.note, evidence });
}

/** Evidence we publish must check out with the log key alone; anything else is a bug here. */
function assertEvidence(evidence: Evidence, logKey: Verifier): void {
  const r = verifyEvidence(evidence, logKey, nodeEd25519);
  if (!r.ok) throw new Error(`internal: built evidence that does not verify: ${r.message}`);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
