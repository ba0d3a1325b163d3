/**
 * Graceful shutdown of a real `vitrine serve`: SIGTERM stops intake,
 * commits the batch in flight, answers its waiters and exits 0; the
 * answered entries are there after a restart.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeEntry, removeDir, tempDir } from './harness.js';

const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');

function serve(dir: string) {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--origin', 'stop.example/log', '--listen', '127.0.0.1:0', '--batch-interval', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
  });
  return { child, url, log: () => err };
}

t.test('SIGTERM commits and answers the batch in flight', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const s = serve(dir);
  const url = await s.url;
  // The batch interval is a minute: these wait in the pool until shutdown flushes them.
  const pending = Array.from({ length: 3 }, () =>
    fetch(`${url}/v1/entries`, { method: 'POST', headers: { 'Content-Type': 'application/cbor' }, body: makeEntry() }).then(async (r) => ({ status: r.status, body: (await r.json()) as { index: number } })),
  );
  // Wait until all three are in the pool (the gauge is refreshed every second).
  for (let tries = 0; !/^vitrine_pool_depth 3$/m.test(await (await fetch(`${url}/metrics`)).text()); tries++) {
    if (tries > 100) throw new Error('the three submissions never reached the pool');
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill('SIGTERM');
  const answers = await Promise.all(pending);
  t.same(answers.map((a) => a.status), [201, 201, 201], 'every waiting submission is answered 201');
  t.same(answers.map((a) => a.body.index).sort(), [0, 1, 2], 'at indexes 0..2');
  t.equal(await exited, 0, 'the server exits 0');
  t.match(s.log(), /"event":"stopping","signal":"SIGTERM"/, 'it logs the stop');
  t.match(s.log(), /"event":"stopped","size":3/, 'and the final size');

  const again = serve(dir);
  const url2 = await again.url;
  t.teardown(() => again.child.kill('SIGKILL'));
  const res = await fetch(`${url2}/v1/log`);
  const info = (await res.json()) as { size: number };
  t.equal(info.size, 3, 'after a restart the three answered entries are in the log');
  // Idle keep-alive connections outlive the clients' own idle timers (src/http/server.ts),
  // so a client never sends a request onto a connection the log has just closed.
  t.equal(res.headers.get('keep-alive'), 'timeout=65', 'the log keeps idle connections 65 s and says so');
});
