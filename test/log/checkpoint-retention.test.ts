/**
 * Checkpoint retention on a running log (issue 11 §1; src/log/storage.ts,
 * docs/operations.md "Checkpoint retention"): under a stream of small
 * batches the store keeps one checkpoint per second of its clock, not one
 * per batch; yet every checkpoint ever handed out stays provable
 * (consistency proofs come from the tree) and can be signed again byte for
 * byte from the tree alone, since Ed25519 signatures are deterministic. The
 * store's clock is the test's, so the bound does not depend on the
 * machine's speed.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { loadOrCreateKey } from '../../src/log/datadir.js';
import { formatCheckpoint, openCheckpoint, parseVerifier, signNote } from '../../src/note/index.js';
import { audit, refLeaf, refRoot } from './audit.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from './harness.js';

function storedSizes(dir: string): number[] {
  const db = new Database(join(dir, 'log.db'), { readonly: true });
  try {
    return (db.prepare('SELECT size FROM checkpoints ORDER BY size').all() as Array<{ size: number }>).map((r) => r.size);
  } finally {
    db.close();
  }
}

t.test('one checkpoint per second is stored, and every one handed out stays provable and re-signable', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0, 0);
  const now = () => clock;
  let log = await startLog({ dir, storage: { now } });
  const vkey = log.opened.verifierKey;
  const handedOut = new Set<string>();
  // Rounds of 4 concurrent submissions: many small batches, all in one second of the store's clock.
  const round = async (n: number) => {
    for (let done = 0; done < n; done += 4) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => post(log.url, makeEntry())));
      for (const a of answers) {
        t.equal(a.status, 201, 'accepted');
        handedOut.add(a.json.checkpoint);
      }
    }
  };
  await round(120);
  const sizes = new Set([...handedOut].map((n) => openCheckpoint(n, parseVerifier(vkey), nodeEd25519).size));
  t.ok(sizes.size >= 30, `120 entries in rounds of 4 made at least 30 checkpoints (${sizes.size})`);
  t.same(storedSizes(dir), [120], 'all in one second: only the newest checkpoint is stored');

  clock += 1000;
  await round(40);
  clock += 1000;
  await round(40);
  t.same(storedSizes(dir), [120, 160, 200], 'one per second: the last of each');

  // Restart: the log opens on the newest stored checkpoint and carries on.
  await log.close();
  log = await startLog({ dir, storage: { now } });
  t.teardown(() => log.close());
  clock += 1000;
  await round(8);
  t.same(storedSizes(dir), [120, 160, 200, 208], 'after a restart, retention carries on');

  // Every checkpoint handed out, stored or not, is consistent with the tree served now...
  const result = await audit(log.url, vkey, [...handedOut]);
  t.equal(result.size, 208, 'the audit sees every entry');
  // ...and the log's key signs it again from the tree alone, byte for byte.
  const { signer } = loadOrCreateKey(join(dir, 'log.key'), ORIGIN, false);
  const leaves = result.entries.map(refLeaf);
  let same = 0;
  for (const note of handedOut) {
    const size = Number(openCheckpoint(note, parseVerifier(vkey), nodeEd25519).size);
    const again = signNote(formatCheckpoint({ origin: ORIGIN, size: BigInt(size), rootHash: refRoot(leaves.slice(0, size)) }), [signer], nodeEd25519);
    if (again === note) same++;
  }
  t.equal(same, handedOut.size, `each of the ${handedOut.size} checkpoints handed out is signed again identically`);
});
