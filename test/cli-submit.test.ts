/**
 * `vitrine submit` through the real binary: against a real `vitrine serve`
 * child (sign + submit, submit of an entry signed offline, duplicate, then
 * offline `vitrine verify`), against a log that answers with a bundle that
 * does not verify (nothing is written; the error gives the index it is
 * logged at), against a wrong log key (refused before anything is sent),
 * with the log and key from VITRINE_LOG/VITRINE_LOG_KEY, serve --print-vkey,
 * against a log that pushes back with 503 + Retry-After before accepting,
 * and an oversized POST written whole before reading (its 413 arrives).
 * One `vitrine serve` serves every test of the file (test/_cli.ts). The
 * first run of each command, every run with variables in its environment
 * and the pipes of `sign - -o - | submit - -o - | verify -` are the built
 * binary; the other cases run in this process (test/_cli.ts vitrineIn).
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServe, treeSize, vitrine as spawned, vitrineIn, vitrineSync } from './_cli.js';

let kgVkey = '';

/** In this process; `vitrineP` and `vitrineEnv` run the binary. */
const vitrine = (cwd: string, ...args: string[]) => vitrineIn(cwd, args);
const vitrineP = (cwd: string, ...args: string[]) => spawned(cwd, args);
const vitrineEnv = (cwd: string, env: Record<string, string>, ...args: string[]) => spawned(cwd, args, { env });

const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-submit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const log = await startServe(join(dir, 'data'), 'cli.example/log', ['--batch-interval', '10']);
t.teardown(log.stop);

t.test('submit and verify against a real log', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  t.match(log.vkey, /^cli\.example\/log\+[0-9a-f]{8}\+/, 'serve prints the log vkey on first start');
  const kg = await vitrineP(dir, 'keygen', '--name', 'release@example.com', '--out', 'release.key');
  t.equal(kg.code, 0, 'keygen works');
  const signerVkey = kg.stdout.trim();
  kgVkey = signerVkey;
  writeFileSync(join(dir, 'app.tar.gz'), 'release bytes v1');

  const sub = await vitrineP(dir, 'submit', '--log', log.url, '--log-key', log.vkey, '--key', 'release.key', '--name', 'pkg:generic/app@1.0.0', '--annotate', 'version=1.0.0', 'app.tar.gz');
  t.equal(sub.code, 0, `submit exits 0 (${sub.stderr})`);
  t.match(sub.stdout, /logged at index 0/, 'submit says where the entry landed');
  t.ok(existsSync(join(dir, 'app.tar.gz.tlog-proof')), 'submit writes ARTIFACT.tlog-proof');

  const ver = await vitrineP(dir, 'verify', '--log-key', log.vkey, '--signer', signerVkey, 'app.tar.gz');
  t.equal(ver.code, 0, `the written bundle verifies offline (${ver.stderr})`);

  const named = await vitrine(dir, 'verify', '--log-key', log.vkey, '--name', 'pkg:generic/app@1.0.0', 'app.tar.gz');
  t.equal(named.code, 0, 'verify --name with the right name passes');
  const renamed = await vitrine(dir, 'verify', '--log-key', log.vkey, '--name', 'pkg:generic/app@2.0.0', 'app.tar.gz');
  t.equal(renamed.code, 1, 'verify --name with another name fails');
  t.match(renamed.stderr, /names "pkg:generic\/app@1\.0\.0", not the expected "pkg:generic\/app@2\.0\.0"/, 'and says which name it found');

  const again = await vitrine(dir, 'submit', '--log', log.url, '--log-key', log.vkey, '--key', 'release.key', '--name', 'pkg:generic/app@1.0.0', '--annotate', 'version=1.0.0', 'app.tar.gz');
  t.equal(again.code, 1, 'submitting again does not overwrite the existing bundle');
  t.match(again.stderr, /already exists/, 'and says why');
  const forced = await vitrine(dir, 'submit', '--force', '--log', log.url, '--log-key', log.vkey, '--key', 'release.key', '--name', 'pkg:generic/app@1.0.0', '--annotate', 'version=1.0.0', 'app.tar.gz');
  t.match(forced.stdout, /already logged at index 0/, 'a duplicate is reported with its existing index');

  // Sign offline, submit the entry file later.
  writeFileSync(join(dir, 'tool.bin'), 'tool bytes');
  const signed = await vitrine(dir, 'sign', '--key', 'release.key', '--name', 'pkg:generic/tool@2', 'tool.bin');
  t.equal(signed.code, 0, `offline sign works (${signed.stderr})`);
  // The log and its key from the environment; a file holding the vkey will do.
  writeFileSync(join(dir, 'log.vkey'), `${log.vkey}\n`);
  const sub2 = await vitrineEnv(dir, { VITRINE_LOG: log.url, VITRINE_LOG_KEY: 'log.vkey' }, 'submit', 'tool.bin.entry');
  t.equal(sub2.code, 0, `submitting an entry file with VITRINE_LOG and VITRINE_LOG_KEY works (${sub2.stderr})`);
  t.match(sub2.stdout, /logged at index 1/, 'at the next index');
  t.ok(existsSync(join(dir, 'tool.bin.tlog-proof')), 'the bundle lands next to the artifact');
  t.equal((await vitrine(dir, 'verify', '--log-key', log.vkey, 'tool.bin')).code, 0, 'and verifies');

  // Wrong log key: the answer does not verify, nothing is written.
  writeFileSync(join(dir, 'other.bin'), 'other bytes');
  const otherKey = (await vitrine(dir, 'keygen', '--name', 'cli.example/log', '--out', 'fake-log.key')).stdout.trim();
  const sizeBefore = await treeSize(log.url);
  const bad = await vitrine(dir, 'submit', '--log', log.url, '--log-key', otherKey, '--key', 'release.key', '--name', 'pkg:generic/other@1', 'other.bin');
  t.equal(bad.code, 1, 'a log whose checkpoint does not verify with the given log key fails');
  t.match(bad.stderr, /^vitrine: the checkpoint of http:\/\/127\.0\.0\.1:\d+ does not verify with the log key cli\.example\/log\+[0-9a-f]{8} \(.*\); nothing was submitted\n$/, 'naming the key, before sending anything');
  t.notOk(existsSync(join(dir, 'other.bin.tlog-proof')), 'and nothing is written');
  t.equal(await treeSize(log.url), sizeBefore, 'and nothing was logged');

  // A flag overrides the environment; --print-vkey prints the log's key again.
  const override = await vitrineEnv(dir, { VITRINE_LOG: 'http://127.0.0.1:9', VITRINE_LOG_KEY: otherKey }, 'submit', '--log', log.url, '--log-key', log.vkey, '--force', 'tool.bin.entry');
  t.equal(override.code, 0, `--log and --log-key override VITRINE_LOG and VITRINE_LOG_KEY (${override.stderr})`);
  const printed = await vitrineP(dir, 'serve', '--data', join(dir, 'data'), '--origin', 'cli.example/log', '--print-vkey');
  t.equal(printed.code, 0, `serve --print-vkey exits 0 (${printed.stderr})`);
  t.equal(printed.stdout, `${log.vkey}\n`, 'and prints the vkey the first start printed');
  const wrongOrigin = await vitrine(dir, 'serve', '--data', join(dir, 'data'), '--origin', 'other.example/log', '--print-vkey');
  t.equal(wrongOrigin.code, 1, 'serve --print-vkey with another origin fails');
  t.match(wrongOrigin.stderr, /is named cli\.example\/log, not the origin other\.example\/log/, 'and says why');
  const noKey = await vitrine(dir, 'serve', '--data', join(dir, 'empty'), '--origin', 'cli.example/log', '--print-vkey');
  t.equal(noKey.code, 1, 'serve --print-vkey without a key fails');
  t.match(noKey.stderr, /no log key at .*empty\/log\.key: start the log once to create it, or give --key FILE/, 'and says how to get one');
  t.notOk(existsSync(join(dir, 'empty')), 'creating nothing');

  const usage = await vitrineP(dir, 'submit', '--log', log.url, 'tool.bin.entry');
  t.equal(usage.code, 2, 'a missing --log-key is a usage error');
  const unreachable = await vitrine(dir, 'submit', '--log', 'http://127.0.0.1:9', '--log-key', log.vkey, 'tool.bin.entry');
  t.equal(unreachable.code, 1, 'an unreachable log fails with exit 1');
  t.notMatch(unreachable.stderr, /\n\s+at /, 'without a stack trace');
});

t.test('- is stdin or stdout: sign - -o - | submit - -o - | verify -', async (t) => {
  // release.key and the log of the first test. The entry is binary: read it as bytes.
  const artifact = 'piped release bytes\n';
  const signed = vitrineSync(dir, ['sign', '--key', 'release.key', '--name', 'pkg:generic/pipe@1', '-o', '-', '-'], { input: artifact });
  t.equal(signed.code, 0, `sign - -o - reads the artifact from stdin (${signed.stderr})`);
  t.notOk(existsSync(join(dir, '-')) || existsSync(join(dir, '-.entry')), 'and writes no file named after "-"');
  const L = ['--log', log.url, '--log-key', log.vkey];
  const sub = await spawned(dir, ['submit', ...L, '--json', '-o', '-', '-'], { input: signed.stdout });
  t.equal(sub.code, 0, `submit - -o - reads the entry from stdin (${sub.stderr})`);
  t.match(sub.stdout, /^c2sp\.org\/tlog-proof@v1\n/, 'and writes the bundle alone to stdout');
  const doc = JSON.parse(sub.stderr) as { index: number; out: string };
  t.match(doc, { fresh: true, out: '-' }, 'its --json report goes to stderr');
  writeFileSync(join(dir, 'pipe.tlog-proof'), sub.stdout);
  const fromStdin = await spawned(dir, ['verify', '--log-key', log.vkey, '--json', '-', 'pipe.tlog-proof'], { input: artifact });
  t.equal(fromStdin.code, 0, `verify - BUNDLE hashes the artifact from stdin (${fromStdin.stderr})`);
  t.match(JSON.parse(fromStdin.stdout), { ok: true, name: 'pkg:generic/pipe@1', index: String(doc.index) }, 'and verifies it');
  const tampered = await vitrineIn(dir, ['verify', '--log-key', log.vkey, '-', 'pipe.tlog-proof'], { input: 'other bytes' });
  t.equal(tampered.code, 1, 'other bytes on stdin fail at step 1');
  t.match(tampered.stderr, /^vitrine: step 1: /, 'saying so');
  writeFileSync(join(dir, 'pipe.bin'), artifact);
  const bundleIn = await vitrineIn(dir, ['verify', '--log-key', log.vkey, 'pipe.bin', '-'], { input: sub.stdout });
  t.equal(bundleIn.code, 0, `verify ARTIFACT - reads the bundle from stdin (${bundleIn.stderr})`);
  const signedFile = await vitrineIn(dir, ['submit', ...L, '--key', 'release.key', '--name', 'pkg:generic/pipe@2', '-o', 'pipe2.tlog-proof', '-'], { input: 'second piped release\n' });
  t.equal(signedFile.code, 0, `submit --key - signs the artifact from stdin (${signedFile.stderr})`);
  t.match(signedFile.stdout, /^logged at index \d+ \(leaf [A-Za-z0-9+/]{43}=\); wrote pipe2\.tlog-proof\n$/, 'and writes the bundle to -o');
  const info = await vitrineIn(dir, ['key', 'info', '--json', '-'], { input: `${kgVkey}\n` });
  t.equal(JSON.parse(info.stdout).vkey, kgVkey, 'key info - reads the key from stdin');

  // Where a name must come from elsewhere, "-" without it is a usage error, and nothing is logged.
  const size = await treeSize(log.url);
  const usage: Array<[string[], RegExp]> = [
    [['sign', '--key', 'release.key', '--name', 'n', '-'], /with the artifact on stdin \(-\), give -o FILE or -o -/],
    [['verify', '--log-key', log.vkey, '-'], /with the artifact on stdin \(-\), give the bundle file as the second argument/],
    [['submit', ...L, '-'], /with the entry on stdin \(-\), give -o FILE or -o -/],
    [['submit', ...L, '--key', 'release.key', '--name', 'n', '-'], /with the artifact on stdin \(-\), give -o FILE or -o -/],
    [['submit', ...L, '--signature', 'x.sig', '--name', 'n', '-o', 'x', '-'], /--signature needs the artifact as a file, not stdin/],
  ];
  for (const [i, [args, message]] of usage.entries()) {
    const r = await (i === 0 ? spawned : vitrineIn)(dir, args, { input: 'bytes' });
    t.equal(r.code, 2, `${args[0]} ... -: exit 2`);
    t.match(r.stderr, message, `${args[0]}: ${r.stderr.trim()}`);
  }
  t.equal(await treeSize(log.url), size, 'nothing was logged');
});

t.test('submit retries pushback and refuses a tampered answer', async (t) => {
  // The log of the first test, and its signer key release.key.
  const real = log;
  // A proxy in front of the real log: 503 to the first two POSTs, then passes
  // through; with tamper on, the answer's bundle claims another index.
  let calls = 0;
  let tamper = false;
  const proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'POST') calls++;
    if (req.method === 'POST' && !tamper && calls <= 2) {
      res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'application/json' });
      res.end('{"error":"unavailable","message":"busy"}');
      return;
    }
    const upstream = req.method === 'POST'
      ? await fetch(`${real.url}${req.url}`, { method: 'POST', headers: { 'Content-Type': String(req.headers['content-type']) }, body: Buffer.concat(chunks) })
      : await fetch(`${real.url}${req.url}`);
    let body = await upstream.text();
    if (tamper && req.method === 'POST') {
      const json = JSON.parse(body);
      json.bundle = json.bundle.replace(/\nindex (\d+)\n/, (_: string, i: string) => `\nindex ${Number(i) + 1}\n`);
      body = JSON.stringify(json);
    }
    res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'a.bin'), 'a');
  const before = await treeSize(real.url);
  const started = Date.now();
  const ok = await vitrine(dir, 'submit', '--log', url, '--log-key', real.vkey, '--key', 'release.key', '--name', 'pkg:generic/a@1', 'a.bin');
  t.equal(ok.code, 0, `submit succeeds after two 503s (${ok.stderr})`);
  t.equal(calls, 3, 'it posted three times');
  t.match(ok.stderr, /answered 503; retrying in 1s/, 'and said it was retrying');
  t.ok(Date.now() - started >= 2000, 'honouring Retry-After between tries');

  tamper = true;
  writeFileSync(join(dir, 'b.bin'), 'b');
  const bad = await vitrine(dir, 'submit', '--log', url, '--log-key', real.vkey, '--key', 'release.key', '--name', 'pkg:generic/b@1', 'b.bin');
  t.equal(bad.code, 1, 'a tampered answer is an error');
  t.match(bad.stderr, /does not verify/, 'that says the answer does not verify');
  t.match(bad.stderr, `The entry IS logged (the log added it at index ${before + 1})`, 'and that the entry is logged, at which index');
  t.notOk(existsSync(join(dir, 'b.bin.tlog-proof')), 'nothing is written');
  t.equal(await treeSize(real.url), before + 2, 'the log does hold it');
});

t.test('an oversized POST to a real serve, written whole before reading, gets its 413 every time', async (t) => {
  // Issue 14 §3: a Go net/http client sending 1 MiB sometimes read a reset
  // instead of the 413. This client does what it does: it writes the whole
  // body, then reads. Reading is paused until the last byte is written, so
  // an answer that arrives early waits in the socket, as it would in Go's.
  const port = Number(new URL(log.url).port);
  const body = Buffer.alloc(1024 * 1024, 0x62);
  const once = () =>
    new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const got: Buffer[] = [];
      const failed = (err: Error) => resolve(`failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      socket.on('error', failed);
      socket.on('data', (c: Buffer) => got.push(c));
      socket.on('end', () => {
        resolve(Buffer.concat(got).toString('latin1'));
        socket.end();
      });
      socket.pause();
      socket.write(`POST /v1/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cbor\r\nContent-Length: ${body.length}\r\n\r\n`);
      // One write of the whole body: its callback runs once the kernel took every byte.
      socket.write(body, (err) => (err ? failed(err) : socket.resume()));
    });
  const before = await treeSize(log.url);
  const rounds = 20;
  const answers: string[] = [];
  for (let i = 0; i < rounds; i++) answers.push(await once());
  const bad = answers.filter((a) => !(a.startsWith('HTTP/1.1 413 ') && a.includes('"too-large"')));
  t.same(bad.map((a) => a.slice(0, 80)), [], `all ${rounds} clients read a 413 too-large after writing 1 MiB`);
  t.equal(await treeSize(log.url), before, 'nothing was logged');
  t.equal((await fetch(`${log.url}/v1/log`)).status, 200, 'and the log still answers');
});
