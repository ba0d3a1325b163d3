/**
 * The monitor policy end to end with keys and signatures from the real
 * tools: `ssh-keygen -Y sign`, `minisign -S`, `openssl dgst -sha256 -sign`
 * (ECDSA P-256) and in-toto attestations in DSSE envelopes (PAE from
 * @sigstore/core, signed by `openssl pkeyutl`, test/sig/_openssl.ts). Each
 * is logged with `vitrine submit`, checked with `vitrine verify`, then
 * audited by `vitrine monitor --once` under a policy naming the signers in
 * their native formats and by their one names (docs/monitoring.md
 * "Policy"). Expected signers pass; an unexpected SSH key, a forbidden
 * predicateType and a forbidden SLSA v0.2 builder each raise a security
 * alert naming the entry, the key and what is not allowed, and exit 1.
 *
 * `vitrine monitor --once` runs as the built binary (its exit status is
 * the gate); `submit`, `verify` and `monitor ack` run in this process
 * (test/_cli.ts vitrineIn: the same program, without a process start
 * each; the cli-* tests run them as the binary).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytes, IN_TOTO, OpensslDir, statement } from '../sig/_openssl.js';
import { startLog } from '../log/harness.js';
import { vitrineIn } from '../_cli.js';
import { BIN, cli, writeJson, type CliResult } from './helpers.js';

const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');
const fpOfPem = (pem: string): string => `SHA256:${createHash('sha256').update(createPublicKey(pem).export({ format: 'der', type: 'spki' })).digest('base64').replace(/=+$/, '')}`;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, (c) => `\\${c}`);

t.test('a policy by native keys and attestation allow-lists, audited by vitrine monitor --once', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built');
  const ssl = new OpensslDir();
  t.teardown(() => ssl.remove());
  const dir = ssl.dir;
  const p = (f: string) => join(dir, f);
  const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const log = await startLog();
  t.teardown(() => log.close());
  const L = ['--log', log.url, '--log-key', log.opened.verifierKey];
  const ok = (r: CliResult, what: string) => t.equal(r.status, 0, `${what}: ${r.stderr.trim().slice(-300)}`);
  const inProcess = async (args: string[]): Promise<CliResult> => {
    const r = await vitrineIn(dir, args);
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };

  writeFileSync(p('app.tgz'), 'app 1.0.0 release bytes\n');
  writeFileSync(p('app-next.tgz'), 'app 1.0.1 release bytes\n');
  writeFileSync(p('sbom.json'), '{"sbom": true}\n');
  writeFileSync(p('evil.tgz'), 'built elsewhere\n');

  // The release team's keys, each made by its own tool.
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', 'ci_ssh']);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mallory', '-f', 'mallory_ssh']);
  const sshFp = (f: string) => run('ssh-keygen', ['-l', '-E', 'sha256', '-f', f]).split(' ')[1]!;
  const malloryFp = sshFp('mallory_ssh.pub');
  run('minisign', ['-G', '-W', '-p', 'release.minisign.pub', '-s', 'release.minisign.key']);
  const minisignId = /minisign public key ([0-9A-F]{1,16})\n/.exec(readFileSync(p('release.minisign.pub'), 'utf8'))![1]!;
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'cosign.key']);
  run('openssl', ['pkey', '-in', 'cosign.key', '-pubout', '-out', 'cosign.pub']);
  const builderKey = ssl.key('ed25519');
  writeFileSync(p('builder.pub'), builderKey.publicPem);
  const builderFp = fpOfPem(builderKey.publicPem);

  const N = 'pkg:generic/app@1.0.0';
  const signed: Array<{ what: string; artifact: string; proof: string; signer?: string }> = [];
  const submit = async (what: string, args: string[], artifact: string, proof: string, signer?: string) => {
    const r = await inProcess(['submit', ...L, ...args, '--out', p(proof)]);
    ok(r, `${what}: submitted`);
    signed.push({ what, artifact, proof, ...(signer === undefined ? {} : { signer }) });
    return Number(/logged at index (\d+)/.exec(r.stdout)?.[1]);
  };

  // Expected signers: ssh-keygen, minisign, openssl ECDSA, and SLSA v1 provenance from the allowed builder.
  run('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', 'ci_ssh', 'app.tgz']);
  await submit('ssh-keygen -Y sign', ['--signature', p('app.tgz.sig'), '--public-key', p('ci_ssh.pub'), '--namespace', 'file', '--name', N, p('app.tgz')], 'app.tgz', 'ssh.tlog-proof', 'ci_ssh.pub');
  run('minisign', ['-S', '-s', 'release.minisign.key', '-m', 'app.tgz', '-t', 'app 1.0.0']);
  await submit('minisign -S', ['--signature', p('app.tgz.minisig'), '--public-key', p('release.minisign.pub'), '--name', N, p('app.tgz')], 'app.tgz', 'minisign.tlog-proof', 'release.minisign.pub');
  run('openssl', ['dgst', '-sha256', '-sign', 'cosign.key', '-out', 'app.tgz.der', 'app.tgz']);
  await submit('openssl ECDSA', ['--signature', p('app.tgz.der'), '--public-key', p('cosign.pub'), '--name', N, p('app.tgz')], 'app.tgz', 'ecdsa.tlog-proof', 'cosign.pub');
  const provenance = (file: string, name: string, extra: Record<string, unknown>) =>
    ssl.envelope(IN_TOTO, bytes(statement({ subject: [{ name, digest: { sha256: sha(readFileSync(p(file))) } }], ...extra })), [builderKey]);
  writeFileSync(p('good.intoto.json'), provenance('app.tgz', N, { predicate: { buildDefinition: { buildType: 'https://example.com/build' }, runDetails: { builder: { id: 'https://github.com/my-org/app/.github/workflows/release.yml@refs/tags/v1.0.0' } } } }));
  await submit('SLSA v1 provenance from the allowed builder', ['--attestation', p('good.intoto.json'), '--public-key', p('builder.pub')], 'app.tgz', 'good.tlog-proof');

  const policy = writeJson(p('policy.json'), {
    rules: [{
      names: ['pkg:generic/app@*', 'pkg:generic/app-*'],
      signers: [readFileSync(p('ci_ssh.pub'), 'utf8').trim(), minisignId, { file: 'cosign.pub' }, builderFp],
      predicateTypes: ['https://slsa.dev/provenance/*'],
      builders: ['https://github.com/my-org/app/.github/workflows/release.yml@refs/tags/*'],
    }],
  });
  const state = p('state');
  const monitor = (...extra: string[]) => cli(['monitor', '--state', state, ...L, '--policy', policy, '--once', ...extra], { timeout: 120_000 });
  const clean = await monitor('--init');
  t.equal(clean.status, 0, `every expected signer passes: exit 0 (${clean.stderr.trim().slice(-300)})`);
  t.equal(clean.stdout, '', 'and no alert');

  // Each violation alone: logged, then audited; a security alert naming the entry, the key by its
  // one name and what is not allowed; exit 1; acknowledged before the next.
  const violation = async (what: string, kind: string, message: (index: number) => RegExp, log: () => Promise<number>) => {
    const index = await log();
    const r = await monitor();
    t.equal(r.status, 1, `${what}: exit 1 (${r.stderr.trim().slice(-300)})`);
    const alerts = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; class: string; index: number; message: string });
    t.same(alerts.map((a) => [a.index, a.kind, a.class]), [[index, kind, 'security']], `${what}: one ${kind} security alert, for entry ${index}`);
    t.match(alerts[0]?.message, message(index), `${what}: the message names the entry, the key and what is not allowed`);
    ok(await inProcess(['monitor', 'ack', '--state', state, '--all', '--by', 'release-team']), `${what}: acknowledged`);
  };

  await violation('an unexpected ssh key', 'unexpected-signer', (i) => new RegExp(`^Entry ${i} is "pkg:generic/app@1\\.0\\.1", a name policy rule 1 allows only for other signers, signed by ${esc(malloryFp)}\\.$`), async () => {
    run('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', 'mallory_ssh', 'app-next.tgz']);
    return submit('an unexpected ssh key', ['--signature', p('app-next.tgz.sig'), '--public-key', p('mallory_ssh.pub'), '--namespace', 'file', '--name', 'pkg:generic/app@1.0.1', p('app-next.tgz')], 'app-next.tgz', 'mallory.tlog-proof', 'mallory_ssh.pub');
  });
  await violation('a forbidden predicateType', 'unexpected-attestation', (i) => new RegExp(`^Entry ${i} is "pkg:generic/app-sbom@1\\.0\\.0", signed by ${esc(builderFp)}: an attestation with predicateType "https://cyclonedx\\.org/bom", .*policy rule 1 does not allow\\.$`), async () => {
    writeFileSync(p('sbom.intoto.json'), ssl.envelope(IN_TOTO, bytes(statement({
      subject: [{ name: 'pkg:generic/app-sbom@1.0.0', digest: { sha256: sha(readFileSync(p('sbom.json'))) } }],
      predicateType: 'https://cyclonedx.org/bom',
      predicate: { bomFormat: 'CycloneDX' },
    })), [builderKey]));
    return submit('a forbidden predicateType', ['--attestation', p('sbom.intoto.json'), '--public-key', p('builder.pub')], 'sbom.json', 'sbom.tlog-proof');
  });
  await violation('a forbidden SLSA v0.2 builder', 'unexpected-attestation', (i) => new RegExp(`^Entry ${i} is "pkg:generic/app@1\\.0\\.2", signed by ${esc(builderFp)}: SLSA provenance \\(https://slsa\\.dev/provenance/v0\\.2\\) from builder "https://evil\\.example/builder@v1", .*policy rule 1 does not allow\\.$`), async () => {
    writeFileSync(p('evil.intoto.json'), ssl.envelope(IN_TOTO, bytes(statement({
      subject: [{ name: 'pkg:generic/app@1.0.2', digest: { sha256: sha(readFileSync(p('evil.tgz'))) } }],
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: { builder: { id: 'https://evil.example/builder@v1' }, buildType: 'https://example.com/build' },
    })), [builderKey]));
    return submit('a forbidden SLSA v0.2 builder', ['--attestation', p('evil.intoto.json'), '--public-key', p('builder.pub')], 'evil.tgz', 'evil.tlog-proof');
  });
  const quiet = await monitor();
  t.equal(quiet.status, 0, `all acknowledged, nothing new: exit 0 (${quiet.stderr.trim().slice(-300)})`);

  // Every entry, allowed or not, is a valid logged signature: vitrine verify accepts each offline.
  t.equal(signed.length, 7, 'seven entries logged');
  for (const s of signed) {
    const v = await inProcess(['verify', '--log-key', log.opened.verifierKey, ...(s.signer === undefined ? [] : ['--signer', p(s.signer)]), p(s.artifact), p(s.proof)]);
    ok(v, `vitrine verify: ${s.what}`);
  }
});
