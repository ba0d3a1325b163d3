/**
 * Logging existing signatures through the real binary (docs/signing.md):
 * keys and signatures made at run time by ssh-keygen, minisign and openssl,
 * `vitrine submit --signature --public-key [--namespace]` against a real
 * `vitrine serve` child, then `vitrine verify --signer` with the native
 * public key, and `vitrine key info`. Refusals (wrong namespace, another
 * file, a swapped key, a legacy minisign signature) exit 1 with a message
 * and leave the tree unmoved.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');

function vitrine(cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITRINE_')));
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function serve(dir: string): Promise<{ url: string; vkey: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--origin', 'native.example/log', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { url, vkey: out.trim(), stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); } };
}

async function treeSize(url: string): Promise<number> {
  return Number((await (await fetch(`${url}/checkpoint`)).text()).split('\n')[1]);
}

const run = (cwd: string, cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

t.test('existing ssh, minisign and openssl signatures are logged, verified by native key, and refused when they do not match', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built');
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-native-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = await serve(join(dir, 'data'));
  t.teardown(log.stop);
  const L = ['--log', log.url, '--log-key', log.vkey];
  writeFileSync(join(dir, 'app.tar.gz'), 'release bytes of app\n');
  writeFileSync(join(dir, 'other.tar.gz'), 'other bytes\n');

  // SSH: ssh-keygen -Y sign with the default sha512.
  run(dir, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', 'id_ed25519']);
  run(dir, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'x', '-f', 'id_other']);
  run(dir, 'ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', 'id_ed25519', 'app.tar.gz']);
  const sshFp = run(dir, 'ssh-keygen', ['-l', '-E', 'sha256', '-f', 'id_ed25519.pub']).split(' ')[1]!;
  const sub = await vitrine(dir, 'submit', ...L, '--signature', 'app.tar.gz.sig', '--public-key', 'id_ed25519.pub', '--namespace', 'file', '--name', 'pkg:generic/app@1.0.0', 'app.tar.gz');
  t.equal(sub.code, 0, `ssh submit: ${sub.stderr}`);
  t.match(sub.stdout, /logged at index 0/);
  const ver = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', 'id_ed25519.pub', 'app.tar.gz');
  t.equal(ver.code, 0, `verify --signer ssh key: ${ver.stderr}`);
  const verText = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', readFileSync(join(dir, 'id_ed25519.pub'), 'utf8').trim(), 'app.tar.gz');
  t.equal(verText.code, 0, 'the key as text');
  const notPinned = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', 'id_other.pub', 'app.tar.gz');
  t.equal(notPinned.code, 1);
  t.match(notPinned.stderr, new RegExp(`step 2: The entry was signed by ${sshFp.replace(/[+/]/g, (c) => `\\${c}`)}`), 'names the signer by its ssh-keygen fingerprint');
  const info = await vitrine(dir, 'key', 'info', 'id_ed25519.pub');
  t.equal(info.code, 0, info.stderr);
  t.match(info.stdout, `fingerprint: ${sshFp}`);
  t.match(info.stdout, /-----BEGIN PUBLIC KEY-----/, 'and its PEM form');
  const before = await treeSize(log.url);
  const wrongNs = await vitrine(dir, 'submit', ...L, '--signature', 'app.tar.gz.sig', '--namespace', 'git', '--name', 'n', '--out', 'x.proof', 'app.tar.gz');
  t.equal(wrongNs.code, 1);
  t.match(wrongNs.stderr, /made in namespace "file", not "git"; nothing was submitted/);
  const otherFile = await vitrine(dir, 'submit', ...L, '--signature', 'app.tar.gz.sig', '--name', 'n', 'other.tar.gz');
  t.equal(otherFile.code, 1);
  t.match(otherFile.stderr, /does not verify.*is other\.tar\.gz the file that was signed/);
  const swapped = await vitrine(dir, 'submit', ...L, '--signature', 'app.tar.gz.sig', '--public-key', 'id_other.pub', '--name', 'n', '--out', 'y.proof', 'app.tar.gz');
  t.equal(swapped.code, 1);
  t.match(swapped.stderr, /not by the given public key/);

  // minisign.
  run(dir, 'minisign', ['-G', '-W', '-p', 'minisign.pub', '-s', 'minisign.key']);
  run(dir, 'minisign', ['-S', '-s', 'minisign.key', '-m', 'app.tar.gz', '-t', 'app 1.0.0']);
  const keyId = /minisign public key ([0-9A-F]{1,16})\n/.exec(readFileSync(join(dir, 'minisign.pub'), 'utf8'))![1]!;
  const ms = await vitrine(dir, 'submit', ...L, '--signature', 'app.tar.gz.minisig', '--public-key', 'minisign.pub', '--name', 'pkg:generic/app@1.0.0', '--out', 'app.minisign.tlog-proof', 'app.tar.gz');
  t.equal(ms.code, 0, `minisign submit: ${ms.stderr}`);
  const msVer = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', 'minisign.pub', '--json', 'app.tar.gz', 'app.minisign.tlog-proof');
  t.equal(msVer.code, 0, msVer.stderr);
  const msInfo = await vitrine(dir, 'key', 'info', '--json', 'minisign.pub');
  t.equal(JSON.parse(msInfo.stdout).fingerprint, keyId, 'key info names the minisign key by its key ID');
  writeFileSync(join(dir, 'legacy.bin'), 'legacy\n');
  run(dir, 'minisign', ['-S', '-l', '-s', 'minisign.key', '-m', 'legacy.bin']);
  const legacy = await vitrine(dir, 'submit', ...L, '--signature', 'legacy.bin.minisig', '--public-key', 'minisign.pub', '--name', 'legacy', 'legacy.bin');
  t.equal(legacy.code, 1);
  t.match(legacy.stderr, /cannot be checked without the file/);

  // ECDSA P-256 by openssl dgst -sha256 -sign, the key as PEM.
  run(dir, 'openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.pem']);
  run(dir, 'openssl', ['pkey', '-in', 'ec.pem', '-pubout', '-out', 'ec.pub.pem']);
  run(dir, 'openssl', ['dgst', '-sha256', '-sign', 'ec.pem', '-out', 'app.sig.der', 'app.tar.gz']);
  const ec = await vitrine(dir, 'submit', ...L, '--signature', 'app.sig.der', '--public-key', 'ec.pub.pem', '--name', 'pkg:generic/app@1.0.0', '--out', 'app.ec.tlog-proof', 'app.tar.gz');
  t.equal(ec.code, 0, `ecdsa submit: ${ec.stderr}`);
  const ecVer = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', 'ec.pub.pem', 'app.tar.gz', 'app.ec.tlog-proof');
  t.equal(ecVer.code, 0, ecVer.stderr);
  const rsa = run(dir, 'openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  writeFileSync(join(dir, 'rsa.pem'), rsa);
  run(dir, 'openssl', ['pkey', '-in', 'rsa.pem', '-pubout', '-out', 'rsa.pub.pem']);
  const rsaSub = await vitrine(dir, 'submit', ...L, '--signature', 'app.sig.der', '--public-key', 'rsa.pub.pem', '--format', 'ecdsa', '--name', 'n', '--out', 'z.proof', 'app.tar.gz');
  t.equal(rsaSub.code, 1);
  t.match(rsaSub.stderr, /RSA keys are not supported/);
  t.equal(await treeSize(log.url), before + 2, 'only the two good submissions moved the tree');
});
