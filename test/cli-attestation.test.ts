/**
 * `vitrine submit --attestation` end to end through the real binary: an
 * in-toto Statement about two files, in a DSSE envelope whose PAE comes
 * from @sigstore/core and whose signatures openssl made, is logged by a
 * real `vitrine serve`; `vitrine verify` then checks each subject file
 * offline against the bundle. A key that signed nothing, a non-in-toto
 * envelope and a missing key are refused before anything is sent. The
 * submit and the first verify run the built binary; the other cases run in
 * this process (test/_cli.ts vitrineIn).
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, helpOf, startServe, treeSize as size, vitrine as cli, vitrineIn } from './_cli.js';
import { bytes, IN_TOTO, OpensslDir, statement } from './sig/_openssl.js';

/** In this process; `vitrineP` runs the binary. */
const vitrine = (cwd: string, ...args: string[]) => vitrineIn(cwd, args);
const vitrineP = (cwd: string, ...args: string[]) => cli(cwd, args);
const serve = (dir: string) => startServe(dir, 'dsse.example/log');
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

t.test('submit --attestation, then verify each subject offline', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built');
  const ssl = new OpensslDir();
  t.teardown(() => ssl.remove());
  const dir = ssl.dir;
  const log = await serve(join(dir, 'data'));
  t.teardown(log.stop);
  writeFileSync(join(dir, 'app.tgz'), 'app release bytes');
  writeFileSync(join(dir, 'app.zip'), 'app release bytes, zipped');
  writeFileSync(join(dir, 'other.bin'), 'not attested');
  const st = statement({
    subject: [
      { name: 'pkg:generic/app@1.0.0?ext=tgz', digest: { sha256: sha('app release bytes') } },
      { name: 'pkg:generic/app@1.0.0?ext=zip', digest: { sha256: sha('app release bytes, zipped') } },
    ],
  });
  const ec = ssl.key('p256');
  const ed = ssl.key('ed25519');
  const stranger = ssl.key('ed25519');
  writeFileSync(join(dir, 'ec.pub'), ec.publicPem);
  writeFileSync(join(dir, 'ed.pub'), ed.publicPem);
  writeFileSync(join(dir, 'stranger.pub'), stranger.publicPem);
  writeFileSync(join(dir, 'build.intoto.json'), ssl.envelope(IN_TOTO, bytes(st), [ec, ed]));
  writeFileSync(join(dir, 'plain.json'), ssl.envelope('application/json', bytes(st), [ec]));

  const sub = await vitrineP(dir, 'submit', '--log', log.url, '--log-key', log.vkey, '--attestation', 'build.intoto.json', '--public-key', 'ec.pub', '--public-key', 'ed.pub');
  t.equal(sub.code, 0, `submit: ${sub.stderr}`);
  t.match(sub.stdout, /^logged at index 0 \(leaf [A-Za-z0-9+/]{43}=\); wrote build\.intoto\.json\.tlog-proof\n$/);
  t.match(sub.stderr, new RegExp(`attestation for "pkg:generic/app@1\\.0\\.0\\?ext=tgz" \\(sha256 ${sha('app release bytes')}\\)`));
  t.ok(existsSync(join(dir, 'build.intoto.json.tlog-proof')), 'the bundle is written');

  const read = await vitrine(dir, 'search', '--log', log.url, '--log-key', log.vkey, '--digest', sha('app release bytes, zipped'), '--json');
  t.equal(read.code, 0, `search --digest of the second subject finds the attestation (${read.stderr})`);
  const found = JSON.parse(read.stdout).entries as Array<{ index: number; signers: string[] }>;
  t.same(found.map((e) => e.index), [0], 'proved at index 0');
  const fp = async (f: string) => JSON.parse((await vitrine(dir, 'key', 'info', '--json', f)).stdout).fingerprint as string;
  t.same([...found[0]!.signers].sort(), [await fp('ec.pub'), await fp('ed.pub')].sort(), 'its two signers named by their fingerprints');
  for (const file of ['app.tgz', 'app.zip']) {
    const v = await (file === 'app.tgz' ? vitrineP : vitrine)(dir, 'verify', '--log-key', log.vkey, file, 'build.intoto.json.tlog-proof');
    t.equal(v.code, 0, `verify ${file}: ${v.stdout}${v.stderr}`);
  }
  const named = await vitrine(dir, 'verify', '--log-key', log.vkey, '--name', 'pkg:generic/app@1.0.0?ext=zip', 'app.zip', 'build.intoto.json.tlog-proof');
  t.equal(named.code, 0, `verify --name of the second subject: ${named.stdout}${named.stderr}`);
  const wrongName = await vitrine(dir, 'verify', '--log-key', log.vkey, '--name', 'pkg:generic/app@1.0.0?ext=tgz', 'app.zip', 'build.intoto.json.tlog-proof');
  t.not(wrongName.code, 0, 'the zip is not attested under the tgz name');
  const other = await vitrine(dir, 'verify', '--log-key', log.vkey, 'other.bin', 'build.intoto.json.tlog-proof');
  t.not(other.code, 0, 'a file the attestation does not name fails');
  t.match(other.stdout + other.stderr, /nor of any other subject of the attestation/);

  // Refusals before anything is sent: the tree stays at 1.
  const cases: Array<[string, string[], RegExp]> = [
    ['a key that signed nothing', ['--attestation', 'build.intoto.json', '--public-key', 'stranger.pub', '-o', 'x.tlog-proof'], /no signature by the submitted Ed25519 key SHA256:/],
    ['a payloadType other than in-toto', ['--attestation', 'plain.json', '--public-key', 'ec.pub'], /payloadType: "application\/json" is not an in-toto Statement/],
    ['no --public-key', ['--attestation', 'build.intoto.json'], /--attestation needs --public-key/],
    ['a subject that is not there', ['--attestation', 'build.intoto.json', '--public-key', 'ec.pub', '--subject', 'pkg:generic/other', '-o', 'y.tlog-proof'], /no subject with a sha256 digest has this name/],
  ];
  for (const [what, args, message] of cases) {
    const r = await vitrine(dir, 'submit', '--log', log.url, '--log-key', log.vkey, ...args);
    t.not(r.code, 0, `${what}: refused`);
    t.match(r.stderr, message, `${what}: ${r.stderr.trim()}`);
  }
  t.equal(await size(log.url), 1, 'the tree did not move');
});

t.test('submit --help shows the attestation example on its own lines and points to docs/signing.md', async (t) => {
  const help = await helpOf('submit');
  const lines = help.split('\n');
  const i = lines.findIndex((l, k) => /^\s+vitrine submit .*\\$/.test(l) && /--attestation/.test(lines[k + 1] ?? ''));
  t.ok(i >= 0, 'an example line ends in a backslash and the next one holds --attestation');
  t.match(lines[i + 1], /^\s{4,}--attestation build\.intoto\.json --public-key \S+$/, 'the continuation is its own line');
  t.match(help, /docs\/signing\.md, "Logging existing signatures" and\s+"In-toto attestations"/);
  t.match(readFileSync(join(process.cwd(), 'docs/signing.md'), 'utf8'), /^### In-toto attestations$/m, 'the section it names exists');
});
