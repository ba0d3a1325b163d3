/**
 * `vitrine migrate --from sqlite:DIR --to postgres://...` with real
 * processes (issue 10 §4): the copy serves the same tree under the same key
 * (audited, consistent with checkpoints published before), keeps the
 * witness state, and carries on at the next index; a tampered source, the
 * wrong key and a database that already holds a log are refused, leaving
 * the target empty.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatSigner, generateSigner, openCheckpoint, parseVerifier } from '../../src/note/index.js';
import type { CheckpointRecord } from '../../src/log/storage.js';
import { SqliteStorage } from '../../src/log/storage/sqlite.js';
import { audit } from './audit.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { cli } from '../monitor/helpers.js';
import { portOf, startProc } from '../monitor/procs.js';
import { vitrineIn } from '../_cli.js';

async function tables(url: string): Promise<{ checkpoints: number; entries: number; meta: string[] }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [c] = await sql.unsafe<Array<{ n: string }>>('SELECT count(*)::text AS n FROM checkpoints');
    const [e] = await sql.unsafe<Array<{ n: string }>>('SELECT count(*)::text AS n FROM entries');
    const m = await sql.unsafe<Array<{ key: string }>>('SELECT key FROM meta ORDER BY key');
    return { checkpoints: Number(c!.n), entries: Number(e!.n), meta: m.map((r) => r.key) };
  } finally {
    await sql.end();
  }
}

t.test('migrate a SQLite log to PostgreSQL', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const log = await startLog();
  t.teardown(() => removeDir(log.dir));
  const vkey = log.opened.verifierKey;
  const earlier: string[] = [];
  const acked = new Map<number, string>();
  let at300: string | undefined;
  let lastCheckpoint: string | undefined;
  for (const n of [10, 290, 300]) {
    // In rounds of 50 concurrent submissions, so that each round shares few batches.
    for (let done = 0; done < n; done += 50) {
      const answers = await Promise.all(Array.from({ length: Math.min(50, n - done) }, () => post(log.url, makeEntry())));
      for (const a of answers) acked.set(a.json.index, a.json.entry);
      for (const a of answers) if (a.json.index === 299) at300 = a.json.checkpoint;
      for (const a of answers) if (a.json.index === 599) lastCheckpoint = a.json.checkpoint;
      if (done === 0) earlier.push(answers[0]!.json.checkpoint);
    }
  }
  await log.close();
  // Witness state: the checkpoint of size 300 reached its quorum (recorded as the witness client does).
  const sqlite = new SqliteStorage(join(log.dir, 'log.db'));
  // Retention may have dropped the checkpoint of 300 (many in one second): the one handed out is stored again.
  const opened = openCheckpoint(at300!, parseVerifier(vkey), nodeEd25519);
  t.equal(opened.size, 300n, 'the last answer of the first 300 entries carries the checkpoint of 300');
  const cp300: CheckpointRecord = { size: 300, rootHash: opened.rootHash, note: at300! };
  await sqlite.writer.setWitnessed(cp300, `${cp300.note}— witness.example/w ABCD\n`);
  sqlite.closeSync();

  // Refusals first, each leaving its target empty.
  const wrongKey = join(tempDir(), 'other.key');
  cpSync(join(log.dir, 'log.key'), wrongKey);
  const other = `${formatSigner(generateSigner(ORIGIN, nodeEd25519))}\n`;
  (await import('node:fs')).writeFileSync(wrongKey, other, { mode: 0o600 });
  const url1 = await freshDatabase(t, server);
  const r1 = await cli(['migrate', '--from', `sqlite:${log.dir}`, '--to', url1, '--origin', ORIGIN, '--key', wrongKey]);
  t.equal(r1.status, 1, 'another key is refused');
  t.match(r1.stderr, /migrate refused: the source log was made with the log key/, 'saying why');
  t.same(await tables(url1), { checkpoints: 0, entries: 0, meta: ['schema'] }, 'the target stays empty');

  const tampered = tempDir();
  cpSync(log.dir, tampered, { recursive: true });
  const db = new Database(join(tampered, 'log.db'));
  const row = db.prepare('SELECT data FROM entries WHERE idx = 123').get() as { data: Buffer };
  row.data[row.data.length - 1] ^= 1;
  db.prepare('UPDATE entries SET data = ? WHERE idx = 123').run(row.data);
  db.close();
  const r2 = await vitrineIn(tampered, ['migrate', '--from', `sqlite:${tampered}`, '--to', url1, '--origin', ORIGIN]);
  t.equal(r2.code, 1, 'a source whose entry bytes were changed is refused');
  t.match(r2.stderr, /entry 123's stored leaf hash is not the hash of its bytes/, 'naming the entry');
  t.same(await tables(url1), { checkpoints: 0, entries: 0, meta: ['schema'] }, 'the target stays empty');

  // The migration.
  const url = await freshDatabase(t, server);
  const r = await cli(['migrate', '--from', `sqlite:${log.dir}`, '--to', url, '--origin', ORIGIN]);
  t.equal(r.status, 0, `migrate succeeds${r.status === 0 ? '' : `: ${r.stderr}`}`);
  t.match(r.stdout, /^migrated 600 entries to postgres:\/\/.*: size 600, root .* matches the last signed checkpoint\n$/, 'and reports the verified root');
  // --json, into another fresh database: the figures of the last checkpoint the log handed out.
  const last = openCheckpoint(lastCheckpoint!, parseVerifier(vkey), nodeEd25519);
  const urlJson = await freshDatabase(t, server);
  const rj = await vitrineIn(log.dir, ['migrate', '--from', `sqlite:${log.dir}`, '--to', urlJson, '--origin', ORIGIN, '--json']);
  t.equal(rj.code, 0, `migrate --json succeeds${rj.code === 0 ? '' : `: ${rj.stderr}`}`);
  t.match(JSON.parse(rj.stdout), { entries: 600, size: 600, rootHash: Buffer.from(last.rootHash).toString('base64'), to: /^postgres:\/\// }, 'migrate --json: entries, size and the root of the last checkpoint');
  const again = await vitrineIn(log.dir, ['migrate', '--from', `sqlite:${log.dir}`, '--to', url, '--origin', ORIGIN]);
  t.match(again.stderr, /already holds a log/, 'migrating into a database that holds a log is refused');

  const proc = startProc(['serve', '--storage', url, '--key', join(log.dir, 'log.key'), '--state-file', join(log.dir, 'pg.state'), '--origin', ORIGIN, '--listen', '127.0.0.1:0', '--batch-interval', '20']);
  t.teardown(() => proc.stop('SIGKILL'));
  const base = `http://127.0.0.1:${portOf(await proc.waitEvent('start'))}`;
  const audited = await audit(base, vkey, earlier);
  t.equal(audited.size, 600, 'the PostgreSQL log serves the same 600 entries, consistent with every checkpoint published on SQLite');
  let moved = 0;
  for (const [index, entry] of acked) if (Buffer.from(audited.entries[index]!).toString('base64') === entry) moved++;
  t.equal(moved, 600, 'every acknowledged entry is at its index');
  const next = await post(base, makeEntry());
  t.equal(next.status, 201, 'the log carries on');
  t.equal(next.json.index, 600, 'at the next index');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [w] = await sql.unsafe<Array<{ size: string; witnessed: string }>>('SELECT size::text AS size, witnessed FROM checkpoints WHERE witnessed IS NOT NULL');
  await sql.end();
  t.same(w, { size: '300', witnessed: `${cp300.note}— witness.example/w ABCD\n` }, 'the witness state came along');
  t.ok(readFileSync(join(log.dir, 'log.db')).length > 0, 'the source is left in place');
});
