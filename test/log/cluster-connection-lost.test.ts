/**
 * PostgreSQL going away in the middle of a commit (what `pg_ctl stop -m
 * immediate` does to every node of a cluster, test/log/cluster-faults): the
 * batch's transaction loses its connection while one of its statements is
 * on the wire. The `postgres` client (3.4.x, porsager/postgres issues 1154
 * and 1208) then writes ROLLBACK to the closed connection from a
 * setImmediate and kills the process with a TypeError; storage/postgres.ts
 * keeps such a transaction body pending instead (survivesLostTransactions).
 * Here, deterministically: a TCP proxy between the store and PostgreSQL
 * cuts both sockets when it sees the batch's INSERT INTO checkpoints go by.
 * The commit rejects with a connection error, the process lives on, the
 * next commit reconnects and lands, and nothing of the failed one was
 * stored.
 */
import t from 'tap';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { openPostgres } from '../../src/log/storage/postgres.js';
import type { Batch } from '../../src/log/storage.js';
import { freshDatabase, pgServer } from './pg.js';

t.test('the connection of a commit lost mid-statement: the commit rejects, the process lives, the next commit lands', async (t) => {
  // A safety net only: without the workaround the client's TypeError leaves this test hanging.
  t.setTimeout(120_000);
  const server = pgServer(t);
  if (!server) return;
  const url = new URL(await freshDatabase(t, server));
  let cutOn: string | undefined;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(Number(url.port), url.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    upstream.pipe(client);
    client.on('data', (d: Buffer) => {
      if (cutOn !== undefined && d.includes(cutOn)) {
        // The statement never reaches the server: both ends of this connection go, as in a server crash.
        cutOn = undefined;
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(d);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => proxy.close(() => r()));
  });
  const via = new URL(url);
  via.port = String((proxy.address() as AddressInfo).port);
  const store = await openPostgres(via.toString());
  t.teardown(() => store.close());

  const batch = (note: string): Batch => ({ fromSize: 0, entries: [], nodes: [], tiles: [], checkpoint: { size: 0, rootHash: new Uint8Array(32), note } });
  cutOn = 'INSERT INTO checkpoints';
  const failed = await store.writer.commitBatch(batch('lost\n')).then(
    () => undefined,
    (err: Error & { code?: string }) => err,
  );
  t.equal(cuts, 1, 'the proxy cut the connection as the INSERT INTO checkpoints went by');
  t.ok(failed, 'the commit rejects');
  t.match(failed?.code ?? '', /^(CONNECTION_CLOSED|ECONNRESET|EPIPE)$/, `with the lost connection's error (${failed?.code}: ${failed?.message})`);
  // Had the client written ROLLBACK to the dead connection, the process would have died by now:
  // the next commit takes a reconnection and several round trips.
  await store.writer.commitBatch(batch('landed\n'));
  const latest = await store.writer.latestCheckpoint();
  t.equal(latest?.note, 'landed\n', 'the next commit reconnects and lands; nothing of the lost one was stored');
});
