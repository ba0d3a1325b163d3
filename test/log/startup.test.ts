/**
 * Start-up checks (docs/operations.md "When the start-up check fails"):
 * every refusal happens with a clear StartupError and changes nothing on
 * disk; a stale lock from a crash is taken over.
 */
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { openLog, StartupError, type OpenLogOptions } from '../../src/log/datadir.js';
import { formatSigner, generateSigner } from '../../src/note/index.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from './harness.js';
import { BIN } from '../monitor/helpers.js';
import { startProc } from '../monitor/procs.js';

const base = (dir: string): OpenLogOptions => ({ dir, origin: ORIGIN, batchInterval: 10, batchSize: 100, poolSize: 100, maxEntryBytes: 8192 });

async function logWithEntries(n: number): Promise<string> {
  const log = await startLog();
  for (let i = 0; i < n; i++) await post(log.url, makeEntry());
  await log.close();
  return log.dir;
}

async function refuses(t: Test, opts: OpenLogOptions, pattern: RegExp, what: string): Promise<void> {
  let caught: unknown;
  try {
    await openLog(opts);
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof StartupError, `${what}: refuses with a StartupError (${String(caught)})`);
  t.match((caught as Error | undefined)?.message ?? '', pattern, `${what}: says why`);
}

t.test('refusals', async (t) => {
  const dir = await logWithEntries(5);
  t.teardown(() => removeDir(dir));
  await refuses(t, { ...base(dir), origin: 'other.example/log' }, /belongs to origin test\.example\/log/, 'another origin');

  chmodSync(join(dir, 'log.key'), 0o640);
  await refuses(t, base(dir), /readable by group or others.*chmod 600/, 'a key readable by the group');
  chmodSync(join(dir, 'log.key'), 0o600);

  const otherKey = join(tempDir(), 'other.key');
  writeFileSync(otherKey, `${formatSigner(generateSigner('wrong.example/name', nodeEd25519))}\n`, { mode: 0o600 });
  await refuses(t, { ...base(dir), keyFile: otherKey }, /named wrong\.example\/name.*must equal its origin/, 'a key named after another origin');

  const sameName = join(tempDir(), 'same.key');
  writeFileSync(sameName, `${formatSigner(generateSigner(ORIGIN, nodeEd25519))}\n`, { mode: 0o600 });
  await refuses(t, { ...base(dir), keyFile: sameName }, /was made with the log key .*, not .*; start it with its own key/, 'another key with the right name');

  renameSync(join(dir, 'log.key'), join(dir, 'log.key.away'));
  await refuses(t, base(dir), /log\.key is missing; restore it/, 'a missing key');
  t.notOk(existsSync(join(dir, 'log.key')), 'no new key was written for a log that published');
  renameSync(join(dir, 'log.key.away'), join(dir, 'log.key'));

  const db = new Database(join(dir, 'log.db'));
  const edge = db.prepare('SELECT level, idx FROM nodes ORDER BY level DESC LIMIT 1').get() as { level: number; idx: number };
  const saved = db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx = ?').get(edge.level, edge.idx) as { hash: Buffer };
  db.prepare('UPDATE nodes SET hash = ? WHERE level = ? AND idx = ?').run(Buffer.alloc(32, 7), edge.level, edge.idx);
  db.close();
  await refuses(t, base(dir), /root .* does not match the last signed checkpoint/, 'a tampered right edge');
  const db2 = new Database(join(dir, 'log.db'));
  db2.prepare('UPDATE nodes SET hash = ? WHERE level = ? AND idx = ?').run(saved.hash, edge.level, edge.idx);
  const row = db2.prepare('SELECT * FROM entries WHERE idx = 4').get();
  db2.prepare('DELETE FROM entries WHERE idx = 4').run();
  db2.close();
  await refuses(t, base(dir), /holds 4 entries but the last signed checkpoint has size 5/, 'a missing entry');
  const db3 = new Database(join(dir, 'log.db'));
  db3.prepare('INSERT INTO entries (idx, leaf_hash, data, digest, key_hash, name) VALUES (@idx, @leaf_hash, @data, @digest, @key_hash, @name)').run(row as Record<string, unknown>);
  db3.prepare("UPDATE meta SET value = '99' WHERE key = 'schema'").run();
  db3.close();
  await refuses(t, base(dir), /schema version 99 is not supported/, 'an unknown schema version');
  const db4 = new Database(join(dir, 'log.db'));
  db4.prepare("UPDATE meta SET value = '1' WHERE key = 'schema'").run();
  db4.close();

  const ok = await openLog(base(dir));
  t.equal(ok.sequencer.size, 5, 'after each repair the log starts again with its 5 entries');
  await ok.close();
});

t.test('a key without its database is not a new log', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  writeFileSync(join(dir, 'log.key'), `${formatSigner(generateSigner(ORIGIN, nodeEd25519))}\n`, { mode: 0o600 });
  await refuses(t, base(dir), /exists but the database is new/, 'DIR/log.key with a new database');
});

t.test('lock: a second open in this process is refused until the first closes', async (t) => {
  const dir = await logWithEntries(1);
  t.teardown(() => removeDir(dir));
  const first = await openLog(base(dir));
  await refuses(t, base(dir), new RegExp(`in use by process ${process.pid}`), 'a second open while the first holds the directory');
  t.equal(first.sequencer.size, 1, 'the refused open did not disturb the holder');
  await first.close();
  t.notOk(existsSync(join(dir, 'serve.pid')), 'closing removes the pid file');
  const again = await openLog(base(dir));
  t.equal(again.sequencer.size, 1, 'after close the directory opens again');
  await again.close();
});

t.test('lock: a live server refuses; after its kill -9 the lock is gone; a reused pid blocks nothing', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  const dir = await logWithEntries(1);
  t.teardown(() => removeDir(dir));
  const server = startProc(['serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0']);
  t.teardown(() => server.stop('SIGKILL'));
  await server.waitEvent('start');
  await refuses(t, base(dir), new RegExp(`in use by process ${server.child.pid}`), 'a directory held by a running vitrine serve');
  await server.stop('SIGKILL');
  t.ok(existsSync(join(dir, 'serve.pid')), 'kill -9 left the pid file behind');
  // The pid file now names a live, unrelated process (as after a reboot
  // that reused the pid): it is information, not the lock.
  const sleeper = spawn('sleep', ['30']);
  t.teardown(() => sleeper.kill('SIGKILL'));
  writeFileSync(join(dir, 'serve.pid'), `${sleeper.pid}\n`);
  const log = await openLog(base(dir));
  t.equal(log.sequencer.size, 1, 'the kernel released the lock with the killed server; the log opens without repair');
  await log.close();
});
