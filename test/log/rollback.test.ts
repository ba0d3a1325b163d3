/**
 * Rollback protection (issue 10 §5, docs/operations.md "Rollback
 * protection"): the log records the newest checkpoint it signed outside its
 * database, before handing it out, and refuses to start on a store that is
 * behind that record, naming both sizes. Real `vitrine serve` processes on
 * SQLite where the process matters (kill -9, the refusal to start and its
 * exit status, the start on the live database); the logs that only make a
 * history to roll back run in this process (harness.ts startLog: the same
 * openLog and record as serve). The PostgreSQL cases (a pg_dump of an
 * earlier state restored, an emptied database) are in
 * rollback-postgres.test.ts.
 */
import t, { type Test } from 'tap';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint, parseVerifier } from '../../src/note/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from './harness.js';
import { cli } from '../monitor/helpers.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

async function serve(dir: string): Promise<{ proc: Proc; base: string; vkey: string }> {
  const proc = startProc(['serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0']);
  const start = await proc.waitEvent('start');
  return { proc, base: `http://127.0.0.1:${portOf(start)}`, vkey: String(start['verifierKey']) };
}

/** The same log in this process, on `dir`; `stop` closes it as a clean stop does. */
async function serveInProcess(dir: string): Promise<{ base: string; vkey: string; stop: () => Promise<void> }> {
  const log = await startLog({ dir });
  return { base: log.url, vkey: log.opened.verifierKey, stop: () => log.close() };
}

function recordedSize(dir: string, vkey: string): number {
  return Number(openCheckpoint(readFileSync(join(dir, 'signed-checkpoint'), 'utf8'), parseVerifier(vkey), nodeEd25519).size);
}

async function submit(t: Test, node: { base: string; vkey: string }, dir: string, n: number): Promise<number> {
  let size = 0;
  for (let i = 0; i < n; i++) {
    const r = await post(node.base, makeEntry());
    t.equal(r.status, 201, 'submission accepted');
    const handedOut = Number(/\n(\d+)\n/.exec(String(r.json.checkpoint))![1]);
    // The record is written before the answer, so it is never older than what a submitter holds.
    if (recordedSize(dir, node.vkey) < handedOut) t.fail(`the record is behind the checkpoint of size ${handedOut} already handed out`);
    size = handedOut;
  }
  return size;
}

const refusal = (behind: number, signed: number) =>
  new RegExp(`refusing to start: the store is behind .*size ${behind}, but the log signed size ${signed} \\(recorded in .*signed-checkpoint\\).*docs/operations\\.md`);

t.test('a lost WAL after kill -9 is refused, naming both sizes', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  let node = await serve(dir);
  const first = await submit(t, node, dir, 3);
  t.equal(await node.proc.stop('SIGTERM'), 0, 'a clean stop folds the WAL into log.db');
  node = await serve(dir);
  const signed = await submit(t, node, dir, 4);
  t.ok(existsSync(join(dir, 'log.db-wal')), 'the newer batches are in log.db-wal');
  await node.proc.stop('SIGKILL');
  rmSync(join(dir, 'log.db-wal'));
  rmSync(join(dir, 'log.db-shm'), { force: true });
  const r = await cli(['serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0'], { timeout: 20_000 });
  t.equal(r.status, 1, 'serve exits 1');
  t.match(r.stderr, refusal(first, signed), 'and says the store is behind the signed record');
  t.equal(recordedSize(dir, node.vkey), signed, 'the record is unchanged');
});

t.test('a restored backup is refused; the live database starts again', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const before = await serveInProcess(dir);
  const backedUp = await submit(t, before, dir, 2);
  await before.stop();
  copyFileSync(join(dir, 'log.db'), join(dir, 'backup.db'));
  const after = await serveInProcess(dir);
  const signed = await submit(t, after, dir, 3);
  await after.stop();
  copyFileSync(join(dir, 'log.db'), join(dir, 'live.db'));
  copyFileSync(join(dir, 'backup.db'), join(dir, 'log.db'));
  const r = await cli(['serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0'], { timeout: 20_000 });
  t.equal(r.status, 1, 'serve on the backup exits 1');
  t.match(r.stderr, refusal(backedUp, signed), 'naming both sizes');
  copyFileSync(join(dir, 'live.db'), join(dir, 'log.db'));
  const node = await serve(dir);
  t.equal(await submit(t, node, dir, 1), signed + 1, 'with the live database back, the log extends what it signed');
  await node.proc.stop('SIGTERM');
});

t.test('a record signed by another log key is refused', async (t) => {
  const dir = tempDir();
  const other = tempDir();
  t.teardown(() => {
    removeDir(dir);
    removeDir(other);
  });
  for (const d of [dir, other]) {
    const node = await serveInProcess(d);
    await submit(t, node, d, 1);
    await node.stop();
  }
  copyFileSync(join(other, 'signed-checkpoint'), join(dir, 'signed-checkpoint'));
  const r = await cli(['serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0'], { timeout: 20_000 });
  t.equal(r.status, 1, 'serve exits 1');
  t.match(r.stderr, /refusing to start: the signed-checkpoint record .* does not hold a checkpoint signed by this log's key/, 'says the record is not this log\'s');
});
