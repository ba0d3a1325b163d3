/**
 * c2sp.org/tlog-tiles coordinates (docs/formats.md §7) against
 * vectors/tiles/tiles.json, canonical path parsing (with a fuzz test), and
 * proofs computed from tiles equal to proofs computed from stored nodes.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  consistencyProof,
  consistencyProofAsync,
  entriesPath,
  hashFromTile,
  inclusionProof,
  inclusionProofAsync,
  parseTileIndexPath,
  parseTilePath,
  partialTilesForSize,
  rootFromStored,
  rootFromStoredAsync,
  TILE_HEIGHT,
  TILE_WIDTH,
  tileForNode,
  tileHashReader,
  tileIndexPath,
  tileNodes,
  tilePath,
  tilesForSize,
  tileWidth,
  type TileId,
} from '../../merkle/index.js';
import { MalformedError } from '../../src/errors.js';
import { buildTree, hex, loadVectors, mth, vectorLeafHashes } from './reference.js';
import { rootPath } from '../_root.js';

interface Tiles {
  indexes: { n: number | string; path: string }[];
  sizes: { size: number; tiles: string[] }[];
}
const vectors = loadVectors<Tiles>('tiles/tiles.json');

t.test('constants', async (t) => {
  t.equal(TILE_HEIGHT, 8, 'height 8');
  t.equal(TILE_WIDTH, 256, '256 hashes per tile');
});

t.test('tile index encoding (tiles.json indexes)', async (t) => {
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(rootPath('vectors/tiles/tiles.json'), 'utf8');
  // JSON.parse turns 9223372036854775807 into a lossy number: read the indexes from the text.
  const exact = [...text.matchAll(/"n": (\d+),\s*"path": "([^"]+)"/g)].map((m) => [BigInt(m[1]!), m[2]!] as const);
  t.equal(exact.length, vectors.indexes.length, 'every index case read exactly');
  for (const [n, path] of exact) {
    t.equal(tileIndexPath(n), path, `encode ${n}`);
    t.equal(parseTileIndexPath(path), n, `parse ${path}`);
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) t.equal(tileIndexPath(Number(n)), path, `encode ${n} as a number`);
  }
  t.ok(exact.some(([n]) => n === 2n ** 63n - 1n), 'the 2^63-1 case is there');
});

t.test('tiles served per size (tiles.json sizes)', async (t) => {
  for (const c of vectors.sizes) {
    const paths: string[] = [];
    const expand = (tile: TileId): void => {
      if (tile.width === TILE_WIDTH) paths.push(tilePath(tile));
      // Every smaller width of the current partial tile was served at an earlier size.
      else for (let w = 1; w <= tile.width; w++) paths.push(tilePath({ ...tile, width: w }));
    };
    if (c.size <= 70000) {
      for (const tile of tilesForSize(c.size)) expand(tile);
    } else {
      for (const tile of partialTilesForSize(c.size)) expand(tile);
    }
    t.same(paths, c.tiles, `size ${c.size}: ${c.tiles.length} tiles in order`);
    const partial = [...tilesForSize(Math.min(c.size, 70000))].filter((x) => x.width < TILE_WIDTH);
    if (c.size <= 70000) t.same(partial, partialTilesForSize(c.size), `size ${c.size}: tilesForSize ends each level with partialTilesForSize`);
    for (const p of c.tiles) {
      const back = parseTilePath(p);
      t.equal(back.entries ? entriesPath(back) : tilePath(back), p, `${p} round-trips`);
    }
  }
});

t.test('spec example: a tree of 70,000', async (t) => {
  t.equal(tileWidth(0, 272, 70000), 256, 'level 0 tile 272 is full');
  t.equal(tileWidth(0, 273, 70000), 112, 'level 0 tile 273 has 112');
  t.equal(tileWidth(0, 274, 70000), 0, 'level 0 tile 274 does not exist');
  t.equal(tileWidth(1, 0, 70000), 256, 'level 1 tile 0 is full');
  t.equal(tileWidth(1, 1, 70000), 17, 'level 1 tile 1 has 17');
  t.equal(tileWidth(2, 0, 70000), 1, 'level 2 tile 0 has 1');
  t.equal(tileWidth(3, 0, 70000), 0, 'no level 3 tile');
  t.equal(tileWidth(7, 0, 2n ** 63n - 1n), 127, 'tile 7/0 of the largest tree holds 127 hashes');
  t.equal(tileWidth(8, 0, 2n ** 63n - 1n), 0, 'no tree has a level 8 tile');
  t.equal(tileWidth(63, 0, 2n ** 63n - 1n), 0, 'nor a level 63 tile');
  t.throws(() => tileWidth(64, 0, 1), MalformedError, 'level 64 is not a tile level');
  t.same(partialTilesForSize(256), [{ level: 1, index: 0n, width: 1 }], 'size 256: one partial level 1 tile of width 1');
  t.same(partialTilesForSize(0), [], 'the empty tree has no tiles');
  t.same([...tilesForSize(0)], [], 'the empty tree has no tiles');
  t.equal([...tilesForSize(2 ** 16)].length, 256 + 1 + 1, '2^16: 256 + 1 full tiles and one partial');
  const top = partialTilesForSize(2n ** 63n - 1n);
  t.equal(top.length, 8, '2^63-1 has a partial tile at each of tile levels 0..7');
  t.same(top[7], { level: 7, index: 0n, width: 127 }, 'the top tile holds 127 hashes of level 56');
});

t.test('paths', async (t) => {
  t.equal(tilePath({ level: 0, index: 1234067n, width: 256 }), 'tile/0/x001/x234/067', 'full tile');
  t.equal(tilePath({ level: 2, index: 0n, width: 1 }), 'tile/2/000.p/1', 'partial tile');
  t.equal(entriesPath({ index: 1000n, width: 255 }), 'tile/entries/x001/000.p/255', 'partial bundle');
  t.equal(entriesPath({ index: 5n, width: 256 }), 'tile/entries/005', 'full bundle');
  t.same(parseTilePath('tile/entries/x001/000.p/255'), { entries: true, index: 1000n, width: 255 }, 'parse a bundle');
  t.same(parseTilePath('tile/63/x009/x223/x372/x036/x854/x775/807'), { entries: false, level: 63, index: 2n ** 63n - 1n, width: 256 }, 'largest level and index');
  t.throws(() => tilePath({ level: 0, index: 0n, width: 0 }), MalformedError, 'width 0');
  t.throws(() => tilePath({ level: 64, index: 0n, width: 1 }), MalformedError, 'level 64');
  t.throws(() => tilePath({ level: 0, index: -1n, width: 1 }), MalformedError, 'negative index');
  t.throws(() => tilePath({ level: 0, index: 1 as unknown as bigint, width: 1 }), TypeError, 'number index in a TileId');
  t.throws(() => tileIndexPath(2n ** 63n), MalformedError, 'index 2^63');
});

const NON_CANONICAL = [
  '',
  'tile',
  'tile/',
  'tile/0',
  'tile/0/',
  '/tile/0/000',
  'tile/0/000/',
  'tile//000',
  'tile/0/1',
  'tile/0/01',
  'tile/0/0000',
  'tile/00/000',
  'tile/01/000',
  'tile/64/000',
  'tile/99/000',
  'tile/100/000',
  'tile/-1/000',
  'tile/+1/000',
  'tile/0/x000/001',
  'tile/0/x000/x001/000',
  'tile/0/001/002',
  'tile/0/X001/002',
  'tile/0/x001/x002',
  'tile/0/xx01/002',
  'tile/0/x1000/000',
  'tile/0/x01/000',
  'tile/0/x009/x223/x372/x036/x854/x775/808',
  'tile/0/x001/x000/x000/x000/x000/x000/x000/000',
  'tile/0/000.p/0',
  'tile/0/000.p/00',
  'tile/0/000.p/01',
  'tile/0/000.p/256',
  'tile/0/000.p/999',
  'tile/0/000.p/1000',
  'tile/0/000.p/',
  'tile/0/000.p',
  'tile/0/000.p/1/',
  'tile/0/000.P/1',
  'tile/0/000.p/+1',
  'tile/0/000.p/-1',
  'tile/0/000.p/1.0',
  'tile/0/000.q/1',
  'tile/0/000p/1',
  'tile/0/x001/000.p/1/000',
  'tile/entries/000.p/256',
  'tile/entries/000.p/0',
  'tile/entries/x000/000',
  'tile/entries/',
  'tile/entries',
  'tile/data/000',
  'tile/8/entries/000',
  'tile/0/ 001',
  'tile/0/001 ',
  ' tile/0/001',
  'tile/0/001\n',
  'tile/0/００１',
  'tile/0/٠٠١',
  'TILE/0/000',
  'tile\\0\\000',
  'tile/0/000?x',
  'tile/0/000#',
  'tile/0/%30%30%30',
  'tile/0/../0/000',
  'tile/0/./000',
  'tile/0/000'.padEnd(200, '0'),
];

t.test('non-canonical paths are refused with MalformedError', async (t) => {
  for (const p of NON_CANONICAL) t.throws(() => parseTilePath(p), MalformedError, `refuses ${JSON.stringify(p.slice(0, 60))}`);
  for (const p of ['000.', 'x001', 'x001/', '/001', '1000', '', 'x000/000', 'x001/x002', '00a']) {
    t.throws(() => parseTileIndexPath(p), MalformedError, `index path ${JSON.stringify(p)} refused`);
  }
  t.throws(() => parseTilePath(42 as unknown as string), TypeError, 'a number is a TypeError');
});

t.test('fuzz: the parser only ever returns a canonical tile or throws MalformedError', async (t) => {
  const alphabet = fc.constantFrom(...'tile/entrsx.p0123456789-+ \\٠'.split(''));
  const valid = fc.oneof(
    fc.record({ level: fc.integer({ min: 0, max: 63 }), index: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), width: fc.integer({ min: 1, max: 256 }) }).map((x) => tilePath(x)),
    fc.record({ index: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), width: fc.integer({ min: 1, max: 256 }) }).map((x) => entriesPath(x)),
  );
  const mutated = fc.tuple(valid, fc.nat(), fc.string({ unit: alphabet, maxLength: 3 }), fc.nat({ max: 3 })).map(([p, at, ins, del]) => {
    const i = at % (p.length + 1);
    return p.slice(0, i) + ins + p.slice(i + del);
  });
  const input = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: alphabet, maxLength: 60 }), mutated, valid);
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(input, (p) => {
        let tile;
        try {
          tile = parseTilePath(p);
        } catch (err) {
          if (err instanceof MalformedError) return;
          throw err;
        }
        const back = tile.entries ? entriesPath(tile) : tilePath(tile);
        if (back !== p) throw new Error(`${JSON.stringify(p)} parsed but re-encodes as ${back}`);
      }),
      { numRuns: 20000 },
    ),
  'no crash, no non-canonical acceptance');
});

t.test('coordinates of any tile and any size: answers or MalformedError, nothing else', async (t) => {
  const tile = fc.record({ level: fc.integer({ min: 0, max: 63 }), index: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), width: fc.integer({ min: 1, max: 256 }) });
  const node = fc.record({ level: fc.integer({ min: 0, max: 62 }), index: fc.bigInt({ min: 0n, max: 2n ** 63n - 2n }) });
  const size = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });
  const malformedOr = (f: () => unknown): void => {
    try {
      f();
    } catch (err) {
      if (!(err instanceof MalformedError)) throw err;
    }
  };
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(tile, node, size, (x, id, n) => {
        const w = tileWidth(x.level, x.index, n);
        if (!(Number.isInteger(w) && w >= 0 && w <= 256)) throw new Error(`width ${w}`);
        malformedOr(() => tileNodes(x));
        malformedOr(() => tileForNode(id, n));
        malformedOr(() => hashFromTile(x, new Uint8Array(x.width * 32), id));
      }),
      { numRuns: 3000 },
    ),
  'no crash');
});

t.test('tileForNode and tileNodes', async (t) => {
  t.same(tileForNode({ level: 0, index: 300n }, 70000), { tile: { level: 0, index: 1n, width: 256 }, start: 44, count: 1 }, 'leaf 300');
  t.same(tileForNode({ level: 8, index: 260n }, 70000), { tile: { level: 1, index: 1n, width: 17 }, start: 4, count: 1 }, 'level 8 node 260 in the partial level 1 tile');
  t.throws(() => tileForNode({ level: 8, index: 273n }, 70000), MalformedError, 'level 8 node 273 is not complete at 70000');
  t.same(tileForNode({ level: 3, index: 40n }, 70000), { tile: { level: 0, index: 1n, width: 256 }, start: 64, count: 8 }, 'level 3 covers 8 entries');
  t.same(tileForNode({ level: 7, index: 1n }, 256), { tile: { level: 0, index: 0n, width: 256 }, start: 128, count: 128 }, 'level 7 covers half a tile');
  t.same(tileForNode({ level: 62, index: 0n }, 2n ** 63n - 1n), { tile: { level: 7, index: 0n, width: 127 }, start: 0, count: 64 }, 'level 62 from the top tile');
  t.throws(() => tileForNode({ level: 0, index: 10n }, 10), MalformedError, 'a leaf beyond the tree');
  t.throws(() => tileForNode({ level: 1, index: 4n }, 9), MalformedError, 'a subtree not complete in the tree');
  t.throws(() => tileForNode({ level: 63, index: 0n }, 5), MalformedError, 'level 63');
  t.same(tileNodes({ level: 0, index: 1n, width: 3 }).map((n) => [n.level, n.index]), [[0, 256n], [0, 257n], [0, 258n]], 'a partial level 0 tile');
  t.same(tileNodes({ level: 2, index: 0n, width: 1 }), [{ level: 16, index: 0n }], 'a level 2 tile');
  t.throws(() => tileNodes({ level: 8, index: 0n, width: 1 }), MalformedError, 'tile level 8 is beyond any tree');
});

t.test('proofs from tiles equal proofs from stored nodes', async (t) => {
  const N = 70000;
  const leaves = vectorLeafHashes(N);
  const { store } = buildTree(leaves);
  const fetched: string[] = [];
  let size = 0;
  /** A tile server for the tree of `size`: only tiles that exist at that size, exactly as wide. */
  const readTiles = async (tiles: readonly TileId[]): Promise<Uint8Array[]> =>
    tiles.map((tile) => {
      if (tileWidth(tile.level, tile.index, size) !== tile.width) throw new Error(`${tilePath(tile)} is not served at size ${size}`);
      fetched.push(tilePath(tile));
      return Buffer.concat(store.read(tileNodes(tile)));
    });
  const sizes = [1, 2, 3, 255, 256, 257, 511, 512, 4096, 65535, 65536, 65537, 69999, N];
  for (const s of sizes) {
    size = s;
    const read = tileHashReader(s, readTiles);
    t.equal(hex(await rootFromStoredAsync(s, read)), hex(rootFromStored(s, store.read)), `root of ${s} from tiles`);
    for (const i of [0, Math.floor(s / 3), s - 1]) {
      t.same((await inclusionProofAsync(i, s, read)).map(hex), inclusionProof(i, s, store.read).map(hex), `inclusion ${i} in ${s} from tiles`);
    }
    for (const m of [1, Math.max(1, Math.floor(s / 2)), s]) {
      t.same((await consistencyProofAsync(m, s, read)).map(hex), consistencyProof(m, s, store.read).map(hex), `consistency ${m} -> ${s} from tiles`);
    }
  }
  size = 300;
  fetched.length = 0;
  await inclusionProofAsync(5, 300, tileHashReader(300, readTiles));
  t.same(fetched, ['tile/0/000', 'tile/0/001.p/44'], 'each tile fetched once per call');
  const tile0 = { level: 0, index: 0n, width: 256 };
  const data0 = Buffer.concat(leaves.slice(0, 256));
  t.equal(hex(hashFromTile(tile0, data0, { level: 7, index: 1n })), hex(mth(leaves.slice(128, 256))), 'level 7 node 1 from tile/0/000');
  t.equal(hex(hashFromTile(tile0, data0, { level: 2, index: 5n })), hex(mth(leaves.slice(20, 24))), 'level 2 node 5 from tile/0/000');
  t.equal(hex(hashFromTile(tile0, data0, { level: 0, index: 255n })), hex(leaves[255]!), 'leaf 255 from tile/0/000');
  t.throws(() => hashFromTile(tile0, data0, { level: 8, index: 0n }), MalformedError, 'level 8 is in a level 1 tile, not in tile/0/000');
  t.throws(() => hashFromTile(tile0, data0, { level: 0, index: 256n }), MalformedError, 'leaf 256 is not in tile/0/000');
  t.throws(() => hashFromTile({ level: 0, index: 0n, width: 4 }, data0.subarray(0, 128), { level: 3, index: 0n }), MalformedError, 'level 3 needs 8 entries, the partial tile has 4');
  t.throws(() => hashFromTile(tile0, data0.subarray(1), { level: 0, index: 0n }), new MalformedError('data: tile tile/0/000 must be 8192 bytes, got 8191'), 'short tile data');
  await t.rejects(tileHashReader(10, async () => [])([{ level: 0, index: 1n }]), MalformedError, 'a reader that answers too few tiles');
  await t.rejects(tileHashReader(10, async () => [new Uint8Array(32 * 9)])([{ level: 0, index: 1n }]), MalformedError, 'a tile of the wrong width');
});
