/**
 * `vitrine submit` through the real binary: against a real `vitrine serve`
 * child (sign + submit, submit of an entry signed offline, duplicate, then
 * offline `vitrine verify`), against a log that answers with a bundle that
 * does not verify (nothing is written; the error gives the index it is
 * logged at), against a wrong log key (refused before anything is sent),
 * with the log and key from VITRINE_LOG/VITRINE_LOG_KEY, serve --print-vkey,
 * and against a log that pushes back
 * with 503 + Retry-After before accepting.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');

/** Runs the CLI without blocking this process's event loop (a test server may live here). */
function vitrine(cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return vitrineEnv(cwd, {}, ...args);
}

/** The same, with these VITRINE_* variables (and no others) in the environment. */
function vitrineEnv(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITRINE_')));
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

/** The size of the log's current checkpoint (second line of the note). */
async function treeSize(url: string): Promise<number> {
  const note = await (await fetch(`${url}/checkpoint`)).text();
  return Number(note.split('\n')[1]);
}

async function serve(dir: string): Promise<{ url: string; vkey: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--origin', 'cli.example/log', '--listen', '127.0.0.1:0', '--batch-interval', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  return {
    url,
    vkey: out.trim(),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

t.test('submit and verify against a real log', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-submit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = await serve(join(dir, 'data'));
  t.teardown(log.stop);
  t.match(log.vkey, /^cli\.example\/log\+[0-9a-f]{8}\+/, 'serve prints the log vkey on first start');
  const kg = await vitrine(dir, 'keygen', '--name', 'release@example.com', '--out', 'release.key');
  t.equal(kg.code, 0, 'keygen works');
  const signerVkey = kg.stdout.trim();
  writeFileSync(join(dir, 'app.tar.gz'), 'release bytes v1');

  const sub = await vitrine(dir, 'submit', '--log', log.url, '--log-key', log.vkey, '--key', 'release.key', '--name', 'pkg:generic/app@1.0.0', '--annotate', 'version=1.0.0', 'app.tar.gz');
  t.equal(sub.code, 0, `submit exits 0 (${sub.stderr})`);
  t.match(sub.stdout, /logged at index 0/, 'submit says where the entry landed');
  t.ok(existsSync(join(dir, 'app.tar.gz.tlog-proof')), 'submit writes ARTIFACT.tlog-proof');

  const ver = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', signerVkey, 'app.tar.gz');
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
  const printed = await vitrine(dir, 'serve', '--data', join(dir, 'data'), '--origin', 'cli.example/log', '--print-vkey');
  t.equal(printed.code, 0, `serve --print-vkey exits 0 (${printed.stderr})`);
  t.equal(printed.stdout, `${log.vkey}\n`, 'and prints the vkey the first start printed');
  const wrongOrigin = await vitrine(dir, 'serve', '--data', join(dir, 'data'), '--origin', 'other.example/log', '--print-vkey');
  t.equal(wrongOrigin.code, 1, 'serve --print-vkey with another origin fails');
  t.match(wrongOrigin.stderr, /is named cli\.example\/log, not the origin other\.example\/log/, 'and says why');
  const noKey = await vitrine(dir, 'serve', '--data', join(dir, 'empty'), '--origin', 'cli.example/log', '--print-vkey');
  t.equal(noKey.code, 1, 'serve --print-vkey without a key fails');
  t.match(noKey.stderr, /no log key at .*empty\/log\.key: start the log once to create it, or give --key FILE/, 'and says how to get one');
  t.notOk(existsSync(join(dir, 'empty')), 'creating nothing');

  const usage = await vitrine(dir, 'submit', '--log', log.url, 'tool.bin.entry');
  t.equal(usage.code, 2, 'a missing --log-key is a usage error');
  const unreachable = await vitrine(dir, 'submit', '--log', 'http://127.0.0.1:9', '--log-key', log.vkey, 'tool.bin.entry');
  t.equal(unreachable.code, 1, 'an unreachable log fails with exit 1');
  t.notMatch(unreachable.stderr, /\n\s+at /, 'without a stack trace');
});

t.test('submit retries pushback and refuses a tampered answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-fake-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const real = await serve(join(dir, 'data'));
  t.teardown(real.stop);
  await vitrine(dir, 'keygen', '--name', 'release@example.com', '--out', 'release.key');
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
  t.match(bad.stderr, /The entry IS logged \(the log added it at index 1\)/, 'and that the entry is logged, at which index');
  t.notOk(existsSync(join(dir, 'b.bin.tlog-proof')), 'nothing is written');
  t.equal(await treeSize(real.url), 2, 'the log does hold it');
});
