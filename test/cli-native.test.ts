/**
 * Logging existing signatures through the real binary (docs/signing.md):
 * keys and signatures made at run time by ssh-keygen, minisign and openssl,
 * `vitrine submit --signature --public-key [--namespace]` against a real
 * `vitrine serve` child, then `vitrine verify --signer` with the native
 * public key, and `vitrine key info`. Refusals (wrong namespace, another
 * file, a swapped key, a legacy minisign signature) exit 1 with a message
 * and leave the tree unmoved. The first submit, verify and key info run the
 * built binary; the other cases run in this process (test/_cli.ts
 * vitrineIn), the same program without a process's start-up cost.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServe, treeSize, vitrine as cli, vitrineIn } from './_cli.js';

/** In this process; `vitrineP` runs the binary. */
const vitrine = (cwd: string, ...args: string[]) => vitrineIn(cwd, args);
const vitrineP = (cwd: string, ...args: string[]) => cli(cwd, args);
const serve = (dir: string) => startServe(dir, 'native.example/log');

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
  const sub = await vitrineP(dir, 'submit', ...L, '--signature', 'app.tar.gz.sig', '--public-key', 'id_ed25519.pub', '--namespace', 'file', '--name', 'pkg:generic/app@1.0.0', 'app.tar.gz');
  t.equal(sub.code, 0, `ssh submit: ${sub.stderr}`);
  t.match(sub.stdout, /logged at index 0/);
  const ver = await vitrineP(dir, 'verify', '--log-key', log.vkey, '--signer', 'id_ed25519.pub', 'app.tar.gz');
  t.equal(ver.code, 0, `verify --signer ssh key: ${ver.stderr}`);
  const verText = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', readFileSync(join(dir, 'id_ed25519.pub'), 'utf8').trim(), 'app.tar.gz');
  t.equal(verText.code, 0, 'the key as text');
  const notPinned = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', 'id_other.pub', 'app.tar.gz');
  t.equal(notPinned.code, 1);
  t.match(notPinned.stderr, new RegExp(`step 2: The entry was signed by ${sshFp.replace(/[+/]/g, (c) => `\\${c}`)}`), 'names the signer by its ssh-keygen fingerprint');
  const info = await vitrineP(dir, 'key', 'info', 'id_ed25519.pub');
  t.equal(info.code, 0, info.stderr);
  t.match(info.stdout, `fingerprint: ${sshFp}`);
  t.match(info.stdout, /-----BEGIN PUBLIC KEY-----/, 'and its PEM form');
  const bySsh = await vitrine(dir, 'search', '--log', log.url, '--log-key', log.vkey, '--key', 'id_ed25519.pub', '--json');
  t.equal(bySsh.code, 0, `search --key with the OpenSSH public key (${bySsh.stderr})`);
  t.same(JSON.parse(bySsh.stdout).entries.map((e: { index: number; signers: string[] }) => [e.index, e.signers]), [[0, [sshFp]]], 'finds the entry, its signer named by the ssh-keygen fingerprint');
  t.equal(JSON.parse(bySsh.stdout).entries[0].keyHash, JSON.parse((await vitrine(dir, 'key', 'info', '--json', 'id_ed25519.pub')).stdout).keyHashes.ssh, "key info's ssh key hash is the entry's keyHash");
  const byOtherSsh = await vitrine(dir, 'search', '--log', log.url, '--log-key', log.vkey, '--key', 'id_other.pub', '--json');
  t.same(JSON.parse(byOtherSsh.stdout).entries, [], 'another OpenSSH key finds nothing');
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
  // Every kind reads back from the log (get, search), proved and named by its native fingerprint.
  const ecFp = JSON.parse((await vitrine(dir, 'key', 'info', '--json', 'ec.pub.pem')).stdout).fingerprint as string;
  const digest = createHash('sha256').update(readFileSync(join(dir, 'app.tar.gz'))).digest('hex');
  const byDigest = await vitrine(dir, 'search', ...L, '--digest', digest, '--json');
  t.equal(byDigest.code, 0, `search --digest finds the ssh, minisign and ecdsa entries (${byDigest.stderr})`);
  t.same(JSON.parse(byDigest.stdout).entries.map((e: { index: number; signers: string[] }) => [e.index, e.signers]), [[0, [sshFp]], [1, [keyId]], [2, [ecFp]]], 'each named by its one name');
  const getMs = await vitrine(dir, 'get', '1', ...L, '--signer', 'minisign.pub');
  t.equal(getMs.code, 0, `get of the minisign entry, pinned by its public key (${getMs.stderr})`);
  t.match(getMs.stdout, `\nsigner ${keyId}\n`, 'names the signer by its key ID');
  const rsa = run(dir, 'openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  writeFileSync(join(dir, 'rsa.pem'), rsa);
  run(dir, 'openssl', ['pkey', '-in', 'rsa.pem', '-pubout', '-out', 'rsa.pub.pem']);
  const rsaSub = await vitrine(dir, 'submit', ...L, '--signature', 'app.sig.der', '--public-key', 'rsa.pub.pem', '--format', 'ecdsa', '--name', 'n', '--out', 'z.proof', 'app.tar.gz');
  t.equal(rsaSub.code, 1);
  t.match(rsaSub.stderr, /RSA keys are not supported/);
  t.equal(await treeSize(log.url), before + 2, 'only the two good submissions moved the tree');

  // Truncated files, cut where a careless copy or an interrupted download cuts them: each
  // is refused before anything is sent, in one sentence that says what is wrong with which file.
  const cut = (from: string, to: string, keep: number) => writeFileSync(join(dir, to), readFileSync(join(dir, from)).subarray(0, keep));
  cut('app.tar.gz.sig', 'cut.sig', 200);
  cut('app.tar.gz.minisig', 'cut.minisig', 100);
  cut('app.sig.der', 'cut.der', 30);
  cut('ec.pub.pem', 'cut.pem', 60);
  const truncated: Array<[string, string[], RegExp]> = [
    ['an SSH signature', ['--signature', 'cut.sig', '--public-key', 'id_ed25519.pub'], /^vitrine: signature: the armor is truncated \(no "-----END SSH SIGNATURE-----" line\); nothing was submitted\n$/],
    ['an SSH signature without --public-key', ['--signature', 'cut.sig'], /^vitrine: signature: the armor is truncated/],
    ['a minisign signature', ['--signature', 'cut.minisig', '--public-key', 'minisign.pub'], /^vitrine: signature: truncated: 2 lines, a minisign signature has 4; nothing was submitted\n$/],
    ['a DER ECDSA signature', ['--signature', 'cut.der', '--public-key', 'ec.pub.pem'], /^vitrine: \S*sig: not a DER ECDSA signature \(.*\); nothing was submitted\n$/],
    ['a PEM public key', ['--signature', 'app.sig.der', '--public-key', 'cut.pem'], /^vitrine: public key: PEM is truncated \(no "-----END PUBLIC KEY-----" line\); nothing was submitted\n$/],
  ];
  for (const [what, args, message] of truncated) {
    const r = await vitrine(dir, 'submit', ...L, ...args, '--name', 'pkg:generic/cut@1', '--out', 'cut.tlog-proof', 'app.tar.gz');
    t.equal(r.code, 1, `truncated ${what}: exit 1`);
    t.match(r.stderr, message, `truncated ${what}: ${r.stderr.trim()}`);
    t.equal(r.stdout, '', `truncated ${what}: nothing on stdout`);
  }
  t.notOk(existsSync(join(dir, 'cut.tlog-proof')), 'no bundle was written for a truncated file');
  t.equal(await treeSize(log.url), before + 2, 'and nothing was logged');

  // One P-256 key, two PEM spellings: the same signature logged with the compressed key is
  // another entry with another key hash (SHA-256 of the DER as given, formats.md §14), yet
  // one fingerprint; search --key with either spelling finds both entries.
  run(dir, 'openssl', ['ec', '-pubin', '-in', 'ec.pub.pem', '-conv_form', 'compressed', '-pubout', '-out', 'ec.c.pem']);
  t.not(readFileSync(join(dir, 'ec.c.pem'), 'utf8'), readFileSync(join(dir, 'ec.pub.pem'), 'utf8'), 'openssl wrote the compressed spelling');
  const ecC = await vitrine(dir, 'submit', ...L, '--signature', 'app.sig.der', '--public-key', 'ec.c.pem', '--name', 'pkg:generic/app@1.0.0', '--json', '--out', 'app.ec-c.tlog-proof', 'app.tar.gz');
  t.equal(ecC.code, 0, `ecdsa submit with the compressed key (${ecC.stderr})`);
  const cIndex = (JSON.parse(ecC.stdout) as { index: number }).index;
  const hashes = new Set<string>();
  for (const key of ['ec.pub.pem', 'ec.c.pem']) {
    const found = await vitrine(dir, 'search', ...L, '--key', key, '--json');
    t.equal(found.code, 0, `search --key ${key} (${found.stderr})`);
    const entries = JSON.parse(found.stdout).entries as Array<{ index: number; signers: string[]; keyHash: string }>;
    t.same(entries.map((e) => [e.index, e.signers]), [[2, [ecFp]], [cIndex, [ecFp]]], `search --key ${key} finds the entries of both spellings, under one name`);
    for (const e of entries) hashes.add(e.keyHash);
  }
  t.equal(hashes.size, 2, 'though their key hashes differ');
  const ecInfo = JSON.parse((await vitrine(dir, 'key', 'info', '--json', 'ec.c.pem')).stdout) as { fingerprint: string; keyHashes: Record<string, string> };
  t.same(new Set([ecInfo.keyHashes['pem'], ecInfo.keyHashes['pemCompressed']]), hashes, 'key info gives both key hashes, so a message naming either is matched to the key');
  t.equal(ecInfo.fingerprint, ecFp, 'and its one fingerprint');
  for (const [key, bundle] of [['ec.c.pem', 'app.ec.tlog-proof'], ['ec.pub.pem', 'app.ec-c.tlog-proof']]) {
    const pinned = await vitrine(dir, 'verify', '--log-key', log.vkey, '--signer', key!, 'app.tar.gz', bundle!);
    t.equal(pinned.code, 0, `verify --signer ${key} accepts ${bundle}, the other spelling's entry (${pinned.stderr})`);
  }
  const getC = await vitrine(dir, 'get', String(cIndex), ...L, '--signer', 'ec.pub.pem', '--json');
  t.equal(getC.code, 0, `get --signer with the uncompressed key accepts the compressed entry (${getC.stderr})`);
  const paged = await vitrine(dir, 'search', ...L, '--key', 'ec.c.pem', '--limit', '1', '--json');
  t.same([JSON.parse(paged.stdout).entries.map((e: { index: number }) => e.index), JSON.parse(paged.stdout).next], [[2], 2], 'paging over both: the first page and its next');
  const page2 = await vitrine(dir, 'search', ...L, '--key', 'ec.c.pem', '--limit', '1', '--after', '2', '--json');
  t.same([JSON.parse(page2.stdout).entries.map((e: { index: number }) => e.index), JSON.parse(page2.stdout).next], [[cIndex], null], 'and the last page');
});
