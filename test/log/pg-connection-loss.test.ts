/**
 * The database connection closes in the middle of a transaction (a
 * PostgreSQL restart, a proxy or a NAT dropping the connection): the log
 * process must survive it, the transaction must fail with an error its
 * caller can handle, and the storage must work again once the database
 * answers.
 *
 * postgres.js 3.4 (porsager/postgres#1154, #1208) answers a query failure
 * inside `begin()` with a ROLLBACK on the connection that just closed; the
 * driver then writes to a null socket from a setImmediate and the process
 * dies with an uncatchable TypeError. CI saw a node die this way in
 * cluster-faults. The storage runs its transactions so that this never
 * happens (src/log/storage/postgres.ts, `transaction`).
 *
 * The fault is injected by a TCP proxy between the storage and a real
 * PostgreSQL: it closes the storage's connections cleanly (FIN) while a
 * statement inside the transaction waits on a lock another session holds.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import t from 'tap';
import { openPostgres } from '../../src/log/storage/postgres.js';
import { freshDatabase, pgServer } from './pg.js';

/** A TCP proxy to `target`; `cut()` closes every connection it carries with a FIN. */
async function proxy(target: URL): Promise<{ url: (db: string) => string; cut: () => number; close: () => Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (db) => {
      const u = new URL(db);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: () => {
      const n = pairs.size;
      for (const [client, upstream] of pairs) {
        upstream.destroy();
        client.end(); // a clean close: the driver sees CONNECTION_CLOSED, not a socket error
      }
      return n;
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Waits until some session of `admin`'s server waits on a lock in `db`. */
async function waitForLockWait(admin: postgres.Sql, db: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const rows = await admin.unsafe<Array<{ n: number }>>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [db]);
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no session ever waited on the lock');
}

t.test('a connection closed mid-transaction fails that transaction; the process lives and the storage recovers', async (t) => {
  const server = pgServer(t);
  if (server === undefined) return;
  const dbUrl = await freshDatabase(t, server);
  const dbName = new URL(dbUrl).pathname.slice(1);
  const p = await proxy(new URL(dbUrl));
  t.teardown(p.close);
  const crashes: unknown[] = [];
  const onCrash = (err: unknown) => crashes.push(err);
  process.on('uncaughtException', onCrash);
  t.teardown(() => void process.off('uncaughtException', onCrash));

  const store = await openPostgres(p.url(dbUrl), { shared: true });
  t.teardown(() => store.close());
  const admin = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const watcher = postgres(dbUrl, { max: 1, onnotice: () => {} });
  t.teardown(() => Promise.all([admin.end({ timeout: 1 }), watcher.end({ timeout: 1 })]));

  for (const [what, locked, run] of [
    ['setIdentity', 'meta', () => store.setIdentity({ origin: 'loss.example/log' })],
    ['acquireLease', 'lease', () => store.acquireLease('node-a', 'http://127.0.0.1:1', 3000)],
  ] as const) {
    // Another session holds the table; the storage's transaction waits on it.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked_ = false;
    const held = admin.begin(async (tx) => {
      await tx.unsafe(`LOCK TABLE ${locked} IN ACCESS EXCLUSIVE MODE`);
      locked_ = true;
      await released;
    });
    while (!locked_) await new Promise((r) => setTimeout(r, 10));
    const pending = (run() as Promise<unknown>).then(() => 'resolved', (err: Error) => err);
    await waitForLockWait(watcher, dbName);
    t.ok(p.cut() > 0, `${what}: the proxy closed the storage's connections`);
    const outcome = await pending;
    t.type(outcome, Error, `${what}: the transaction fails when its connection closes`);
    release();
    await held;
    // Give a crash in a setImmediate a chance to happen, then check that none did.
    await new Promise((r) => setTimeout(r, 200));
    t.same(crashes.map(String), [], `${what}: no uncaught exception (the driver wrote to no closed socket)`);
  }

  // The storage reconnects on its own.
  await store.setIdentity({ origin: 'loss.example/log' });
  t.same((await store.identity())?.origin, 'loss.example/log', 'the storage works again after the connections were cut');
  t.type(await store.acquireLease('node-a', 'http://127.0.0.1:1', 3000), 'number', 'the lease can be taken again');
});
