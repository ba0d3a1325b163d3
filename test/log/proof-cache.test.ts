/**
 * Proof nodes below level 8 come from cached tile subtrees (LogService
 * #read/#subtree) when their tile is complete, and from storage otherwise.
 * Whatever the cache size, every inclusion and consistency proof must be
 * the one computed from storage alone, and must verify against the signed
 * root of its size.
 */
import t from 'tap';
import { consistencyProofAsync, inclusionProofAsync, verifyConsistency, verifyInclusion } from '../../merkle/index.js';
import { b64decode } from '../../src/encoding.js';
import { entryLeafHash } from '../../src/entry/index.js';
import { parseCheckpoint } from '../../src/note/index.js';
import { makeEntry, removeDir, startLog, tempDir } from './harness.js';

for (const cacheBytes of [0, 20_000, 1 << 20]) {
  t.test(`read cache of ${cacheBytes} bytes`, async (t) => {
    const dir = tempDir();
    const log = await startLog({ dir, readCacheBytes: cacheBytes, batchInterval: 5 });
    t.teardown(async () => {
      await log.close();
      removeDir(dir);
    });
    const { service, storage } = log.opened;
    // Three batches: 300, 600 and 700 entries (two full tiles, then a partial one).
    const sizes = [300, 600, 700];
    const leaves: Uint8Array[] = [];
    const roots = new Map<number, Uint8Array>();
    for (const size of sizes) {
      const batch = Array.from({ length: size - leaves.length }, () => makeEntry());
      const answers = await Promise.all(batch.map((e) => service.accept(e).then((a) => service.submit(a))));
      for (const a of answers) {
        leaves[a.body.index] = entryLeafHash(b64decode(a.body.entry, 'entry'));
        // The signed roots handed out (the store keeps only some: checkpoint retention).
        const cp = parseCheckpoint(a.body.checkpoint.slice(0, a.body.checkpoint.indexOf('\n\n') + 1));
        roots.set(Number(cp.size), cp.rootHash);
      }
      t.equal(service.size, size, `the tree has ${size} entries`);
    }
    const fromStorage = (ids: ReadonlyArray<{ level: number; index: bigint }>) => storage.reader.readNodes(ids.map((id) => ({ level: id.level, index: Number(id.index) })));
    const rootAt = (size: number) => roots.get(size)!;
    let checked = 0;
    for (const size of sizes) {
      for (let index = 0; index < size; index += 7) {
        const got = await service.inclusion(leaves[index]!, size);
        const want = await inclusionProofAsync(BigInt(index), BigInt(size), fromStorage);
        const proof = got.proof.map((p) => b64decode(p, 'p'));
        if (got.index !== index || proof.length !== want.length || proof.some((p, i) => Buffer.compare(p, want[i]!) !== 0)) {
          t.fail(`inclusion of ${index} in ${size} differs from the storage-only proof`);
        }
        verifyInclusion(leaves[index]!, index, size, proof, rootAt(size));
        checked++;
      }
    }
    for (const [from, to] of [[1, 300], [255, 600], [256, 600], [300, 700], [513, 700], [600, 700], [699, 700]] as const) {
      const proof = (await service.consistency(from, to)).proof.map((p) => b64decode(p, 'p'));
      const want = await consistencyProofAsync(BigInt(from), BigInt(to), fromStorage);
      t.same(proof.map((g) => Buffer.from(g).toString('hex')), want.map((w) => Buffer.from(w).toString('hex')), `consistency ${from}→${to} equals the storage-only proof`);
      // Where both sizes have a signed root, the proof must also verify against them.
      if (roots.has(from)) verifyConsistency(from, to, proof, rootAt(from), rootAt(to));
    }
    t.ok(checked > 200, `${checked} inclusion proofs equal the storage-only ones and verify against their signed roots`);
  });
}
