/**
 * The sequencer lease on a real PostgreSQL (issue 10 §3): one holder at a
 * time, the epoch grows at every change of holder, a commit of an old epoch
 * is refused inside the transaction and stores nothing, and a node whose
 * lease ran out by its own clock (as after SIGSTOP) signs nothing even
 * before it noticed it lost the lease.
 */
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry, entryLeafHash, keyHash } from '../../src/entry/index.js';
import { hexDecode } from '../../src/encoding.js';
import { ConflictError, PushbackError } from '../../src/errors.js';
import { Leadership } from '../../src/log/leadership.js';
import type { Accepted } from '../../src/log/pool.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { openPostgres, type PostgresStorage } from '../../src/log/storage/postgres.js';
import { generateSigner, openCheckpoint, verifierFromSigner } from '../../src/note/index.js';
import { makeEntry, ORIGIN } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';

const signer = generateSigner(ORIGIN, nodeEd25519);
const verifier = verifierFromSigner(signer);

function accepted(data = makeEntry()): Accepted {
  const e = decodeEntry(data);
  return { data, leafHash: entryLeafHash(data), digest: e.digest, keyHash: hexDecode(keyHash(e.key), 'key', 32), name: e.name };
}

async function sequencer(store: PostgresStorage, canSign?: () => boolean): Promise<Sequencer> {
  const seq = await Sequencer.open({
    writer: store.writer, reader: store.reader, origin: ORIGIN, signer, verifier, ed: nodeEd25519,
    batchInterval: 10, batchSize: 1000, poolSize: 1000, canSign,
  });
  seq.start();
  return seq;
}

// The two tests share nothing (a database each) and mostly wait on PostgreSQL: side by side.
t.jobs = 2;

t.test('lease: one holder, growing epochs, fenced commits', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const a = await openPostgres(url, { shared: true });
  const b = await openPostgres(url, { shared: true });
  t.teardown(() => Promise.all([a.close(), b.close()]));

  t.equal(await a.acquireLease('a', 'http://a', 60_000), 1, 'the first holder gets epoch 1');
  t.equal(await b.acquireLease('b', 'http://b', 60_000), undefined, 'a live lease is not taken');
  t.equal(await a.acquireLease('a', 'http://a', 60_000), undefined, 'not even by its own holder: renew it instead');
  t.ok(await a.renewLease(1, 60_000), 'the holder renews');
  t.notOk(await b.renewLease(2, 60_000), 'an epoch nobody holds cannot be renewed');
  t.match(await b.lease(), { epoch: 1, holder: 'a', url: 'http://a', live: true }, 'every node sees who sequences and where');

  // Nothing commits without a fence, or with an epoch it does not hold.
  const emptyA = await sequencer(a).catch((err: unknown) => err);
  t.type(emptyA, ConflictError, 'an unfenced node cannot even publish the empty tree');
  b.fence(7);
  t.rejects(sequencer(b), ConflictError, 'nor can a node fenced with an epoch it does not hold');
  a.fence(1);
  const seqA = await sequencer(a);
  t.equal(seqA.size, 0, 'the holder publishes the empty tree');

  const first = seqA.submit(accepted());
  t.equal((await first).index, 0, 'the holder commits');

  // The holder stalls: its lease lapses (ended here, as expiry would) and b takes over.
  await a.releaseLease(1);
  t.equal(await b.acquireLease('b', 'http://b', 60_000), 2, 'a lapsed lease is taken with the next epoch');
  b.fence(2);
  const late = seqA.submit(accepted());
  await t.rejects(late, PushbackError, 'the old holder\'s commit is refused: its submitter gets 503');
  const seqB = await sequencer(b);
  t.equal(seqB.size, 1, 'the new holder starts from the last committed checkpoint');
  t.equal((await b.reader.latestCheckpoint())?.size, 1, 'the old holder\'s batch stored nothing');
  const next = seqB.submit(accepted());
  t.equal((await next).index, 1, 'the new holder continues the same tree');
  t.notOk(await a.renewLease(1, 60_000), 'the old holder cannot renew its epoch');
  await Promise.all([seqA.close(), seqB.close()]);
});

t.test('leadership: paused past the lease, a node signs nothing; failover; clean hand-over', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const a = await openPostgres(url, { shared: true });
  const b = await openPostgres(url, { shared: true });
  t.teardown(() => Promise.all([a.close(), b.close()]));

  let clockA = 0;
  const events: string[] = [];
  let seqA: Sequencer | undefined;
  let seqB: Sequencer | undefined;
  let signs = 0;
  const leadA: Leadership = new Leadership({
    store: a, holder: 'a', url: 'http://a', leaseMs: 3000, now: () => clockA,
    onElected: async (epoch) => {
      events.push(`a elected ${epoch}`);
      seqA = await sequencer(a, () => {
        const ok = leadA.canSign();
        if (ok) signs++;
        return ok;
      });
    },
    onDeposed: async (epoch) => {
      events.push(`a deposed ${epoch}`);
      await seqA?.close();
    },
  });
  const leadB: Leadership = new Leadership({
    store: b, holder: 'b', url: 'http://b', leaseMs: 3000,
    onElected: async (epoch) => {
      events.push(`b elected ${epoch}`);
      seqB = await sequencer(b, () => leadB.canSign());
    },
    onDeposed: async (epoch) => {
      events.push(`b deposed ${epoch}`);
      await seqB?.close();
    },
  });
  await leadA.tick();
  await leadB.tick();
  t.same(events, ['a elected 1'], 'the first node to try sequences; the second follows');
  t.ok(leadA.canSign(), 'the holder may sign');
  const one = seqA!.submit(accepted());
  t.equal((await one).index, 0);

  // "SIGSTOP": a's clock runs past its lease while it does nothing.
  clockA += 3000;
  t.notOk(leadA.canSign(), 'past its lease by its own clock, the node may not sign');
  const stale = seqA!.submit(accepted());
  const before = signs;
  await t.rejects(stale, PushbackError, 'a batch taken after the pause is refused with 503');
  t.equal(signs, before, 'and nothing was signed for it');
  t.equal((await a.reader.latestCheckpoint())?.size, 1, 'nor committed');

  // A real pause that long would have let the lease run out in the database too: end it there now
  // (as expiry would: the row is then exactly as after expiry) rather than wait 3 s of real time
  // for it. b, ticking on its own, takes the lapsed lease.
  await a.releaseLease(1);
  while (leadB.epoch === undefined) {
    await new Promise((r) => setTimeout(r, 100));
    await leadB.tick();
  }
  t.equal(leadB.epoch, 2, 'the follower took over with epoch 2 once the lease expired');
  await leadA.tick();
  t.same(events, ['a elected 1', 'b elected 2', 'a deposed 1'], '"SIGCONT": the old holder stepped down on its first tick');
  const two = seqB!.submit(accepted());
  t.equal((await two).index, 1, 'the new sequencer extends the same tree');
  const cp = openCheckpoint((await b.reader.latestCheckpoint())!.note, verifier, nodeEd25519);
  t.equal(cp.size, 2n);

  // A clean stop hands the lease back: a takes over at once, without waiting for expiry.
  await leadB.stop();
  await leadA.tick();
  t.equal(leadA.epoch, 3, 'after b stopped cleanly, a took over at once with epoch 3');
  t.same(events.slice(3), ['b deposed 2', 'a elected 3']);
  await leadA.stop();
});
