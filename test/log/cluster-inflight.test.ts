/**
 * Submissions in flight at a follower when the sequencer dies (issue 10 §3):
 * they get an error at their node or are answered later, never a 201 for
 * something that is not durable. Two `vitrine serve` nodes on one
 * PostgreSQL database and a real witness process (`vitrine monitor
 * --witness-key`, quorum 1), all on port 0. Made deterministic with
 * SIGSTOP rather than timing:
 *
 * - witness stopped: submissions at the follower are forwarded, committed
 *   by the sequencer (the follower's /v1/log shows them sequenced) and wait
 *   there for the cosignature: durable, unanswered;
 * - sequencer stopped too: more submissions at the follower are forwarded
 *   into the stopped process's socket: not durable, unanswered;
 * - then the sequencer is killed with SIGKILL. The witness timeout (hence
 *   the forward timeout) is far longer than the test may run, so an answer
 *   now comes from the kill, not from waiting. Every one of them is a 503
 *   with Retry-After, or (had the follower reached a new sequencer) a
 *   201/200 whose entry is in the final tree at its index; the follower
 *   takes over, the witness continues, and resubmitting gives 200 at the
 *   same index for the committed ones, and 201 or 200 for the others;
 *   every entry ever answered 201/200 is in the final tree at its index.
 */
import t from 'tap';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode } from '../../src/encoding.js';
import { decodeEntry } from '../../src/entry/index.js';
import { parseVerifier, verifyCosignatures } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit } from './audit.js';
import { keyFile, killNode, logKey, sequencerAfter, sleep, startNodes, type Answer, type Node } from './cluster-fixture.js';
import { makeEntry, post, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';
import { portOf, startProc } from '../monitor/procs.js';

t.test('in flight at a follower when the sequencer is killed: 503 or a durable answer, never a 201 for what is lost', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const dir = tempDir();
  const { path: keyPath, vkey } = logKey(dir);
  const wvkey = keyFile(join(dir, 'w1.key'), 'w1.example').cosignerVkey;
  const trust = { logKey: vkey, witnesses: [wvkey], quorum: 1 };

  // The witness follows nothing useful (--log points nowhere): it only cosigns.
  const witness = startProc([
    'monitor', '--state', join(dir, 'mon'), '--init', '--log', 'http://127.0.0.1:9', '--log-key', vkey,
    '--listen', '127.0.0.1:0', '--witness-key', join(dir, 'w1.key'), '--interval', '60', '--workers', '0',
  ]);
  t.teardown(() => {
    witness.child.kill('SIGCONT');
    return witness.stop('SIGKILL');
  });
  const witnessUrl = `http://127.0.0.1:${portOf(await witness.waitEvent('listen', 60_000))}`;
  const nodes = await startNodes(t, url, keyPath, ['f1', 'f2'], dir, {
    extra: ['--witness', `${witnessUrl}=${wvkey}`, '--quorum', '1', '--witness-timeout', '600000'],
  });

  const first = await sequencerAfter(nodes, 0);
  const seq = first.node;
  const follower = nodes.find((n) => n !== seq)!;
  const answered = new Map<string, { index: number; entry: Uint8Array }>();
  const notes: string[] = [];
  const record = (e: Uint8Array, r: Answer, what: string) => {
    if (r.status !== 201 && r.status !== 200) return;
    const v = verifyBundle({ digest: decodeEntry(e).digest }, r.json.bundle, trust, nodeEd25519);
    t.ok(v.ok, `${what}: its bundle verifies with the witness`);
    answered.set(b64encode(e), { index: r.json.index as number, entry: e });
    notes.push(r.json.checkpoint);
  };
  for (let i = 0; i < 3; i++) {
    const e = makeEntry();
    const r = await post(follower.base, e);
    t.equal(r.status, 201, `a submission at the follower ${follower.name} is answered 201`);
    record(e, r, `entry ${i}`);
  }
  const logSize = async (n: Node) => Number(((await (await fetch(`${n.base}/v1/log`)).json()) as { size: number }).size);

  // The witness stops: forwarded submissions are committed by the sequencer, then wait for the cosignature.
  witness.child.kill('SIGSTOP');
  const committed = Array.from({ length: 3 }, () => makeEntry());
  const committedAnswers = committed.map((e) => post(follower.base, e).catch((err: Error) => ({ status: 0, json: err.message, headers: new Headers() }) as Answer));
  let seen = 0;
  for (let i = 0; i < 1200 && seen < 6; i++) {
    seen = await logSize(follower);
    if (seen < 6) await sleep(25);
  }
  t.equal(seen, 6, 'the follower sees the three forwarded entries committed (sequenced size 6), still unanswered');

  // The sequencer stops too: more submissions at the follower go into its socket, uncommitted.
  seq.proc.child.kill('SIGSTOP');
  const stuck = Array.from({ length: 3 }, () => makeEntry());
  const stuckAnswers = stuck.map((e) => post(follower.base, e).catch((err: Error) => ({ status: 0, json: err.message, headers: new Headers() }) as Answer));
  await killNode(seq);

  const inFlight = await Promise.all([...committedAnswers, ...stuckAnswers]);
  const entries = [...committed, ...stuck];
  for (const [i, r] of inFlight.entries()) {
    const what = `in-flight submission ${i} (${i < 3 ? 'committed' : 'not committed'} when the sequencer died)`;
    if (r.status === 503) {
      t.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, `${what}: 503 with Retry-After`);
      t.match(r.json.message, /^the sequencing node did not answer \(.+\); the entry may or may not be logged: resubmit it \(an entry already logged answers 200 with its index\)$/, `saying that resubmitting is safe (${r.json.message})`);
    } else {
      t.ok(r.status === 201 || r.status === 200, `${what}: answered ${r.status}, which must be a durable answer`);
      record(entries[i]!, r, what);
    }
  }
  t.ok(inFlight.slice(0, 3).every((r) => r.status === 503), 'the committed ones, whose sequencer died before the cosignature, get 503 at the follower');

  // The follower takes over; the witness resumes; resubmissions are answered.
  const second = await sequencerAfter([follower], first.epoch);
  t.equal(second.node, follower, `${follower.name} took over (epoch ${second.epoch})`);
  witness.child.kill('SIGCONT');
  const committedSizeBefore = 6;
  for (const [i, e] of entries.entries()) {
    let r: Answer | undefined;
    for (let k = 0; k < 300; k++) {
      r = await post(follower.base, e);
      if (r.status !== 503) break;
      await sleep(100);
    }
    const prior = answered.get(b64encode(e));
    if (i < 3) {
      t.equal(r!.status, 200, `committed entry ${i}: resubmitting answers 200: it was durable`);
      t.ok((r!.json.index as number) < committedSizeBefore, `at its index from before the kill (${r!.json.index})`);
    } else {
      t.ok(r!.status === 201 || r!.status === 200, `uncommitted entry ${i}: resubmitting is answered (${r!.status})`);
    }
    if (prior) t.equal(r!.json.index, prior.index, `entry ${i} stays at the index it was answered with`);
    record(e, r!, `resubmitted entry ${i}`);
  }
  const served = await (await fetch(`${follower.base}/checkpoint`)).text();
  t.equal(verifyCosignatures(served, [parseVerifier(wvkey)], nodeEd25519).length, 1, 'the new sequencer serves a cosigned checkpoint');

  const final = await audit(follower.base, vkey, notes);
  let misplaced = 0;
  for (const { index, entry } of answered.values()) if (Buffer.compare(final.entries[index] ?? new Uint8Array(), entry) !== 0) misplaced++;
  t.equal(misplaced, 0, `every one of the ${answered.size} entries ever answered 201/200 is in the final tree at its index`);
  t.equal(final.size, 9, 'and the tree holds each submitted entry once');
});
