/**
 * Rollback protection on PostgreSQL (issue 10 §5, docs/operations.md
 * "Rollback protection"): the node's --state-file records the newest
 * checkpoint it signed, outside the database. A database restored to an
 * earlier state (pg_dump of an earlier snapshot, pg_restore over the live
 * one: what a point-in-time restore does to the log's tables) and a
 * database deleted and made again empty are both refused at start-up,
 * naming both sizes; the refused start stores nothing (not even the
 * identity row). With several nodes, a node's record holds what it signed
 * and what it took up while following (cluster.ts): a node that followed
 * another's signing, then was down, refuses a database restored behind
 * what it saw, with its own record. A node that was down while another
 * signed has not seen that: the restore is caught once the newest record
 * is copied over every node's --state-file, as docs/operations.md tells.
 * Real `vitrine serve` processes and the real pg_dump / pg_restore of
 * PostgreSQL 15.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatSigner, formatVerifier, generateSigner, openCheckpoint, parseVerifier, verifierFromSigner } from '../../src/note/index.js';
import { makeEntry, ORIGIN, post, removeDir, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { cli } from '../monitor/helpers.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

interface Node {
  key: string;
  vkey: string;
  state: string;
}

function newNode(t: Test): Node {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const signer = generateSigner(ORIGIN, nodeEd25519);
  const key = join(dir, 'log.key');
  writeFileSync(key, `${formatSigner(signer)}\n`, { mode: 0o600 });
  return { key, vkey: formatVerifier(verifierFromSigner(signer)), state: join(dir, 'signed-checkpoint') };
}

const serveArgs = (url: string, n: Node) => ['serve', '--storage', url, '--key', n.key, '--state-file', n.state, '--origin', ORIGIN, '--listen', '127.0.0.1:0'];

/**
 * Starts a node; with a `name`, as one of several, on a lease of 10 s so that
 * a slow machine does not move it: which node signs is part of the test.
 */
async function serve(url: string, n: Node, name?: string): Promise<{ proc: Proc; base: string }> {
  const proc = startProc([...serveArgs(url, n), ...(name === undefined ? [] : ['--node-name', name, '--lease-ms', '10000'])]);
  const start = await proc.waitEvent('start', 60_000);
  return { proc, base: `http://127.0.0.1:${portOf(start)}` };
}

function recordedSize(n: Node): number {
  return Number(openCheckpoint(readFileSync(n.state, 'utf8'), parseVerifier(n.vkey), nodeEd25519).size);
}

/** The size of the checkpoint `base` serves. */
async function servedSize(base: string): Promise<number> {
  const res = await fetch(`${base}/checkpoint`);
  return res.status === 200 ? Number((await res.text()).split('\n')[1]) : -1;
}

/** Polls `get` until it returns `want` (at most `timeoutMs`, a bound on a failure only); its last value. */
async function until<T>(get: () => T | Promise<T>, want: T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v === want || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Submits `count` entries one by one; the size of the last checkpoint handed out. */
async function submit(t: Test, base: string, count: number): Promise<number> {
  let size = 0;
  for (let i = 0; i < count; i++) {
    const r = await post(base, makeEntry());
    t.equal(r.status, 201, 'submission accepted');
    size = Number(/\n(\d+)\n/.exec(String(r.json.checkpoint))![1]);
  }
  return size;
}

/** Drops the database and creates it again, empty, under the same name (the URL stays valid). */
async function recreate(server: string, url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}

/** What a refused start could have written: identity rows, checkpoints, entries. */
async function contents(url: string): Promise<{ meta: string[]; checkpoints: number; maxSize: number | null; entries: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const meta = await sql.unsafe<Array<{ key: string; value: string }>>('SELECT key, value FROM meta ORDER BY key');
    const [c] = await sql.unsafe<Array<{ n: number; m: number | null }>>('SELECT count(*)::int AS n, max(size)::int AS m FROM checkpoints');
    const [e] = await sql.unsafe<Array<{ n: number }>>('SELECT count(*)::int AS n FROM entries');
    return { meta: meta.map((r) => `${r.key}=${r.value}`), checkpoints: c!.n, maxSize: c!.m, entries: e!.n };
  } finally {
    await sql.end();
  }
}

const refusal = (behind: number, signed: number, state: string) =>
  new RegExp(
    `refusing to start: the store is behind the newest checkpoint this log has signed: the store's latest checkpoint has size ${behind}, ` +
      `but the log signed size ${signed} \\(recorded in ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\).*docs/operations\\.md`,
  );

t.test('a database restored to an earlier snapshot (pg_dump, pg_restore) is refused, naming both sizes', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const n = newNode(t);
  const dump = join(tempDir(), 'earlier.dump');
  t.teardown(() => removeDir(join(dump, '..')));

  let node = await serve(url, n);
  const snapshot = await submit(t, node.base, 2);
  await node.proc.stop('SIGTERM');
  execFileSync(join(PG_BIN, 'pg_dump'), ['--format=custom', '--file', dump, '--dbname', url]);

  node = await serve(url, n);
  const signed = await submit(t, node.base, 3);
  t.equal(await node.proc.stop('SIGTERM'), 0, 'a clean stop');
  t.equal(recordedSize(n), signed, `the node recorded size ${signed}`);

  // The restore: the live database replaced by the earlier snapshot.
  await recreate(server, url);
  execFileSync(join(PG_BIN, 'pg_restore'), ['--dbname', url, dump]);
  const restored = await contents(url);
  t.equal(restored.maxSize, snapshot, `the restored database is back at size ${snapshot}`);

  const r = await cli(serveArgs(url, n), { timeout: 60_000 });
  t.equal(r.status, 1, 'serve exits 1');
  t.match(r.stderr, refusal(snapshot, signed, n.state), 'naming both sizes and the recovery section');
  t.same(await contents(url), restored, 'the refused start changed nothing in the database');
  t.equal(recordedSize(n), signed, 'the record is unchanged');
});

t.test('a deleted database made again empty is refused, and nothing is stored', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const n = newNode(t);

  const node = await serve(url, n);
  const signed = await submit(t, node.base, 2);
  await node.proc.stop('SIGTERM');

  await recreate(server, url);
  const r = await cli(serveArgs(url, n), { timeout: 60_000 });
  t.equal(r.status, 1, 'serve exits 1');
  t.match(r.stderr, refusal(0, signed, n.state), 'naming size 0 and the signed size');
  const after = await contents(url);
  t.same(after.meta.filter((m) => !m.startsWith('schema=')), [], 'no identity row (origin, key) was written');
  t.equal(after.checkpoints, 0, 'no checkpoint was written');
  t.equal(after.entries, 0, 'no entry was written');
});

t.test('several nodes: each record holds what its own node signed; after a restore, the newest record copied to every node refuses it', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const a = newNode(t);
  // Node b: the same log key, its own record.
  const b: Node = { ...a, state: join(tempDir(), 'signed-checkpoint') };
  const dump = join(tempDir(), 'earlier.dump');

  let node = await serve(url, a);
  const snapshot = await submit(t, node.base, 2);
  await node.proc.stop('SIGTERM');
  execFileSync(join(PG_BIN, 'pg_dump'), ['--format=custom', '--file', dump, '--dbname', url]);
  // a is down; b takes the lease and the log goes on.
  node = await serve(url, b);
  const signed = await submit(t, node.base, 2);
  t.equal(await node.proc.stop('SIGTERM'), 0, 'b stops cleanly');
  t.equal(recordedSize(a), snapshot, `a's record holds only what a signed (${snapshot})`);
  t.equal(recordedSize(b), signed, `b's record holds ${signed}`);

  await recreate(server, url);
  execFileSync(join(PG_BIN, 'pg_restore'), ['--dbname', url, dump]);
  t.equal((await contents(url)).maxSize, snapshot, `the restored database is back at size ${snapshot}`);

  // The gap docs/operations.md warns about: a's own record does not catch this restore.
  const unguarded = await serve(url, a);
  t.equal(Number((await unguarded.proc.waitEvent('start'))['size']), snapshot, `a, with its own record, starts on the restored size ${snapshot}`);
  await unguarded.proc.stop('SIGTERM');

  // The documented step: the newest record over every node's --state-file.
  copyFileSync(b.state, a.state);
  const r = await cli(serveArgs(url, a), { timeout: 60_000 });
  t.equal(r.status, 1, 'with the newest record, a refuses to start');
  t.match(r.stderr, refusal(snapshot, signed, a.state), 'naming both sizes and the recovery section');
  const rb = await cli(serveArgs(url, b), { timeout: 60_000 });
  t.equal(rb.status, 1, 'and so does b');
  t.match(rb.stderr, refusal(snapshot, signed, b.state), 'with the same message');
});

t.test('several nodes: a follower records what it takes up, so after being down it refuses a restore behind what it saw', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const a = newNode(t);
  // Node b: the same log key, its own record; it only ever follows.
  const b: Node = { ...a, state: join(tempDir(), 'signed-checkpoint') };
  const dump = join(tempDir(), 'earlier.dump');

  const sa = await serve(url, a, 'a');
  await sa.proc.waitEvent('sequencing', 60_000);
  const snapshot = await submit(t, sa.base, 2);
  execFileSync(join(PG_BIN, 'pg_dump'), ['--format=custom', '--file', dump, '--dbname', url]);
  const sb = await serve(url, b, 'b');
  // b follows: what it forwards comes back with a's checkpoint; the rest it reads from the database.
  const forwarded = await submit(t, sb.base, 2);
  const seen = await submit(t, sa.base, 2);
  t.ok(seen > forwarded && forwarded > snapshot, `sizes ${snapshot}, ${forwarded}, ${seen}`);
  t.equal(await until(() => servedSize(sb.base), seen), seen, `b takes up the checkpoint of ${seen} by polling`);
  t.equal(await until(() => recordedSize(b), seen), seen, `b's record holds the checkpoint of ${seen} that a signed`);
  t.equal(await sb.proc.stop('SIGTERM'), 0, 'b stops cleanly');
  t.notMatch(sb.proc.stderr(), /"event":"sequencing"/, 'b never sequenced: everything in its record, a signed');
  // b is down; a goes on.
  const signed = await submit(t, sa.base, 2);
  t.equal(await sa.proc.stop('SIGTERM'), 0, 'a stops cleanly');
  t.equal(recordedSize(a), signed, `a's record holds ${signed}`);
  t.equal(recordedSize(b), seen, `b's record still holds ${seen}, the newest it saw`);

  await recreate(server, url);
  execFileSync(join(PG_BIN, 'pg_restore'), ['--dbname', url, dump]);
  const restored = await contents(url);
  t.equal(restored.maxSize, snapshot, `the restored database is back at size ${snapshot}`);

  // Without copying any record: b refuses with its own.
  const rb = await cli([...serveArgs(url, b), '--node-name', 'b'], { timeout: 60_000 });
  t.equal(rb.status, 1, 'b, with its own record, refuses to start');
  t.match(rb.stderr, refusal(snapshot, seen, b.state), `naming the restored size ${snapshot} and the ${seen} it saw signed`);
  const ra = await cli([...serveArgs(url, a), '--node-name', 'a'], { timeout: 60_000 });
  t.equal(ra.status, 1, 'and so does a');
  t.match(ra.stderr, refusal(snapshot, signed, a.state), 'naming what it signed');
  t.same(await contents(url), restored, 'the refused starts changed nothing in the database');
});
