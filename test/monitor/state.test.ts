/**
 * Fail-closed state (ARCHITECTURE.md, monitor invariant 2), through the
 * real CLI: a missing, truncated or corrupted state.db stops the monitor
 * with exit 2 and a message that says what to do; --init never overwrites
 * an existing state. Plus the checks behind it, on the library: row
 * checksums, stored checkpoints re-verified, the lock against a second
 * monitor, and alert dedupe.
 */
import t from 'tap';
import { copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeAlert } from '../../src/monitor/alert.js';
import { MonitorState, StateError } from '../../src/monitor/state.js';
import { removeDir, tempDir } from '../log/harness.js';
import { entry, FakeLog, signerA } from './fake-log.js';
import { BIN, cli, readState } from './helpers.js';

const entries = Array.from({ length: 40 }, (_, i) => entry(signerA, `pkg:generic/s@${i}`));

t.test('state problems through the CLI', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  const log = await new FakeLog('state.example/log', entries).start();
  t.teardown(() => log.close());
  const args = (dir: string, ...more: string[]) => ['monitor', '--state', dir, '--log', log.url, '--log-key', log.vkey, '--once', '--workers', '0', ...more];

  // One state audited up to the log's checkpoint and closed cleanly; each case damages a copy.
  const good = tempDir('vitrine-state-');
  t.teardown(() => removeDir(good));
  const made = await cli(args(good, '--init'));
  t.equal(made.status, 0, made.status === 0 ? '--init --once on a fresh directory exits 0' : `--init --once exits 0 (stderr: ${made.stderr.slice(-300)})`);
  t.notOk(existsSync(join(good, 'state.db-wal')), 'a clean exit leaves no WAL behind');
  async function goodState(): Promise<string> {
    const dir = tempDir('vitrine-state-');
    t.teardown(() => removeDir(dir));
    copyFileSync(join(good, 'state.db'), join(dir, 'state.db'));
    return dir;
  }

  t.test('missing', async (t) => {
    const dir = tempDir('vitrine-state-');
    t.teardown(() => removeDir(dir));
    const r = await cli(args(dir));
    t.equal(r.status, 2, 'exit 2');
    t.match(r.stderr, /no monitor state at .*state\.db.*--init/s, 'the message says there is no state and names --init');
    t.notOk(existsSync(join(dir, 'state.db')), 'nothing was created');
  });

  t.test('--init on an existing state refuses and leaves it alone', async (t) => {
    const dir = await goodState();
    const before = readFileSync(join(dir, 'state.db'));
    const r = await cli(args(dir, '--init'));
    t.equal(r.status, 2, 'exit 2');
    t.match(r.stderr, /already exists.*refusing to overwrite/, 'says it will not overwrite');
    t.same(readFileSync(join(dir, 'state.db')), before, 'the state is unchanged');
    const again = await cli(args(dir));
    t.equal(again.status, 0, 'and still opens');
  });

  for (const [name, damage, pattern] of [
    ['truncated to half', (p: string) => truncateSync(p, Math.floor(statSync(p).size / 2)), /corrupt/],
    ['truncated to nothing', (p: string) => truncateSync(p, 0), /corrupt.*not an SQLite database/],
    ['header overwritten', (p: string) => overwrite(p, 0, 16), /corrupt/],
    ['a b-tree page overwritten', (p: string) => overwrite(p, 4096, 100), /corrupt/],
    ['a stored checkpoint altered', (p: string) => flipAll(p, rootOf(log.checkpoint)), /corrupt/],
  ] as const) {
    t.test(name, async (t) => {
      const dir = await goodState();
      damage(join(dir, 'state.db'));
      const r = await cli(args(dir));
      t.equal(r.status, 2, `exit 2 (stderr: ${r.stderr.trim().slice(-200)})`);
      t.match(r.stderr, pattern, 'the message says the state is corrupt');
      t.match(r.stderr, /--init|backup/, 'and what to do');
      t.notMatch(r.stderr, /"event":"audit-start"/, 'no audit started');
      t.equal(r.stdout, '', 'no alerts printed');
    });
  }
});

function overwrite(path: string, at: number, n: number): void {
  const b = readFileSync(path);
  b.fill(0xa5, at, at + n);
  writeFileSync(path, b);
}

/** Flips a byte in every copy of `needle` in the file (live row and any stale copy). */
function flipAll(path: string, needle: string): void {
  const b = readFileSync(path);
  let found = 0;
  for (let i = b.indexOf(needle); i >= 0; i = b.indexOf(needle, i + 1)) {
    b[i + 5]! ^= 0x01;
    found++;
  }
  if (found === 0) throw new Error('needle not in the file');
  writeFileSync(path, b);
}

function rootOf(note: string): string {
  return note.split('\n')[2]!;
}

t.test('library checks', async (t) => {
  const log = new FakeLog('lib.example/log', entries.slice(0, 3));
  const dir = tempDir('vitrine-state-');
  t.teardown(() => removeDir(dir));
  const s = MonitorState.create(dir, [{ origin: log.origin, vkey: log.vkey, url: 'http://127.0.0.1:1' }]);
  // Without the default 5 s wait for the lock (SQLite's busy timeout): the refusal is the same, at once.
  t.throws(() => MonitorState.open(dir, { lockWaitMs: 0 }), StateError, 'a second monitor on the same state is refused while the first holds it');
  try {
    MonitorState.open(dir, { lockWaitMs: 0 });
    t.fail('a second open succeeded');
  } catch (err) {
    t.match((err as Error).message, /in use by another monitor/, 'with a clear message');
  }
  const a = makeAlert('k1', { kind: 'revoked-key', origin: log.origin, index: 1, message: 'm.' });
  t.equal(s.commit(log.origin, {}, [a]).length, 1, 'a new alert is stored');
  t.equal(s.commit(log.origin, {}, [a]).length, 0, 'the same key is dropped (dedupe)');
  s.close();

  t.throws(() => MonitorState.create(dir, []), /already exists/, 'create refuses an existing state');

  const db = new Database(join(dir, 'state.db'));
  db.prepare('UPDATE logs SET audited = audited + 1').run();
  db.close();
  t.throws(() => MonitorState.open(dir), /fails its checksum/, 'a row changed behind the monitor\'s back fails its checksum');
});

t.test('the state reopens to the same content', async (t) => {
  const log = await new FakeLog('reopen.example/log', entries).start();
  const dir = tempDir('vitrine-state-');
  t.teardown(async () => {
    await log.close();
    removeDir(dir);
  });
  const r = await cli(['monitor', '--state', dir, '--init', '--once', '--workers', '0', '--log', log.url, '--log-key', log.vkey]);
  t.equal(r.status, 0, 'audited');
  const st = readState(dir);
  t.equal(st.logs[0]!.verified.note, log.checkpoint, 'the verified note is stored whole');
  t.equal(st.logs[0]!.position, 40, 'the position');
  t.equal(st.logs[0]!.audited, 40, 'the audited count');
});

t.test('gossip memory: bounded pending checkpoints, peer episodes, and states made before it existed', async (t) => {
  const log = new FakeLog('gossip-mem.example/log', entries.slice(0, 1));
  const dir = tempDir('vitrine-state-');
  t.teardown(() => removeDir(dir));
  MonitorState.create(dir, [{ origin: log.origin, vkey: log.vkey, url: 'http://127.0.0.1:1' }]).close();
  // A version-1 state from before the gossip tables: they are added on open.
  const db = new Database(join(dir, 'state.db'));
  db.exec('DROP TABLE pending; DROP TABLE peers_down');
  db.close();
  let s = MonitorState.open(dir);
  for (let i = 0; i < 5; i++) s.pendingAdd(log.origin, { body: `body ${i}\n`, note: `note ${i}`, from: 'peer', at: 'now', size: BigInt(10 + i) }, 3);
  s.pendingAdd(log.origin, { body: 'body 4\n', note: 'note 4 again', from: 'peer', at: 'now', size: 14n }, 3);
  t.same(s.pending(log.origin).map((p) => p.body), ['body 2\n', 'body 3\n', 'body 4\n'], 'at most 3 kept, the oldest dropped, each body once');
  t.equal(s.pending(log.origin)[2]!.size, 14n, 'sizes come back as BigInt');
  s.pendingDelete(log.origin, 'body 3\n');
  const a = makeAlert('peer-down-1', { kind: 'peer-unreachable', origin: log.origin, message: 'm.' });
  t.equal(s.peerDown(log.origin, 'http://peer', '2026-01-01T00:00:00Z', [a]).length, 1, 'a peer episode opens with its alert');
  t.equal(s.peerDownSince('http://unrelated'), undefined, 'other peers are not down');
  s.close();
  s = MonitorState.open(dir);
  t.same(s.pending(log.origin).map((p) => p.body), ['body 2\n', 'body 4\n'], 'pending checkpoints survive a reopen');
  t.equal(s.peerDownSince('http://peer'), '2026-01-01T00:00:00Z', 'so does the open episode');
  s.peerUp('http://peer');
  t.equal(s.peerDownSince('http://peer'), undefined, 'recovery closes it');
  s.close();
});

t.test('acknowledgements: recorded with who and when, survive a reopen, older states gain the table, tampering fails closed', async (t) => {
  const log = new FakeLog('ack.example/log', entries.slice(0, 1));
  const dir = tempDir('vitrine-state-');
  t.teardown(() => removeDir(dir));
  MonitorState.create(dir, [{ origin: log.origin, vkey: log.vkey, url: 'http://127.0.0.1:1' }]).close();
  // A version-1 state from before acknowledgements: the table is added on open.
  let db = new Database(join(dir, 'state.db'));
  db.exec('DROP TABLE acks');
  db.close();
  let s = MonitorState.open(dir);
  const sec = makeAlert('k-sec', { kind: 'revoked-key', origin: log.origin, index: 0, message: 'm.' });
  const op = makeAlert('k-op', { kind: 'log-unreachable', origin: log.origin, message: 'm.' });
  const [a, b] = s.commit(log.origin, {}, [sec, op]);
  t.equal(s.unacknowledgedSecurity(), 1, 'one security alert stands; operational ones do not count');
  t.throws(() => s.acknowledge([a!.seq, 99], 'bob'), /no alert with id 99/, 'an unknown id is refused');
  t.equal(s.unacknowledgedSecurity(), 1, 'and nothing of that call was recorded');
  t.same(s.acknowledge([a!.seq], 'alice', '2026-01-02T03:04:05.000Z'), [a!.seq], 'acknowledged');
  t.same(s.acknowledge([a!.seq, b!.seq], 'bob'), [b!.seq], 'a second acknowledgement of the same alert is not recorded');
  t.equal(s.unacknowledgedSecurity(), 0, 'no security alert stands');
  s.close();
  s = MonitorState.open(dir);
  t.same(s.listAlerts().map((x) => [x.seq, x.alert.kind, x.ack?.by]), [[a!.seq, 'revoked-key', 'alice'], [b!.seq, 'log-unreachable', 'bob']], 'who acknowledged survives a reopen');
  t.equal(s.listAlerts()[0]!.ack!.at, '2026-01-02T03:04:05.000Z', 'and when');
  s.close();
  db = new Database(join(dir, 'state.db'));
  db.prepare("UPDATE acks SET by = 'mallory' WHERE seq = ?").run(a!.seq);
  db.close();
  t.throws(() => MonitorState.open(dir), /acknowledgement of alert 1 fails its checksum/, 'an acknowledgement changed behind the monitor\'s back fails closed');
});
