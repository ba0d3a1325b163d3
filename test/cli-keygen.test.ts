/**
 * `vitrine keygen` in a temporary directory: the first run (under umask 000),
 * the first usage error and serve's usage error as the real built binary
 * (dist/cmd/vitrine.js, built by `npx tsc -p tsconfig.json`, which `npm test`
 * runs first), the other cases in this process (test/_cli.ts vitrineIn).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { formatVerifier, parseSigner, parseVerifier, verifierFromSigner, cosignerVerifier } from '../src/note/index.js';
import { BIN as bin, cleanEnv, helpOf, vitrineIn } from './_cli.js';

const built = existsSync(join(dirname(bin), 'keygen.js'));

function run(cwd: string, args: string[], umask?: string): { status: number | null; stdout: string; stderr: string } {
  const r =
    umask === undefined
      ? spawnSync(process.execPath, [bin, ...args], { cwd, env: cleanEnv(), encoding: 'utf8' })
      : spawnSync('/bin/sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, bin, ...args], { cwd, env: cleanEnv(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same in this process. */
async function runIn(cwd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await vitrineIn(cwd, args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

t.test('keygen', async (t) => {
  // Fail, never skip: a missing build must not pass silently.
  if (!built) {
    t.fail('dist/cmd/keygen.js is missing: run npx tsc -p tsconfig.json first');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-keygen-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  t.test('creates a 0600 key and prints its vkey', async (t) => {
    // umask 000: the mode must come from keygen, not from a friendly umask.
    const r = run(dir, ['keygen', '--name', 'log.example.com/vitrine', '--out', 'log.key'], '000');
    t.equal(r.status, 0, `exit 0 (stderr: ${r.stderr})`);
    const path = join(dir, 'log.key');
    t.equal(statSync(path).mode & 0o777, 0o600, 'file mode 0600');
    const content = readFileSync(path, 'utf8');
    t.match(content, /^PRIVATE\+KEY\+log\.example\.com\/vitrine\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/, 'one skey line and a newline');
    const signer = parseSigner(content);
    const vkey = r.stdout.trim();
    t.equal(r.stdout, `${vkey}\n`, 'stdout is exactly the vkey and a newline');
    const v = parseVerifier(vkey);
    t.equal(v.type, 0x01, 'Ed25519 vkey');
    t.equal(vkey, formatVerifier(verifierFromSigner(signer)), 'the vkey matches the skey');
    const secret = content.trim().split('+').slice(4).join('+');
    t.notOk(r.stdout.includes(secret) || r.stderr.includes(secret), 'the secret is on neither stdout nor stderr');
    t.match(r.stderr, /log\.key/, 'stderr says where the key went');
  });

  t.test('refuses to overwrite', async (t) => {
    const path = join(dir, 'taken.key');
    writeFileSync(path, 'precious\n', { mode: 0o644 });
    const r = await runIn(dir, ['keygen', '--name', 'x.example/k', '--out', 'taken.key']);
    t.not(r.status, 0, 'non-zero exit');
    t.equal(readFileSync(path, 'utf8'), 'precious\n', 'file content unchanged');
    t.equal(statSync(path).mode & 0o777, 0o644, 'file mode unchanged');
    t.match(r.stderr, /taken\.key already exists; refusing to overwrite/, 'clear message');
    t.equal(r.stdout, '', 'nothing on stdout');
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  t.test('--cosigner prints the type-0x04 vkey', async (t) => {
    const r = await runIn(dir, ['keygen', '--name', 'witness.example.com/w1', '--out', 'w.key', '--cosigner']);
    t.equal(r.status, 0, `exit 0 (stderr: ${r.stderr})`);
    const v = parseVerifier(r.stdout.trim());
    t.equal(v.type, 0x04, 'type 0x04');
    const signer = parseSigner(readFileSync(join(dir, 'w.key'), 'utf8'));
    t.equal(r.stdout.trim(), formatVerifier(cosignerVerifier(signer)), 'the cosigner vkey of the written key');
    t.match(r.stdout, /\+B/, 'base64 of 0x04 || key starts with "B"');
  });

  t.test('usage errors exit 2 without a stack trace', async (t) => {
    const cases: [string, string[], RegExp][] = [
      ['name with a space', ['keygen', '--name', 'bad name', '--out', 'bad1.key'], /--name: must not contain white space/],
      ['name with a plus', ['keygen', '--name', 'a+b', '--out', 'bad2.key'], /--name: must not contain "\+"/],
      ['empty name', ['keygen', '--name', '', '--out', 'bad3.key'], /--name: must not be empty/],
      ['missing --out', ['keygen', '--name', 'ok.example/k'], /required option '--out <file>' not specified/],
      ['missing --name', ['keygen', '--out', 'bad4.key'], /required option '--name <name>' not specified/],
      ['unknown flag', ['keygen', '--name', 'ok.example/k', '--out', 'bad5.key', '--force'], /unknown option '--force'/],
      ['--out - (stdout)', ['keygen', '--name', 'ok.example/k', '--out', '-'], /--out: a private key is written to a file \(mode 0600\), never to stdout/],
    ];
    for (const [i, [label, args, message]] of cases.entries()) {
      const r = i === 0 ? run(dir, args) : await runIn(dir, args);
      t.equal(r.status, 2, `${label}: exit 2`);
      t.match(r.stderr, message, `${label}: message on stderr`);
      t.notMatch(r.stderr, /\n\s+at /, `${label}: no stack trace`);
      t.equal(r.stdout, '', `${label}: nothing on stdout`);
    }
    for (const f of ['bad1.key', 'bad2.key', 'bad3.key', 'bad4.key', 'bad5.key', '-']) t.notOk(existsSync(join(dir, f)), `${f} not created`);
  });

  t.test('--json, and serve --print-vkey --json for the same key', async (t) => {
    const r = await runIn(dir, ['keygen', '--name', 'json.example/log', '--out', 'json.key', '--json']);
    t.equal(r.status, 0, `exit 0 (stderr: ${r.stderr})`);
    // The skey line itself names the key and its ID: PRIVATE+KEY+<name>+<key ID>+<secret>.
    const [, , name, keyId] = readFileSync(join(dir, 'json.key'), 'utf8').trim().split('+');
    t.equal(name, 'json.example/log', 'the file holds the named key');
    const vkey = formatVerifier(verifierFromSigner(parseSigner(readFileSync(join(dir, 'json.key'), 'utf8'))));
    t.same(JSON.parse(r.stdout), { name: 'json.example/log', keyId, vkey, type: 'ed25519', out: 'json.key' }, 'one JSON object naming the key, its ID and where it went');
    t.equal(r.stdout.split('\n').length, 2, 'one line');

    const c = await runIn(dir, ['keygen', '--name', 'json.example/w', '--out', 'jsonw.key', '--cosigner', '--json']);
    t.equal(c.status, 0, `--cosigner --json: exit 0 (stderr: ${c.stderr})`);
    const cj = JSON.parse(c.stdout) as { vkey: string; type: string; keyId: string };
    t.equal(cj.type, 'cosignature', 'a cosigner key says so');
    t.equal(cj.vkey, formatVerifier(cosignerVerifier(parseSigner(readFileSync(join(dir, 'jsonw.key'), 'utf8')))), 'and carries the type-0x04 vkey');
    t.equal(cj.keyId, cj.vkey.split('+')[1], 'whose key ID is the one in that vkey');

    const p = await runIn(dir, ['serve', '--key', 'json.key', '--origin', 'json.example/log', '--print-vkey', '--json']);
    t.equal(p.status, 0, `serve --print-vkey --json: exit 0 (stderr: ${p.stderr})`);
    t.same(JSON.parse(p.stdout), { name: 'json.example/log', keyId, vkey, type: 'ed25519' }, 'serve --print-vkey --json describes the same key');
    const bad = run(dir, ['serve', '--key', 'json.key', '--origin', 'json.example/log', '--json']);
    t.equal(bad.status, 2, 'serve --json without --print-vkey is a usage error');
    t.match(bad.stderr, /--json applies to --print-vkey/, 'saying so');
  });

  t.test('--help has examples', async (t) => {
    const help = await helpOf('keygen');
    t.match(help, /Examples:/, 'examples section');
    t.match(help, /vitrine keygen --name log\.example\.com\/vitrine --out log\.key/, 'log key example');
    t.match(help, /--cosigner/, 'cosigner flag documented');
  });
});
