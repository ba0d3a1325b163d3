/**
 * The storage contract (src/log/storage.ts), run unchanged against every
 * backend: identity, commit, compare-and-swap conflicts, a failed batch
 * that stores nothing, every read, lookups with paging, missing data as
 * NotFoundError, a restart that keeps it all, and checkpoint retention
 * (one per second of the store's clock, the newest and every witnessed one
 * always kept) on a clock the test moves. The expected values come
 * from the test's own oracle (the batches it built), never from the store.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { CompactRange, sha256 } from '../../merkle/index.js';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import type { Batch, EntryRecord, LogStorage, StoredNode, TileRecord } from '../../src/log/storage.js';
import { SqliteStorage } from '../../src/log/storage/sqlite.js';
import { openPostgres } from '../../src/log/storage/postgres.js';
import { refLeaf } from './audit.js';
import { removeDir, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';

interface Backend {
  name: string;
  /** Opens the store (again, after close: the same data), reading time from `now`. */
  open(now: () => number): Promise<LogStorage>;
}

const SHARED_SUBJECT = sha256(new TextEncoder().encode('shared subject'));
/** The further subjects of entry `index`: its own, one shared by all, and for 207 the digest of entry 42. */
function subjectsOf(index: number): EntryRecord['subjects'] {
  return [
    { digest: sha256(new TextEncoder().encode(`subject ${index}`)), name: 'pkg:generic/attested' },
    { digest: SHARED_SUBJECT, name: undefined },
    ...(index === 207 ? [{ digest: sha256(new TextEncoder().encode('entry 42')), name: undefined }] : []),
  ];
}

/** Builds batches as the sequencer does, keeping every node as the oracle. */
class Oracle {
  range = new CompactRange();
  nodes = new Map<string, Uint8Array>();
  entries: EntryRecord[] = [];
  size = 0;

  batch(count: number, opts: { names?: (i: number) => string; digest?: (i: number) => Uint8Array; key?: (i: number) => Uint8Array } = {}): Batch {
    const fromSize = this.size;
    const range = new CompactRange(BigInt(fromSize), this.range.hashes());
    const nodes: StoredNode[] = [];
    const tiles: TileRecord[] = [];
    const entries: EntryRecord[] = [];
    for (let k = 0; k < count; k++) {
      const index = fromSize + k;
      const data = new TextEncoder().encode(`entry ${index}`);
      const leafHash = refLeaf(data);
      entries.push({
        index, data, leafHash,
        digest: opts.digest?.(index) ?? sha256(data),
        keyHash: opts.key?.(index) ?? sha256(Uint8Array.of(index % 3)),
        name: opts.names?.(index) ?? `pkg:generic/p${index % 4}`,
        // Every 50th entry speaks for further subjects, as an attestation does.
        ...(index % 50 === 7 ? { subjects: subjectsOf(index) } : {}),
      });
      for (const n of range.append(leafHash)) {
        nodes.push({ level: n.level, index: Number(n.index), hash: n.hash });
        if (n.level === 0 && Number(n.index) % 256 === 255) {
          const tileIndex = (Number(n.index) - 255) / 256;
          const data = new Uint8Array(256 * 32);
          for (let i = 0; i < 256; i++) {
            const h = i === 255 ? n.hash : this.nodes.get(`0/${tileIndex * 256 + i}`) ?? nodes.find((x) => x.level === 0 && x.index === tileIndex * 256 + i)!.hash;
            data.set(h, i * 32);
          }
          tiles.push({ level: 0, index: tileIndex, data });
        }
      }
    }
    const size = fromSize + count;
    const rootHash = range.root();
    return { fromSize, entries, nodes, tiles, checkpoint: { size, rootHash, note: `test checkpoint ${size}\n` } };
  }

  /** Records a batch the store accepted. */
  accept(b: Batch): void {
    this.range = new CompactRange(BigInt(b.fromSize), this.range.hashes());
    for (const e of b.entries) this.range.append(e.leafHash);
    for (const n of b.nodes) this.nodes.set(`${n.level}/${n.index}`, n.hash);
    this.entries.push(...b.entries);
    this.size = b.checkpoint.size;
  }
}

const hex = (b: Uint8Array | undefined) => (b === undefined ? 'undefined' : Buffer.from(b).toString('hex'));

async function rejects(t: Test, p: Promise<unknown>, type: new (...a: never[]) => Error, what: string): Promise<void> {
  try {
    await p;
    t.fail(`${what}: expected ${type.name}, resolved`);
  } catch (err) {
    t.ok(err instanceof type, `${what}: ${type.name} (${(err as Error).message})`);
  }
}

async function contract(t: Test, backend: Backend): Promise<void> {
  // The store's clock, in milliseconds: each batch below is a second apart unless a test says otherwise.
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
  const now = () => clock;
  let store = await backend.open(now);
  t.teardown(() => store.close());
  const o = new Oracle();

  t.equal(await store.identity(), undefined, 'a new store has no identity');
  t.equal(await store.writer.latestCheckpoint(), undefined, 'and no checkpoint');
  t.equal(await store.writer.entryCount(), 0, 'and no entries');
  await store.setIdentity({ origin: 'a.example/log' });
  t.same(await store.identity(), { origin: 'a.example/log', verifierKey: undefined }, 'the origin is recorded');
  await store.setIdentity({ origin: 'b.example/log', verifierKey: 'a.example/log+01234567+KEY' });
  t.same(await store.identity(), { origin: 'a.example/log', verifierKey: 'a.example/log+01234567+KEY' }, 'the key is added; the origin is never replaced');

  // The empty tree, then 300 entries (a full tile and more), then 5 more.
  for (const count of [0, 300, 5]) {
    const b = o.batch(count);
    await store.writer.commitBatch(b);
    o.accept(b);
    clock += 1000;
  }
  const latest = await store.writer.latestCheckpoint();
  t.equal(latest?.size, 305, 'the latest checkpoint is the last committed');
  t.equal(hex(latest?.rootHash), hex(o.range.root()), 'with its root');
  t.same(await store.reader.latestCheckpoint(), latest, 'the reader sees the same');
  t.equal(await store.writer.entryCount(), 305, 'every entry is stored');

  // Compare-and-swap: a batch from a stale size stores nothing.
  const stale = o.batch(2);
  stale.fromSize = 300;
  stale.checkpoint = { ...stale.checkpoint, size: 302 };
  await rejects(t, store.writer.commitBatch(stale), ConflictError, 'a batch from a stale size');
  const ahead = o.batch(2);
  ahead.fromSize = 306;
  ahead.checkpoint = { ...ahead.checkpoint, size: 308 };
  await rejects(t, store.writer.commitBatch(ahead), ConflictError, 'a batch from a size not reached');
  // A batch that fails half-way (a duplicate leaf) stores none of it.
  const dup = o.batch(2);
  dup.entries[1] = { ...dup.entries[1]!, leafHash: o.entries[0]!.leafHash };
  let dupFailed = false;
  try {
    await store.writer.commitBatch(dup);
  } catch {
    dupFailed = true;
  }
  t.ok(dupFailed, 'a batch repeating a stored leaf hash fails');
  t.equal(await store.writer.entryCount(), 305, 'the refused batches stored no entry');
  t.equal((await store.writer.latestCheckpoint())?.size, 305, 'and no checkpoint');
  t.equal(await store.reader.entryAt(305), undefined, 'entry 305 does not exist');

  const check = async (label: string) => {
    t.same((await store.writer.rightEdge(305)).map(hex), CompactRange.edgeNodes(305n).map((id) => hex(o.nodes.get(`${id.level}/${id.index}`))), `${label}: the right edge`);
    const e = o.entries[123]!;
    t.same(await store.reader.entryAt(123), { index: 123, data: e.data, leafHash: e.leafHash }, `${label}: entry by index`);
    t.same(await store.reader.entryByLeafHash(e.leafHash), { index: 123, data: e.data, leafHash: e.leafHash }, `${label}: entry by leaf hash`);
    t.equal(await store.reader.entryByLeafHash(new Uint8Array(32)), undefined, `${label}: an unknown leaf hash`);
    t.equal(await store.reader.indexOfLeafHash(e.leafHash), 123, `${label}: index by leaf hash`);
    t.equal(await store.reader.indexOfLeafHash(new Uint8Array(32)), undefined, `${label}: no index for an unknown leaf hash`);
    t.same((await store.reader.entryRange(250, 10)).map(hex), o.entries.slice(250, 260).map((x) => hex(x.data)), `${label}: an entry range`);
    await rejects(t, store.reader.entryRange(300, 10), NotFoundError, `${label}: a range past the end`);
    t.same((await store.reader.readNodes([{ level: 0, index: 7 }, { level: 8, index: 0 }, { level: 2, index: 70 }])).map(hex),
      ['0/7', '8/0', '2/70'].map((k) => hex(o.nodes.get(k))), `${label}: nodes by id, in order`);
    await rejects(t, store.reader.readNodes([{ level: 0, index: 305 }]), NotFoundError, `${label}: a node not stored`);
    t.same((await store.reader.readLevel(0, 256, 49)).map(hex), Array.from({ length: 49 }, (_, i) => hex(o.nodes.get(`0/${256 + i}`))), `${label}: a level range`);
    await rejects(t, store.reader.readLevel(0, 256, 50), NotFoundError, `${label}: a level range past the end`);
    const tile = await store.reader.fullTile(0, 0);
    t.equal(hex(tile), Array.from({ length: 256 }, (_, i) => hex(o.nodes.get(`0/${i}`))).join(''), `${label}: the full tile`);
    t.equal(await store.reader.fullTile(0, 1), undefined, `${label}: an incomplete tile is not stored`);
    t.equal((await store.reader.checkpointAt(300))?.size, 300, `${label}: the checkpoint of size 300`);
    t.equal(await store.reader.checkpointAt(301), undefined, `${label}: no checkpoint of size 301`);
    // Lookups and paging: p1 names are the indexes ≡ 1 mod 4.
    const want = o.entries.filter((x) => x.name === 'pkg:generic/p1').map((x) => x.index);
    const pages: number[] = [];
    for (let after = -1; ;) {
      const page = await store.reader.lookup('name', 'pkg:generic/p1', after, 20);
      pages.push(...page.map((x) => x.index));
      if (page.length < 20) break;
      after = page[page.length - 1]!.index;
    }
    t.same(pages, want, `${label}: paging by name returns each match once, in order`);
    const byKey = await store.reader.lookup('key', sha256(Uint8Array.of(2)), 100, 3);
    t.same(byKey.map((x) => x.index), [101, 104, 107], `${label}: by key hash after an index, limited`);
    const byDigest = await store.reader.lookup('digest', o.entries[42]!.digest, -1, 10);
    t.same(byDigest.map((x) => x.index), [42, 207], `${label}: by digest, the entry's own and a subject of another`);
    t.same((await store.reader.lookup('digest', sha256(new TextEncoder().encode('subject 157')), -1, 10)).map((x) => x.index), [157], `${label}: by a subject's digest`);
    t.same((await store.reader.lookup('digest', SHARED_SUBJECT, 7, 2)).map((x) => x.index), [57, 107], `${label}: by a shared subject digest, paged`);
    t.same((await store.reader.lookup('name', 'pkg:generic/attested', -1, 100)).map((x) => x.index), [7, 57, 107, 157, 207, 257], `${label}: by a subject's name`);
    t.same(await store.reader.lookup('name', 'nothing', -1, 10), [], `${label}: no match`);
  };
  await check('open');
  const cp300 = (await store.reader.checkpointAt(300))!;
  await store.writer.setWitnessed(cp300, 'witnessed note 300\n');
  const witnessed300 = { size: 300, rootHash: cp300.rootHash, note: 'witnessed note 300\n' };
  t.same(await store.reader.latestWitnessed(), witnessed300, 'the witnessed checkpoint');

  // Restart: everything is still there, and commits continue from it.
  await store.close();
  store = await backend.open(now);
  await check('after restart');
  t.same(await store.reader.latestWitnessed(), witnessed300, 'after restart: the witnessed checkpoint');
  t.same(await store.identity(), { origin: 'a.example/log', verifierKey: 'a.example/log+01234567+KEY' }, 'after restart: the identity');
  const next = o.batch(3);
  await store.writer.commitBatch(next);
  o.accept(next);
  t.equal((await store.reader.latestCheckpoint())?.size, 308, 'after restart: commits continue');
  clock += 1000;

  // Retention: batches of one entry, five in each second (308 is alone in its second).
  const roots = new Map<number, string>();
  const commitAt = async (time: number) => {
    clock = time;
    const b = o.batch(1);
    await store.writer.commitBatch(b);
    o.accept(b);
    roots.set(b.checkpoint.size, hex(b.checkpoint.rootHash));
    return b.checkpoint;
  };
  for (let i = 0; i < 15; i++) await commitAt(Date.UTC(2026, 0, 1, 13, 0, Math.floor(i / 5), (i % 5) * 200 + 1));
  const kept = async () => {
    const sizes: number[] = [];
    for (let size = 0; size <= o.size; size++) if ((await store.reader.checkpointAt(size)) !== undefined) sizes.push(size);
    return sizes;
  };
  t.same(await kept(), [0, 300, 305, 308, 313, 318, 323], 'the last checkpoint of each second is kept, and no other');
  t.equal(hex((await store.reader.checkpointAt(318))?.rootHash), roots.get(318), 'a kept checkpoint has its root');
  t.equal((await store.reader.latestCheckpoint())?.size, 323, 'the newest is the latest');

  // A witnessed checkpoint stays even when a newer one comes in the same second.
  const cp324 = await commitAt(Date.UTC(2026, 0, 1, 13, 0, 3, 0));
  await store.writer.setWitnessed(cp324, 'witnessed note 324\n');
  const cp325 = await commitAt(Date.UTC(2026, 0, 1, 13, 0, 3, 100));
  // 325's quorum arrives after 326 made retention drop it: it is stored again, with its root.
  await commitAt(Date.UTC(2026, 0, 1, 13, 0, 3, 200));
  t.equal(await store.reader.checkpointAt(325), undefined, '325 was dropped by the commit of 326');
  await store.writer.setWitnessed(cp325, 'witnessed note 325\n');
  t.same(await store.reader.latestWitnessed(), { size: 325, rootHash: cp325.rootHash, note: 'witnessed note 325\n' }, 'a dropped checkpoint that reaches the quorum is stored again');
  t.same(await store.reader.checkpointAt(325), cp325, 'with the note the log signed');
  await commitAt(Date.UTC(2026, 0, 1, 13, 0, 3, 300));
  t.same(await kept(), [0, 300, 305, 308, 313, 318, 323, 324, 325, 327], 'witnessed checkpoints are never dropped; 326 went when 327 came in its second');
  t.equal((await store.writer.latestCheckpoint())?.size, 327, 'compare-and-swap still sees the newest');
  const late = o.batch(1);
  await rejects(t, store.writer.commitBatch({ ...late, fromSize: 326, checkpoint: { ...late.checkpoint, size: 327 } }), ConflictError, 'a batch from a dropped size is still refused');
  await commitAt(Date.UTC(2026, 0, 1, 13, 0, 4, 0));
  t.equal(await store.writer.entryCount(), 328, 'and commits continue');
}

t.test('sqlite', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  await contract(t, { name: 'sqlite', open: async (now) => new SqliteStorage(join(dir, 'log.db'), { now }) });
});

t.test('postgres', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  await contract(t, { name: 'postgres', open: (now) => openPostgres(url, { now }) });
});
