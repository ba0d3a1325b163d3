/**
 * The monitor policy (docs/monitoring.md "Policy", docs/formats.md §11) with
 * signers named by native keys and by their one name, and attestation
 * allow-lists. Keys come from the real tools (ssh-keygen, openssl,
 * minisign) and their names from those tools' own output (`ssh-keygen -l`,
 * the minisign public key's comment), so no expected value is computed by
 * the policy code. The parser fails closed: every malformed or unknown
 * field is refused with a message naming it.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { CompiledPolicy, parsePolicy, PolicyError, PolicyFile, type PolicyAttestation, type PolicySigner } from '../../src/monitor/policy.js';
import { cosignerVerifier, formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { removeDir, tempDir } from '../log/harness.js';

const run = (cwd: string, cmd: string, args: string[], input?: Buffer): Buffer => execFileSync(cmd, args, { cwd, input, stdio: ['pipe', 'pipe', 'pipe'] });
const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');
const D = 'ab'.repeat(32);

interface Keys {
  dir: string;
  /** ssh-keygen Ed25519 key: its line, its ssh-keygen -l fingerprint, its raw key and the same key as PEM. */
  ed: { line: string; sshFp: string; raw: Buffer; pem: string; pemFp: string };
  /** ssh-keygen ECDSA P-256 key, exported to PEM by ssh-keygen, compressed by openssl. */
  ec: { line: string; sshFp: string; raw: Buffer; pem: string; pemFp: string; compressed: Buffer; compressedFp: string };
  /** minisign key: the .pub text, the key ID minisign printed, the raw key. */
  mini: { pub: string; id: string; raw: Buffer };
}

function makeKeys(): Keys {
  const dir = tempDir('vitrine-policy-native-');
  run(dir, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', 'ed']);
  run(dir, 'ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-C', 'ci', '-f', 'ec']);
  const sshFp = (f: string) => run(dir, 'ssh-keygen', ['-l', '-E', 'sha256', '-f', f]).toString().split(' ')[1]!;
  const edLine = readFileSync(join(dir, 'ed.pub'), 'utf8').trim();
  const edRaw = Buffer.from(edLine.split(' ')[1]!, 'base64').subarray(-32);
  const edDer = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), edRaw]);
  const edPem = createPublicKey({ key: edDer, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
  const ecPem = run(dir, 'ssh-keygen', ['-e', '-m', 'PKCS8', '-f', 'ec.pub']).toString();
  const ecDer = createPublicKey(ecPem).export({ format: 'der', type: 'spki' });
  const compressed = run(dir, 'openssl', ['ec', '-pubin', '-conv_form', 'compressed', '-outform', 'DER'], Buffer.from(ecPem));
  run(dir, 'minisign', ['-G', '-W', '-p', 'mini.pub', '-s', 'mini.key']);
  const miniPub = readFileSync(join(dir, 'mini.pub'), 'utf8');
  return {
    dir,
    ed: { line: edLine, sshFp: sshFp('ed.pub'), raw: edRaw, pem: edPem, pemFp: `SHA256:${b64u(sha(edDer))}` },
    ec: {
      line: readFileSync(join(dir, 'ec.pub'), 'utf8').trim(),
      sshFp: sshFp('ec.pub'),
      raw: ecDer.subarray(-65),
      pem: ecPem,
      pemFp: `SHA256:${b64u(sha(ecDer))}`,
      compressed: compressed.subarray(-33),
      compressedFp: `SHA256:${b64u(sha(compressed))}`,
    },
    mini: { pub: miniPub, id: /minisign public key ([0-9A-F]{1,16})\n/.exec(miniPub)![1]!, raw: Buffer.from(miniPub.trim().split('\n')[1]!, 'base64').subarray(10) },
  };
}

const keys = makeKeys();
t.teardown(() => removeDir(keys.dir));

const policy = (o: unknown, files: Record<string, string> = {}): CompiledPolicy =>
  new CompiledPolicy(parsePolicy(JSON.stringify(o), join(keys.dir, 'policy.json'), (p) => {
    const name = p.slice(keys.dir.length + 1);
    return name in files ? files[name]! : readFileSync(p, 'utf8');
  }));

// Entry signers as the audit hands them over: each entry kind names its key in its own format.
const sshSigner = (k: Keys['ed'] | Keys['ec'], algorithm: 'ed25519' | 'ecdsa-p256'): PolicySigner => ({ algorithm, key: k.raw, fingerprint: k.sshFp });
const pemSigner = (k: Keys['ed'] | Keys['ec'], algorithm: 'ed25519' | 'ecdsa-p256'): PolicySigner => ({ algorithm, key: k.raw, fingerprint: k.pemFp });
const v1Signer = (raw: Uint8Array): PolicySigner => ({ algorithm: 'ed25519', key: raw, fingerprint: sha(raw).toString('hex') });
const stranger = generateSigner('stranger.example', nodeEd25519);
const strangerSigner = v1Signer(stranger.publicKey);
const kinds = (f: Array<{ kind: string }>) => f.map((x) => x.kind);

t.test('a key in any native format matches its signer in any entry format', async (t) => {
  const rule = (signer: unknown) => policy({ rules: [{ names: ['pkg:generic/app@*'], signers: [signer] }] });
  const N = 'pkg:generic/app@1.0.0';
  const cases: Array<[string, unknown, PolicySigner[]]> = [
    ['an OpenSSH Ed25519 line', keys.ed.line, [sshSigner(keys.ed, 'ed25519'), pemSigner(keys.ed, 'ed25519'), v1Signer(keys.ed.raw)]],
    ['a PEM Ed25519 key', keys.ed.pem, [sshSigner(keys.ed, 'ed25519'), pemSigner(keys.ed, 'ed25519'), v1Signer(keys.ed.raw)]],
    ['an OpenSSH ECDSA line', keys.ec.line, [sshSigner(keys.ec, 'ecdsa-p256'), pemSigner(keys.ec, 'ecdsa-p256')]],
    ['a PEM P-256 key (uncompressed, as ssh-keygen -e wrote it)', keys.ec.pem, [pemSigner(keys.ec, 'ecdsa-p256'), { algorithm: 'ecdsa-p256', key: keys.ec.compressed, fingerprint: keys.ec.compressedFp }]],
    ['a minisign public key file text', keys.mini.pub, [{ algorithm: 'ed25519', key: keys.mini.raw, fingerprint: keys.mini.id }]],
    ['a minisign key in a file', { file: 'mini.pub' }, [{ algorithm: 'ed25519', key: keys.mini.raw, fingerprint: keys.mini.id }]],
    ['the ssh-keygen -l fingerprint of an Ed25519 key', keys.ed.sshFp, [sshSigner(keys.ed, 'ed25519'), pemSigner(keys.ed, 'ed25519'), v1Signer(keys.ed.raw)]],
    ['the ssh-keygen -l fingerprint of a P-256 key', keys.ec.sshFp, [sshSigner(keys.ec, 'ecdsa-p256'), pemSigner(keys.ec, 'ecdsa-p256'), { algorithm: 'ecdsa-p256', key: keys.ec.compressed, fingerprint: keys.ec.compressedFp }]],
    ['the SPKI fingerprint of the compressed P-256 key', keys.ec.compressedFp, [pemSigner(keys.ec, 'ecdsa-p256'), sshSigner(keys.ec, 'ecdsa-p256')]],
    ['the minisign key ID', keys.mini.id, [{ algorithm: 'ed25519', key: keys.mini.raw, fingerprint: keys.mini.id }]],
  ];
  for (const [what, signer, signers] of cases) {
    const p = rule(signer);
    for (const s of signers) t.same(p.check(1, N, D, [s]), [], `${what} allows its key named ${s.fingerprint}`);
    const other = p.check(7, N, D, [strangerSigner]);
    t.same(kinds(other), ['unexpected-signer'], `${what}: another key is unexpected`);
    t.equal(other[0]!.message, `Entry 7 is "${N}", a name policy rule 1 allows only for other signers, signed by ${strangerSigner.fingerprint}.`, 'the message names the entry and the key by its one name');
  }
  // A key written in one format is not another key's: the minisign key's raw bytes differ from the ssh key's.
  t.same(kinds(rule(keys.ed.line).check(1, N, D, [{ algorithm: 'ed25519', key: keys.mini.raw, fingerprint: keys.mini.id }])), ['unexpected-signer'], 'another key');
  t.same(kinds(rule(keys.ec.sshFp).check(1, N, D, [sshSigner(keys.ed, 'ed25519')])), ['unexpected-signer'], 'another fingerprint');
});

t.test('vkeys, their name+keyID and version-1 key hashes', async (t) => {
  const alice = generateSigner('alice.example', nodeEd25519);
  const vkey = formatVerifier(verifierFromSigner(alice));
  const nameId = vkey.split('+').slice(0, 2).join('+');
  const N = 'pkg:npm/lib@1';
  for (const [what, signer] of [['the vkey', vkey], ['name+keyID', nameId], ['the hex key hash', sha(alice.publicKey).toString('hex')]] as const) {
    const p = policy({ rules: [{ names: ['pkg:npm/lib@*'], signers: [signer] }] });
    t.same(p.check(0, N, D, [v1Signer(alice.publicKey)]), [], `${what} allows the version-1 key`);
    t.same(kinds(p.check(0, N, D, [strangerSigner])), ['unexpected-signer'], `${what}: another key is unexpected`);
  }
  const other = generateSigner('alice2.example', nodeEd25519);
  const p = policy({ rules: [{ names: ['*'], signers: [nameId] }] });
  t.same(kinds(p.check(0, N, D, [v1Signer(other.publicKey)])), ['unexpected-signer'], 'name+keyID does not match a key of another name');
  const revoked = policy({ revoked: [vkey] }).check(3, N, D, [v1Signer(alice.publicKey)]);
  t.equal(revoked[0]!.message, `Entry 3 ("${N}") is signed by revoked key ${nameId}.`, 'a vkey the policy names gives the version-1 key its name+keyID');
});

t.test('several signers, releases and revocation by native keys', async (t) => {
  const rel = `pkg:generic/app@1.0.0 ${D}\n`;
  const p = policy({
    rules: [{ names: ['pkg:generic/app@*'], signers: [keys.ec.pem] }],
    keys: [{ signer: keys.ec.sshFp, releases: 'rel.txt' }],
    revoked: [keys.mini.id],
  }, { 'rel.txt': rel });
  const ec = pemSigner(keys.ec, 'ecdsa-p256');
  t.same(p.check(0, 'pkg:generic/app@1.0.0', D, [ec]), [], 'allowed and listed');
  t.same(p.check(0, 'pkg:generic/app@1.0.0', D, [strangerSigner, ec]), [], 'one allowed signer of an attestation is enough');
  const unlisted = p.check(4, 'pkg:generic/app@2.0.0', D, [ec]);
  t.same(kinds(unlisted), ['unexpected-entry'], 'a release the key did not list');
  t.match(unlisted[0]!.message, `Entry 4 is "pkg:generic/app@2.0.0" with digest ${D}, signed by ${keys.ec.pemFp}, but that release is not listed in ${join(keys.dir, 'rel.txt')}.`);
  const mini: PolicySigner = { algorithm: 'ed25519', key: keys.mini.raw, fingerprint: keys.mini.id };
  t.same(kinds(p.check(0, 'other', D, [mini])), ['revoked-key'], 'the revoked minisign key');
  t.same(kinds(p.check(0, 'pkg:generic/app@1.0.0', D, [mini, ec])), ['revoked-key'], 'revoked even beside an allowed signer');
  t.match(p.check(0, 'pkg:generic/app@1.0.0', D, [mini, ec])[0]!.message, `signed by revoked key ${keys.mini.id}.`, 'naming the minisign key by its key ID');
});

const slsa1 = (builderId: string | undefined, subjects: string[] = []): PolicyAttestation => ({ predicateType: 'https://slsa.dev/provenance/v1', builderId, subjectNames: subjects });

t.test('attestation allow-lists: predicateTypes and SLSA builder ids, per rule', async (t) => {
  const p = policy({
    rules: [
      { names: ['pkg:generic/app@*'], signers: [keys.ed.line], predicateTypes: ['https://slsa.dev/provenance/*', 'https://spdx.dev/Document'], builders: ['https://github.com/my-org/*'] },
      { names: ['pkg:generic/tool@*'], predicateTypes: ['https://in-toto.io/attestation/test-result/v0.1'] },
    ],
  });
  const ed = pemSigner(keys.ed, 'ed25519');
  const N = 'pkg:generic/app@1.0.0';
  t.same(p.check(0, N, D, [ed], slsa1('https://github.com/my-org/release.yml@refs/tags/v1')), [], 'SLSA v1 from an allowed builder');
  t.same(p.check(0, N, D, [ed], { predicateType: 'https://spdx.dev/Document', builderId: undefined, subjectNames: [] }), [], 'an allowed SBOM type (builders apply to SLSA provenance only)');
  t.same(p.check(0, N, D, [ed]), [], 'a signature that is not an attestation is not held to the lists');

  const type = p.check(12, N, D, [ed], { predicateType: 'https://cyclonedx.org/bom', builderId: undefined, subjectNames: [N] });
  t.same(kinds(type), ['unexpected-attestation'], 'a predicateType outside the list');
  t.equal(type[0]!.message, `Entry 12 is "${N}", signed by ${keys.ed.pemFp}: an attestation with predicateType "https://cyclonedx.org/bom", which (allowed: "https://slsa.dev/provenance/*", "https://spdx.dev/Document") policy rule 1 does not allow.`, 'naming the entry, the key and the predicateType');

  const builder = p.check(13, N, D, [ed], slsa1('https://github.com/evil/release.yml@refs/heads/main'));
  t.same(kinds(builder), ['unexpected-attestation'], 'a builder outside the list');
  t.match(builder[0]!.message, /^Entry 13 .*signed by SHA256:.*from builder "https:\/\/github\.com\/evil\/release\.yml@refs\/heads\/main".*policy rule 1 does not allow\.$/, 'naming the builder');
  const v02 = p.check(14, N, D, [ed], { predicateType: 'https://slsa.dev/provenance/v0.2', builderId: 'https://evil.example/builder', subjectNames: [] });
  t.match(v02[0]!.message, /SLSA provenance \(https:\/\/slsa\.dev\/provenance\/v0\.2\) from builder "https:\/\/evil\.example\/builder"/, 'SLSA v0.2 builder ids too');
  t.same(kinds(p.check(15, N, D, [ed], slsa1(undefined))), ['unexpected-attestation'], 'provenance naming no builder fails closed');

  const both = p.check(16, N, D, [strangerSigner], slsa1('https://evil.example/'));
  t.same(kinds(both), ['unexpected-signer', 'unexpected-attestation'], 'an unexpected signer and builder: one alert of each kind');
  const bySubject = p.check(17, 'innocent-name', D, [ed], slsa1('https://evil.example/', ['innocent-name', 'pkg:generic/app@9']));
  t.same(kinds(bySubject), ['unexpected-attestation'], 'a rule applies when any subject of the attestation has a matching name');
  t.match(bySubject[0]!.message, '"innocent-name" (an attestation also about "pkg:generic/app@9")');
  t.same(p.check(18, 'pkg:generic/tool@1', D, [strangerSigner], { predicateType: 'https://in-toto.io/attestation/test-result/v0.1', builderId: undefined, subjectNames: [] }), [], 'a rule without signers does not restrict them');
  t.same(kinds(p.check(18, 'pkg:generic/tool@1', D, [strangerSigner], slsa1('https://github.com/my-org/x'))), ['unexpected-attestation'], 'its own predicateType list applies');
});

t.test('malformed policies are refused, naming the field', async (t) => {
  const rsa = run(keys.dir, 'openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  const rsaPem = run(keys.dir, 'openssl', ['pkey', '-pubout'], rsa).toString();
  const witness = formatVerifier(cosignerVerifier(generateSigner('witness.example', nodeEd25519)));
  const r = (o: Record<string, unknown>) => ({ rules: [{ names: ['*'], ...o }] });
  const cases: Array<[string, unknown, RegExp]> = [
    ['an unknown top-level field', { rule: [] }, /unknown field "rule" \(allowed: rules, keys, revoked\)/],
    ['an unknown rule field', r({ signers: [keys.ed.line], builder: ['x'] }), /rules\[0\]: unknown field "builder" \(allowed: names, signers, predicateTypes, builders\)/],
    ['a rule that checks nothing', { rules: [{ names: ['*'] }] }, /rules\[0\]: checks nothing/],
    ['an empty predicateTypes', r({ predicateTypes: [] }), /rules\[0\]\.predicateTypes: must not be empty/],
    ['a predicateType that is not a string', r({ predicateTypes: [1] }), /rules\[0\]\.predicateTypes\[0\]: must be a non-empty string/],
    ['builders not an array', r({ builders: 'https://x' }), /rules\[0\]\.builders: must be an array/],
    ['an empty signers', r({ signers: [] }), /rules\[0\]\.signers: must not be empty/],
    ['a signer that is a number', r({ signers: [42] }), /rules\[0\]\.signers\[0\]: must be a public key/],
    ['a short SHA256 name', r({ signers: ['SHA256:abc'] }), /signers\[0\]: "SHA256:abc" is not a public key/],
    ['a lowercase minisign key ID', r({ signers: [keys.mini.id.toLowerCase()] }), /uppercase hex without leading zeros, as minisign prints it/],
    ['a truncated PEM', r({ signers: [keys.ec.pem.slice(0, 60)] }), /signers\[0\]: malformed PEM public key: PEM is truncated/],
    ['an RSA PEM key', r({ signers: [rsaPem] }), /malformed PEM public key: RSA keys are not supported/],
    ['an ssh-rsa line', r({ signers: ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x'] }), /malformed OpenSSH public key/],
    ['a cut minisign key', r({ signers: [keys.mini.pub.slice(0, -10)] }), /malformed minisign public key/],
    ['a witness vkey', { revoked: [witness] }, /revoked\[0\]: malformed vkey: .*witness key/],
    ['a key file that is missing', r({ signers: [{ file: 'nope.pub' }] }), /signers\[0\]\.file: cannot read .*nope\.pub/],
    ['a key file with no key', r({ signers: [{ file: 'rel.txt' }] }), /signers\[0\]\.file: .*rel\.txt holds no public key/],
    ['a key file object with another field', r({ signers: [{ file: 'mini.pub', name: 'x' }] }), /signers\[0\]: unknown field "name" \(allowed: file\)/],
    ['keys with a native key but no releases file', { keys: [{ signer: keys.ed.sshFp, releases: 'gone.txt' }] }, /keys\[0\]\.releases: cannot read/],
  ];
  const files = { 'mini.pub': keys.mini.pub, 'rel.txt': `x ${D}\n` };
  for (const [what, o, re] of cases) t.throws(() => policy(o, files), re, what);
  t.throws(() => policy({ rules: [{ names: ['*'], signers: [42] }] }), PolicyError, 'as a PolicyError');
});

t.test('PolicyFile re-reads a key file when it changes', async (t) => {
  const dir = tempDir('vitrine-policy-file-');
  t.teardown(() => removeDir(dir));
  writeFileSync(join(dir, 'signer.pub'), keys.ed.line);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ rules: [{ names: ['*'], signers: [{ file: 'signer.pub' }] }] }));
  const f = new PolicyFile(join(dir, 'policy.json'));
  t.equal(f.refresh(), true, 'first load');
  const ed = sshSigner(keys.ed, 'ed25519');
  t.same(new CompiledPolicy(f.spec).check(0, 'x', D, [ed]), [], 'the key in the file is allowed');
  writeFileSync(join(dir, 'signer.pub'), keys.ec.line);
  t.equal(f.refresh(), true, 'a changed key file is noticed');
  t.same(kinds(new CompiledPolicy(f.spec).check(0, 'x', D, [ed])), ['unexpected-signer'], 'and in force');
  writeFileSync(join(dir, 'signer.pub'), 'garbage');
  t.throws(() => f.refresh(), PolicyError, 'a key file broken while running stops the monitor');
});
