/**
 * The package as a new user gets it (issue 14 §1): `npm pack` makes a
 * tarball with the built command and no sources or tests; `npm install -g`
 * of that tarball into a temporary prefix gives a `vitrine` on PATH; and the
 * README's quick start runs with it from an empty folder: serve, keygen,
 * submit, verify, then reading the log back with VITRINE_LOG and
 * VITRINE_LOG_KEY set (log, get, search, proof, each with --json).
 *
 * Two concessions to a test that must run offline and in minutes:
 * - npm installs from its cache (--offline), which `npm ci` filled;
 * - install scripts are off, and better-sqlite3's native addon is copied
 *   from this checkout's node_modules (the same exact-pinned version, the
 *   same Node). Compiling it from source takes npm about nine minutes on the
 *   CI machine and is npm's and better-sqlite3's business, not ours.
 * The tarball is packed with --ignore-scripts too: `npm test` built dist/
 * already, and a second build here would race the other test files that
 * read it. Without that flag, `npm pack` runs `prepare` (npm run build).
 */
import t from 'tap';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './_root.js';

const root = ROOT;

function npm(cwd: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
}

t.test('npm pack, npm install -g, and the quick start from an empty folder', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'vitrine-pack-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

  const packed = npm(root, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp]);
  t.equal(packed.status, 0, `npm pack exits 0 (${packed.stderr.slice(-500)})`);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const files = info.files.map((f) => f.path);
  t.ok(files.includes('dist/cmd/vitrine.js'), 'the tarball holds the built command');
  t.ok(files.includes('dist/web/index.html'), 'and the web pages serve shows');
  t.ok(files.includes('README.md'), 'and the README');
  t.same(files.filter((f) => /^(test|src|cmd|merkle|web|node_modules)\//.test(f) || /(^|\/)[^/]+(?<!\.d)\.ts$/.test(f)), [], 'but no sources, tests or node_modules');

  const prefix = join(tmp, 'prefix');
  const installed = npm(tmp, ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', join(tmp, info.filename)]);
  t.equal(installed.status, 0, `npm install -g of the tarball exits 0 (${installed.stderr.slice(-800)})`);
  const pkgDir = join(prefix, 'lib/node_modules/vitrine');
  const sqlite = join(pkgDir, 'node_modules/better-sqlite3');
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  t.equal(version(sqlite), version(join(root, 'node_modules/better-sqlite3')), 'the installed better-sqlite3 is the pinned version');
  cpSync(join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(sqlite, 'build/Release/better_sqlite3.node'));
  t.ok(existsSync(join(prefix, 'bin/vitrine')), 'vitrine is on the prefix bin');

  // From an empty folder, with only the installed command on PATH.
  const home = join(tmp, 'work');
  mkdirSync(home);
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITRINE_'))), PATH: `${join(prefix, 'bin')}:${process.env['PATH']}` };
  const vitrine = (...args: string[]) => vitrineWith({}, ...args);
  const vitrineWith = (vars: Record<string, string>, ...args: string[]) => {
    const r = spawnSync('vitrine', args, { cwd: home, env: { ...env, ...vars }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  const server = spawn('vitrine', ['serve', '--data', './data', '--origin', 'localhost/vitrine', '--listen', '127.0.0.1:0'], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => new Promise<void>((r) => (server.exitCode !== null ? r() : (server.once('exit', () => r()), server.kill('SIGTERM')))));
  let out = '';
  let err = '';
  server.stdout.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    server.stderr.on('data', (d) => {
      err += d;
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    server.on('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  const logVkey = out.trim();
  t.match(logVkey, /^localhost\/vitrine\+[0-9a-f]{8}\+/, 'serve prints the log vkey on first start');
  // The README's second terminal reads it back with --print-vkey while the log runs.
  const printed = vitrine('serve', '--data', './data', '--origin', 'localhost/vitrine', '--print-vkey');
  t.equal(printed.code, 0, `serve --print-vkey (${printed.stderr})`);
  t.equal(printed.stdout.trim(), logVkey, 'serve --print-vkey prints the same vkey next to the running log');

  const kg = vitrine('keygen', '--name', 'release@example.com', '--out', 'release.key');
  t.equal(kg.code, 0, `keygen (${kg.stderr})`);
  const signerVkey = kg.stdout.trim();
  writeFileSync(join(home, 'my-lib-1.2.3.tgz'), 'my-lib 1.2.3\n');
  const sub = vitrine('submit', '--log', url, '--log-key', logVkey, '--key', 'release.key', '--name', 'pkg:npm/my-lib@1.2.3', 'my-lib-1.2.3.tgz');
  t.equal(sub.code, 0, `submit (${sub.stderr})`);
  t.ok(existsSync(join(home, 'my-lib-1.2.3.tgz.tlog-proof')), 'submit wrote the .tlog-proof');
  const ver = vitrine('verify', '--log-key', logVkey, '--signer', signerVkey, 'my-lib-1.2.3.tgz');
  t.equal(ver.code, 0, `verify (${ver.stderr})`);

  // Then, as the README goes on: the log and its key from the environment, every read with --json.
  const read = (...args: string[]) => {
    const r = vitrineWith({ VITRINE_LOG: url, VITRINE_LOG_KEY: logVkey }, ...args, '--json');
    t.equal(r.code, 0, `vitrine ${args.join(' ')} --json exits 0 (${r.stderr})`);
    return JSON.parse(r.stdout) as Record<string, unknown> & { entries: Array<Record<string, unknown>>; entry: Record<string, unknown>; checkpoint: unknown };
  };
  const verJson = vitrineWith({}, 'verify', '--log-key', logVkey, '--signer', signerVkey, '--json', 'my-lib-1.2.3.tgz');
  t.match(JSON.parse(verJson.stdout), { ok: true, name: 'pkg:npm/my-lib@1.2.3', index: '0' }, 'verify --json');
  const found = read('search', '--name', 'pkg:npm/my-lib@1.2.3');
  t.same(found.entries.map((e) => [e['index'], e['name']]), [[0, 'pkg:npm/my-lib@1.2.3']], 'search --name --json finds the release');
  const checkpoint = { origin: 'localhost/vitrine', size: 1 };
  t.match(found.checkpoint, checkpoint, 'proved in the checkpoint of size 1');
  t.match(read('log'), checkpoint, 'log --json shows that checkpoint');
  t.match(read('get', '0').entry, { index: 0, name: 'pkg:npm/my-lib@1.2.3', leafHash: found.entries[0]!['leafHash'] }, 'get 0 --json shows the entry');
  const bySigner = read('search', '--key', signerVkey);
  t.same(bySigner.entries.map((e) => e['index']), [0], 'search --key with the signer vkey finds it too');
  const proof = vitrineWith({ VITRINE_LOG: url, VITRINE_LOG_KEY: logVkey }, 'proof', '--json', '-o', '-', 'my-lib-1.2.3.tgz');
  t.equal(proof.code, 0, `proof -o - --json exits 0 (${proof.stderr})`);
  t.equal(proof.stdout, readFileSync(join(home, 'my-lib-1.2.3.tgz.tlog-proof'), 'utf8'), 'proof rebuilds the bundle submit wrote (no entry was added since)');
  t.match(JSON.parse(proof.stderr), { index: 0, out: '-' }, 'and its JSON goes to stderr');
  t.same(readdirSync(home).sort(), ['data', 'my-lib-1.2.3.tgz', 'my-lib-1.2.3.tgz.tlog-proof', 'release.key'], 'the folder holds what the quick start made, nothing else');
});
