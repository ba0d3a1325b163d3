/**
 * c2sp.org/tlog-tiles coordinates (docs/formats.md §7): hash tiles of height 8,
 * so the tile at tile-level L, index N, position i holds the stored node
 * {level: 8L, index: 256N + i}; a partial tile holds the first W (1..255)
 * of those that exist. Paths are `tile/<L>/<N>[.p/<W>]` and
 * `tile/entries/<N>[.p/<W>]`, N written in 3-digit groups, all but the last
 * prefixed with `x` (1234067 → x001/x234/067). Only canonical paths parse.
 *
 * Stored nodes of levels between tile levels (8L+k, 0 < k < 8) are not in
 * any tile: they are the Merkle tree hash of 2^k consecutive tile entries
 * (Go's tlog.HashFromTile). tileHashReader turns a tile fetcher into the
 * `read` function merkle/proof.ts takes, so proofs are computed from tiles
 * with the same planner as from a database.
 */
import { MalformedError } from '../src/errors.js';
import { _fn, _pow2, _u63, MAX_SIZE } from './_check.js';
import { _loadWords, _nodeWords, _storeWords } from './_sha256.js';
import { HASH_SIZE, type Hash } from './hash.js';
import type { ReadHashesAsync } from './proof.js';
import { _node, type NodeId } from './tree.js';

/** Tree levels per tile. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (and entries in a full bundle). */
export const TILE_WIDTH = 256;

const WIDTH = 256n;

/** A hash tile: tile-level (0..63), index, width (1..255 partial, 256 full). */
export interface TileId {
  readonly level: number;
  readonly index: bigint;
  readonly width: number;
}

/** An entry bundle: index and width (1..255 partial, 256 full). */
export interface BundleId {
  readonly index: bigint;
  readonly width: number;
}

/** Where a stored node sits: it is the MTH of tile entries [start, start + count). */
export interface TileSlot {
  readonly tile: TileId;
  readonly start: number;
  readonly count: number;
}

/** Fetches tiles, answering with their contents in the order asked. */
export type ReadTiles = (tiles: readonly TileId[]) => Promise<readonly Uint8Array[]>;

function tileLevel(x: unknown, name: string): number {
  if (typeof x !== 'number') throw new TypeError(`${name}: expected a number`);
  if (!Number.isInteger(x) || x < 0 || x > 63) throw new MalformedError(`${name}: ${x} is not a tile level in 0..63`);
  return x;
}

function width(x: unknown, name: string): number {
  if (typeof x !== 'number') throw new TypeError(`${name}: expected a number`);
  if (!Number.isInteger(x) || x < 1 || x > TILE_WIDTH) throw new MalformedError(`${name}: ${x} is not a width in 1..256`);
  return x;
}

function checkTile(x: unknown, name: string): TileId {
  if (typeof x !== 'object' || x === null) throw new TypeError(`${name}: expected a TileId`);
  const t = x as TileId;
  tileLevel(t.level, `${name}.level`);
  if (typeof t.index !== 'bigint') throw new TypeError(`${name}.index: expected a bigint`);
  _u63(t.index, `${name}.index`);
  width(t.width, `${name}.width`);
  return t;
}

function checkBundle(x: unknown, name: string): BundleId {
  if (typeof x !== 'object' || x === null) throw new TypeError(`${name}: expected a BundleId`);
  const b = x as BundleId;
  if (typeof b.index !== 'bigint') throw new TypeError(`${name}.index: expected a bigint`);
  _u63(b.index, `${name}.index`);
  width(b.width, `${name}.width`);
  return b;
}

function str(x: unknown, name: string): string {
  if (typeof x !== 'string') throw new TypeError(`${name}: expected a string`);
  return x;
}

/** Encodes a tile index N as 3-digit groups, all but the last prefixed with `x`. */
export function tileIndexPath(n: number | bigint): string {
  const digits = _u63(n, 'n').toString();
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups: string[] = [];
  for (let i = 0; i < padded.length; i += 3) groups.push(padded.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const INDEX_PATH = /^(?:x[0-9]{3}\/){0,6}[0-9]{3}$/;

/** Parses a canonical tile index path (`x001/x234/067`); throws MalformedError naming `name`. */
export function parseTileIndexPath(path: string, name = 'path'): bigint {
  str(path, name);
  if (!INDEX_PATH.test(path)) throw new MalformedError(`${name}: ${JSON.stringify(path.slice(0, 40))} is not a tile index (3-digit groups, all but the last prefixed with x)`);
  const value = BigInt(path.replace(/[x/]/g, ''));
  if (value > MAX_SIZE) throw new MalformedError(`${name}: tile index ${value} exceeds 2^63-1`);
  if (tileIndexPath(value) !== path) throw new MalformedError(`${name}: ${JSON.stringify(path)} is not canonical (no leading x000 group)`);
  return value;
}

function suffix(w: number): string {
  return w === TILE_WIDTH ? '' : `.p/${w}`;
}

/** `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(tile: TileId): string {
  checkTile(tile, 'tile');
  return `tile/${tile.level}/${tileIndexPath(tile.index)}${suffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function entriesPath(bundle: BundleId): string {
  checkBundle(bundle, 'bundle');
  return `tile/entries/${tileIndexPath(bundle.index)}${suffix(bundle.width)}`;
}

const TILE_PATH = /^tile\/(0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,6}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;
const ENTRIES_PATH = /^tile\/entries\/((?:x[0-9]{3}\/){0,6}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;
/** Longest canonical path: `tile/entries/` + 33 + `.p/255`. */
const MAX_PATH = 64;

function parseWidth(w: string | undefined, path: string): number {
  if (w === undefined) return TILE_WIDTH;
  const n = Number(w);
  if (n > 255) throw new MalformedError(`path: partial width ${w} in ${JSON.stringify(path)} is not in 1..255`);
  return n;
}

/** A parsed path: a hash tile, or (`entries: true`) an entry bundle. */
export type TilePath = (TileId & { readonly entries: false }) | (BundleId & { readonly entries: true });

/**
 * Parses a canonical `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`
 * (no leading slash). Anything else, including non-canonical spellings of
 * a valid tile, throws MalformedError.
 */
export function parseTilePath(path: string): TilePath {
  str(path, 'path');
  if (path.length <= MAX_PATH) {
    const e = ENTRIES_PATH.exec(path);
    if (e !== null) return { entries: true, index: parseTileIndexPath(e[1]!), width: parseWidth(e[2], path) };
    const m = TILE_PATH.exec(path);
    if (m !== null) {
      const level = Number(m[1]);
      if (level > 63) throw new MalformedError(`path: tile level ${level} is not in 0..63`);
      return { entries: false, level, index: parseTileIndexPath(m[2]!), width: parseWidth(m[3], path) };
    }
  }
  throw new MalformedError(`path: ${JSON.stringify(path.slice(0, MAX_PATH))} is not a canonical tile path tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]`);
}

/** Stored nodes of tree level 8L in a tree of n leaves (none from tile level 8 up: n < 2^64). */
function nodesAtTileLevel(level: number, n: bigint): bigint {
  return level >= 8 ? 0n : n / _pow2(TILE_HEIGHT * level);
}

/**
 * Width of tile (level, index) in the tree of `size` leaves: 256 if full,
 * 1..255 if partial, 0 if the tree has no such tile. The same for entry
 * bundles at level 0.
 */
export function tileWidth(level: number, index: number | bigint, size: number | bigint): number {
  tileLevel(level, 'level');
  const k = _u63(index, 'index');
  const count = nodesAtTileLevel(level, _u63(size, 'size'));
  const first = k * WIDTH;
  if (count <= first) return 0;
  return count - first >= WIDTH ? TILE_WIDTH : Number(count - first);
}

/**
 * Every tile of the tree of `size` leaves, level by level and left to
 * right: the full tiles, then the partial right-edge tile of that level (if
 * any) with its width. Lazy, since a large tree has very many tiles.
 */
export function* tilesForSize(size: number | bigint): Generator<TileId, void, undefined> {
  const n = _u63(size, 'size');
  for (let level = 0; ; level++) {
    const count = nodesAtTileLevel(level, n);
    if (count === 0n) return;
    const full = count / WIDTH;
    for (let index = 0n; index < full; index++) yield { level, index, width: TILE_WIDTH };
    const w = Number(count % WIDTH);
    if (w > 0) yield { level, index: full, width: w };
  }
}

/** The partial right-edge tiles of the tree of `size` leaves, one per level that has one, lowest level first. */
export function partialTilesForSize(size: number | bigint): TileId[] {
  const n = _u63(size, 'size');
  const tiles: TileId[] = [];
  for (let level = 0; ; level++) {
    const count = nodesAtTileLevel(level, n);
    if (count === 0n) return tiles;
    const w = Number(count % WIDTH);
    if (w > 0) tiles.push({ level, index: count / WIDTH, width: w });
  }
}

/** The stored nodes a tile holds, in tile order: {level: 8L, index: 256N + i} for i < width. */
export function tileNodes(tile: TileId): NodeId[] {
  checkTile(tile, 'tile');
  const level = TILE_HEIGHT * tile.level;
  const first = tile.index * WIDTH;
  if (level > 62 || (first + BigInt(tile.width)) * _pow2(level) > MAX_SIZE) {
    throw new MalformedError(`tile: tile ${tilePath(tile)} lies beyond any tree of 2^63-1 leaves`);
  }
  const nodes: NodeId[] = [];
  for (let i = 0; i < tile.width; i++) nodes.push({ level, index: first + BigInt(i) });
  return nodes;
}

/** Tile level, tile index, start position and count of the entries under a node; no size checks. */
function locate(node: NodeId): { level: number; index: bigint; start: number; count: number } {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const k = node.level % TILE_HEIGHT;
  const count = 2 ** k;
  const first = node.index * BigInt(count);
  return { level, index: first / WIDTH, start: Number(first % WIDTH), count };
}

/**
 * The tile of the tree of `size` leaves that holds (or, for levels between
 * tile levels, covers) a stored node: its width is the tile's width in that
 * tree, so it is the tile to fetch. Throws MalformedError if the node is
 * not complete in that tree.
 */
export function tileForNode(node: NodeId, size: number | bigint): TileSlot {
  _node(node, 'node');
  const n = _u63(size, 'size');
  if ((node.index + 1n) * _pow2(node.level) > n) throw new MalformedError(`node: (${node.level}, ${node.index}) is not a complete subtree of a tree of ${n} leaves`);
  const at = locate(node);
  return { tile: { level: at.level, index: at.index, width: tileWidth(at.level, at.index, n) }, start: at.start, count: at.count };
}

/**
 * The hash of a stored node from the contents of a tile that covers it: a
 * tile entry for levels 8L, the Merkle tree hash of 2^k consecutive entries
 * for level 8L+k. Throws MalformedError if the data is not `width` hashes or
 * the tile does not cover the node.
 */
export function hashFromTile(tile: TileId, data: Uint8Array, node: NodeId): Hash {
  checkTile(tile, 'tile');
  if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
  if (data.length !== tile.width * HASH_SIZE) throw new MalformedError(`data: tile ${tilePath(tile)} must be ${tile.width * HASH_SIZE} bytes, got ${data.length}`);
  _node(node, 'node');
  const at = locate(node);
  if (at.level !== tile.level || at.index !== tile.index || at.start + at.count > tile.width) {
    throw new MalformedError(`node: (${node.level}, ${node.index}) is not covered by tile ${tilePath(tile)}`);
  }
  if (at.count === 1) return data.slice(at.start * HASH_SIZE, (at.start + 1) * HASH_SIZE);
  const words = new Int32Array(at.count * 8);
  for (let i = 0; i < at.count; i++) _loadWords(data.subarray((at.start + i) * HASH_SIZE), words, i * 8);
  // A complete subtree of 2^k entries: hash neighbours pairwise, level by level.
  for (let c = at.count; c > 1; c /= 2) {
    for (let i = 0; i < c / 2; i++) _nodeWords(words, 2 * i * 8, words, (2 * i + 1) * 8, words, i * 8);
  }
  return _storeWords(words, 0);
}

/**
 * A `read` function for merkle/proof.ts that serves stored nodes of the
 * tree of `size` leaves from its tiles, fetching each tile it needs once
 * per call. Tile contents are not authenticated here: verify what you
 * compute from them against a signed root (a proof built from forged
 * hashes does not verify).
 */
export function tileHashReader(size: number | bigint, readTiles: ReadTiles): ReadHashesAsync {
  const n = _u63(size, 'size');
  _fn(readTiles, 'readTiles');
  return async (ids) => {
    if (!Array.isArray(ids)) throw new TypeError('ids: expected an array of NodeId');
    const slots = ids.map((id) => tileForNode(id, n));
    const order = new Map<string, number>();
    const tiles: TileId[] = [];
    const where = slots.map((s) => {
      const key = tilePath(s.tile);
      let at = order.get(key);
      if (at === undefined) {
        at = tiles.length;
        order.set(key, at);
        tiles.push(s.tile);
      }
      return at;
    });
    const data = await readTiles(tiles);
    if (!Array.isArray(data) || data.length !== tiles.length) throw new MalformedError(`readTiles: expected ${tiles.length} tiles, got ${Array.isArray(data) ? data.length : typeof data}`);
    return slots.map((s, i) => hashFromTile(s.tile, data[where[i]!] as Uint8Array, ids[i]!));
  };
}

/** An entry bundle is not `width` well-framed entries. */
export class BundleFormatError extends Error {
  override name = 'BundleFormatError';
}

/**
 * Byte offsets of the entries of an entry bundle (c2sp.org/tlog-tiles: each
 * entry is a uint16 big-endian length and that many bytes, `width` of them
 * and nothing after): entry i is data[starts[i], ends[i]).
 */
export function splitBundle(data: Uint8Array, width: number): { starts: Uint32Array; ends: Uint32Array } {
  const starts = new Uint32Array(width);
  const ends = new Uint32Array(width);
  let o = 0;
  for (let i = 0; i < width; i++) {
    if (o + 2 > data.length) throw new BundleFormatError(`holds ${i} entries, want ${width}`);
    const len = data[o]! * 256 + data[o + 1]!;
    if (o + 2 + len > data.length) throw new BundleFormatError(`entry ${i} is cut short (${len} bytes announced, ${data.length - o - 2} left)`);
    starts[i] = o + 2;
    ends[i] = o + 2 + len;
    o += 2 + len;
  }
  if (o !== data.length) throw new BundleFormatError(`${data.length - o} bytes follow its ${width} entries`);
  return { starts, ends };
}
