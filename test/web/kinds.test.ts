/**
 * Every entry kind on the log's pages, in real Chromium (issue 13): keys
 * and signatures made at run time by the real tools — ssh-keygen (Ed25519
 * with its default sha512, ECDSA P-256 with sha256), minisign (prehashed),
 * openssl (ECDSA P-256 over the file; a DSSE in-toto attestation signed with
 * pkeyutl over @sigstore/core's PAE) — logged by a real log on port 0. For
 * each kind: the entry page shows the kind, the name, the artifact's
 * SHA-256, the digest the signature covers (computed here by node:crypto),
 * the signer by the name its own tool gives it, and for the attestation its
 * predicateType, builder and subjects, and verifies in the browser; the
 * verify page accepts the real file and its .tlog-proof with the signer's
 * native key, and refuses another key (step 2) and a tampered file (step 1).
 * The explorer lists the kinds and finds entries by native key and
 * fingerprint. Every request stays on the log.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntryV2, type EntryV2 } from '../../src/entry/index.js';
import { nativeEntry } from '../../src/entry/native.js';
import { attestationEntry } from '../../src/entry/kinds/dsse.js';
import { post, removeDir, startLog } from '../log/harness.js';
import { bytes, IN_TOTO, OpensslDir, statement } from '../sig/_openssl.js';
import { foreign, launch, narrowWidths, newVerdict, resultsShownFor, screenshot } from './chromium.js';

const hash = (alg: string, data: Buffer | string): Buffer => createHash(alg).update(data).digest();

interface Case {
  kind: string;
  name: string;
  file: string;
  /** The signer's public key as its tool wrote it, and another key of the same kind. */
  key: string;
  otherKey: string;
  /** The signer's name as its own tool prints it. */
  signer: string;
  /** What the signature covers: algorithm and hex, computed independently here. */
  signed: { algorithm: string; hex: string };
  entry: EntryV2;
  bundle?: string;
  index?: number;
}

t.test('entries of every kind, made by the real tools, shown and verified in Chromium', async (t) => {
  // Chromium starts while the tools make the keys and the log starts (it is the longest wait).
  const launching = launch(t);
  t.teardown(async () => (await launching.catch(() => undefined))?.close());
  const ssl = new OpensslDir();
  t.teardown(() => ssl.remove());
  const dir = ssl.dir;
  const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const write = (name: string, content: string): Buffer => {
    writeFileSync(join(dir, name), content);
    return readFileSync(join(dir, name));
  };
  const digestsOf = (data: Buffer) => ({ sha256: hash('sha256', data), sha512: hash('sha512', data), blake2b512: hash('blake2b512', data) });
  const cases: Case[] = [];

  // ssh-keygen, Ed25519, default hash sha512.
  const sshFile = write('app-ssh.tar.gz', 'release bytes signed with ssh-keygen\n');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', 'id_ed25519']);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other', '-f', 'id_other']);
  run('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', 'id_ed25519', 'app-ssh.tar.gz']);
  cases.push({
    kind: 'ssh',
    name: 'pkg:generic/app-ssh@1.0.0',
    file: 'app-ssh.tar.gz',
    key: readFileSync(join(dir, 'id_ed25519.pub'), 'utf8'),
    otherKey: readFileSync(join(dir, 'id_other.pub'), 'utf8'),
    signer: run('ssh-keygen', ['-l', '-E', 'sha256', '-f', 'id_ed25519.pub']).split(' ')[1]!,
    signed: { algorithm: 'sha512', hex: hash('sha512', sshFile).toString('hex') },
    entry: nativeEntry({ signature: readFileSync(join(dir, 'app-ssh.tar.gz.sig')), name: 'pkg:generic/app-ssh@1.0.0', digests: digestsOf(sshFile), namespace: 'file' }, nodeEd25519),
  });

  // ssh-keygen, ECDSA P-256, hash sha256.
  const sshEcFile = write('app-sshec.tar.gz', 'release bytes signed with an ECDSA ssh key\n');
  run('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-C', 'ci-ec', '-f', 'id_ecdsa']);
  run('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-O', 'hashalg=sha256', '-f', 'id_ecdsa', 'app-sshec.tar.gz']);
  cases.push({
    kind: 'ssh',
    name: 'pkg:generic/app-sshec@1.0.0',
    file: 'app-sshec.tar.gz',
    key: readFileSync(join(dir, 'id_ecdsa.pub'), 'utf8'),
    otherKey: readFileSync(join(dir, 'id_other.pub'), 'utf8'),
    signer: run('ssh-keygen', ['-l', '-E', 'sha256', '-f', 'id_ecdsa.pub']).split(' ')[1]!,
    signed: { algorithm: 'sha256', hex: hash('sha256', sshEcFile).toString('hex') },
    entry: nativeEntry({ signature: readFileSync(join(dir, 'app-sshec.tar.gz.sig')), name: 'pkg:generic/app-sshec@1.0.0', digests: digestsOf(sshEcFile) }, nodeEd25519),
  });

  // minisign, prehashed (BLAKE2b-512).
  const msFile = write('app-ms.tar.gz', 'release bytes signed with minisign\n');
  run('minisign', ['-G', '-W', '-p', 'minisign.pub', '-s', 'minisign.key']);
  run('minisign', ['-G', '-W', '-p', 'other.pub', '-s', 'other.key']);
  run('minisign', ['-S', '-s', 'minisign.key', '-m', 'app-ms.tar.gz', '-t', 'app 1.0.0']);
  const msPub = readFileSync(join(dir, 'minisign.pub'), 'utf8');
  cases.push({
    kind: 'minisign',
    name: 'pkg:generic/app-ms@1.0.0',
    file: 'app-ms.tar.gz',
    key: msPub,
    otherKey: readFileSync(join(dir, 'other.pub'), 'utf8'),
    // The key ID as minisign printed it in the key's comment (uppercase hex, no leading zeros).
    signer: /minisign public key ([0-9A-F]{1,16})\n/.exec(msPub)![1]!,
    signed: { algorithm: 'blake2b-512', hex: hash('blake2b512', msFile).toString('hex') },
    entry: nativeEntry({ signature: readFileSync(join(dir, 'app-ms.tar.gz.minisig')), publicKey: msPub, name: 'pkg:generic/app-ms@1.0.0', digests: digestsOf(msFile) }, nodeEd25519),
  });

  // openssl, ECDSA P-256 over the file (DER signature), the key as PEM.
  const ecFile = write('app-ec.tar.gz', 'release bytes signed with openssl\n');
  const ec = ssl.key('p256');
  const ecOther = ssl.key('p256');
  run('openssl', ['dgst', '-sha256', '-sign', ec.privatePath, '-out', 'app-ec.sig', 'app-ec.tar.gz']);
  const spkiFp = (pem: string): string => {
    writeFileSync(join(dir, 'fp.pem'), pem);
    return `SHA256:${hash('sha256', execFileSync('openssl', ['pkey', '-pubin', '-in', join(dir, 'fp.pem'), '-outform', 'DER'])).toString('base64').replace(/=+$/, '')}`;
  };
  cases.push({
    kind: 'ecdsa-p256',
    name: 'pkg:generic/app-ec@1.0.0',
    file: 'app-ec.tar.gz',
    key: ec.publicPem,
    otherKey: ecOther.publicPem,
    signer: spkiFp(ec.publicPem),
    signed: { algorithm: 'sha256', hex: hash('sha256', ecFile).toString('hex') },
    entry: nativeEntry({ signature: readFileSync(join(dir, 'app-ec.sig')), publicKey: ec.publicPem, name: 'pkg:generic/app-ec@1.0.0', digests: digestsOf(ecFile) }, nodeEd25519),
  });

  // An in-toto SLSA provenance about two files, in a DSSE envelope signed by openssl pkeyutl.
  const tgz = write('app-att.tgz', 'attested release, tgz\n');
  const zip = write('app-att.zip', 'attested release, zip\n');
  const st = statement({
    subject: [
      { name: 'pkg:generic/app-att@1.0.0?ext=tgz', digest: { sha256: hash('sha256', tgz).toString('hex') } },
      { name: 'pkg:generic/app-att@1.0.0?ext=zip', digest: { sha256: hash('sha256', zip).toString('hex') } },
    ],
  });
  const dsseKey = ssl.key('ed25519');
  const envelope = ssl.envelope(IN_TOTO, bytes(st), [dsseKey]);
  const payload = Buffer.from((JSON.parse(envelope) as { payload: string }).payload, 'base64');
  cases.push({
    kind: 'dsse',
    name: 'pkg:generic/app-att@1.0.0?ext=tgz',
    file: 'app-att.zip', // the attestation speaks for its second subject too
    key: dsseKey.publicPem,
    otherKey: ssl.key('ed25519').publicPem,
    signer: spkiFp(dsseKey.publicPem),
    signed: { algorithm: 'sha256', hex: hash('sha256', payload).toString('hex') },
    entry: attestationEntry(new TextEncoder().encode(envelope), [dsseKey.publicPem]),
  });

  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  for (const c of cases) {
    const answer = await post(log.url, encodeEntryV2(c.entry));
    t.equal(answer.status, 201, `the ${c.kind} entry ${c.name} is logged`);
    c.bundle = answer.json.bundle as string;
    c.index = answer.json.index as number;
  }
  const vkey = log.opened.verifierKey;

  const b = await launching;
  if (!b) return;
  const { page } = b;

  // Search by a native key and by a fingerprint: the first from its address (/?q=, as a link
  // gives it), the others typed into that page's box (they run in place).
  let loaded = false;
  const search = async (q: string): Promise<string[]> => {
    if (!loaded) {
      await page.goto(`${log.url}/?q=${encodeURIComponent(q)}`);
      loaded = true;
      // The explorer (under the results) lists every kind among the recent entries.
      await page.locator('#recent tbody tr').first().waitFor();
      t.same(await page.locator('#recent td.kind').allTextContents(), cases.map((c) => c.kind).reverse(), 'the explorer lists each entry with its kind');
    } else {
      await page.fill('#q', q);
      await page.press('#q', 'Enter');
      await page.waitForURL((u) => u.searchParams.get('q') === q);
    }
    await resultsShownFor(page, q);
    return page.locator('#results tbody tr td:first-child a').allTextContents();
  };
  t.same(await search(cases[0]!.key.trim()), [String(cases[0]!.index)], 'search finds the ssh entry by the OpenSSH public key line');
  t.same(await search(cases[0]!.signer), [String(cases[0]!.index)], 'and by its SHA256: fingerprint');
  t.same(await search(cases[3]!.signer), [String(cases[3]!.index)], 'search finds the ECDSA entry by its SPKI fingerprint');
  t.same(await search(msPub.trim().split('\n')[1]!), [String(cases[2]!.index)], 'search finds the minisign entry by its public key');

  for (const c of cases) {
    const what = `${c.kind} entry ${c.index} (${c.file})`;
    // The entry page.
    await page.goto(`${log.url}/entry/${c.index}`);
    const verdict = page.locator('#verdict');
    await verdict.waitFor();
    t.equal(await verdict.getAttribute('data-verified'), 'true', `${what}: verifies in the browser`);
    t.equal(await page.locator('.step[data-state=passed]').count(), 5, `${what}: all five steps passed`);
    t.equal(await page.locator('#kind').textContent(), c.kind, `${what}: the kind`);
    t.equal(await page.locator('#name').textContent(), c.name, `${what}: the name`);
    t.equal(await page.locator('#digest').textContent(), c.kind === 'dsse' ? hash('sha256', tgz).toString('hex') : hash('sha256', readFileSync(join(dir, c.file))).toString('hex'), `${what}: the artifact's SHA-256`);
    t.equal(await page.locator('#signed').textContent(), c.signed.hex, `${what}: the ${c.signed.algorithm} the signature covers`);
    t.equal(await page.locator('#signed').getAttribute('data-algorithm'), c.signed.algorithm, `${what}: named by its algorithm`);
    t.same(await page.locator('#signers li code').allTextContents(), [c.signer], `${what}: the signer by the name its tool gives it`);
    if (c.kind === 'dsse') {
      t.equal(await page.locator('#predicate-type').textContent(), 'https://slsa.dev/provenance/v1', `${what}: the predicateType`);
      t.equal(await page.locator('#builder').textContent(), 'https://github.com/actions/runner', `${what}: the SLSA builder id`);
      t.same(await page.locator('#subjects .subject-name').allTextContents(), ['pkg:generic/app-att@1.0.0?ext=tgz', 'pkg:generic/app-att@1.0.0?ext=zip'], `${what}: both subjects`);
      t.match(await page.locator('#subjects').textContent(), `sha256:${hash('sha256', zip).toString('hex')}`, `${what}: with their digests`);
      await screenshot(page, 'entry-attestation');
      // The longest page: it still fits a phone-width window (laid out again for it, as a turned phone does).
      const { scroll, width } = await narrowWidths(page);
      t.ok(scroll <= width, `${what}: fits a 360 px wide window (${scroll} <= ${width})`);
    }
  }

  // The verify page, one page for every check (as a person checks one file after another):
  // the real file and its proof, pinned to the signer's native key.
  await page.goto(`${log.url}/verify`);
  await page.locator('#verify-form summary').click(); // the optional keys are folded away
  for (const c of cases) {
    const what = `${c.kind} entry ${c.index} (${c.file})`;
    const verify = async (file: Buffer, signerKey: string) => {
      await page.setInputFiles('#artifact', { name: c.file, mimeType: 'application/octet-stream', buffer: file });
      await page.setInputFiles('#proof', { name: `${c.file}.tlog-proof`, mimeType: 'text/plain', buffer: Buffer.from(c.bundle!) });
      await page.fill('#log-key', vkey);
      await page.fill('#signers', signerKey);
      const before = b.requests.length;
      await newVerdict(page, () => page.click('#verify'));
      t.equal(b.requests.length, before, `${what}: checking makes no request`);
      return { verified: await page.locator('#verdict').getAttribute('data-verified'), text: (await page.locator('#result').textContent()) ?? '' };
    };
    const file = readFileSync(join(dir, c.file));
    const good = await verify(file, c.key);
    t.equal(good.verified, 'true', `${what}: the verify page accepts the file and its proof with the signer's ${c.kind} key`);
    t.match(good.text, `entry ${c.index} of`, `${what}: and names the entry`);
    t.match(good.text, `signed by ${c.signer}`, `${what}: and the signer by its one name`);
    const other = await verify(file, c.otherKey);
    t.equal(other.verified, 'false', `${what}: another signer key is refused`);
    t.match(other.text, /step 2\): The entry was signed by/, `${what}: at step 2`);
    const tampered = await verify(Buffer.concat([file, Buffer.from('!')]), c.key);
    t.equal(tampered.verified, 'false', `${what}: a tampered file is refused`);
    t.match(tampered.text, /step 1\)/, `${what}: at step 1`);
  }

  t.same(foreign(b.requests, log.url), [], 'no request left the log under test');
});
