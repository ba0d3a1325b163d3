/**
 * Entry kind ssh (src/entry/kinds/ssh.ts) with keys and signatures made by
 * the real `ssh-keygen -Y sign` at run time: ssh-ed25519 and
 * ecdsa-sha2-nistp256 keys, hash sha512 and sha256. The entry decodes,
 * verifies and names its signer as `ssh-keygen -l` does; a real log accepts
 * it (CBOR and JSON) and refuses the wrong namespace, another file's hash,
 * a swapped key, an RSA key and a non-canonical blob with a 4xx and the tree
 * unmoved; the offline verifier matches the SHA-512 too; the monitor audit
 * re-verifies it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { sha256 } from '../../merkle/hash.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeAnyEntry, encodeEntryV2, entrySigners, entryV2ToJson, verifyAnyEntry, type EntryV2 } from '../../src/entry/index.js';
import { dearmorSshSignature, parseSshPublicKey, parseSshSignature } from '../../src/sig/ssh.js';
import { get, post, startLog, tempDir } from '../log/harness.js';

const dir = tempDir('vitrine-ssh-');
function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}
function keyPair(n: string, type: 'ed25519' | 'ecdsa'): { priv: string; pub: string } {
  const priv = join(dir, n);
  sshKeygen(['-q', '-t', type, ...(type === 'ecdsa' ? ['-b', '256'] : []), '-N', '', '-C', `${n}@test`, '-f', priv]);
  return { priv, pub: readFileSync(`${priv}.pub`, 'utf8') };
}
function sign(key: string, file: string, ns: string, hash: 'sha256' | 'sha512'): Uint8Array {
  execFileSync('ssh-keygen', ['-Y', 'sign', '-n', ns, '-f', key, '-O', `hashalg=${hash}`, file], { stdio: 'ignore' });
  const armor = readFileSync(`${file}.sig`, 'utf8');
  rmSync(`${file}.sig`, { force: true });
  return dearmorSshSignature(armor);
}
const bytes = new TextEncoder().encode('release bytes for ssh\n');
const artifact = join(dir, 'artifact.tar.gz');
writeFileSync(artifact, bytes);
const other = new TextEncoder().encode('another file\n');
writeFileSync(join(dir, 'other'), other);
const digest = sha256(bytes);
const sha512 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha512').update(b).digest());
const hashOf = (alg: 'sha256' | 'sha512', b: Uint8Array): Uint8Array => (alg === 'sha256' ? sha256(b) : sha512(b));

const ed = keyPair('ed', 'ed25519');
const ec = keyPair('ec', 'ecdsa');

function entryFor(key: { priv: string }, alg: 'sha256' | 'sha512', ns = 'file', name = 'pkg:generic/artifact@1.0.0'): EntryV2 {
  return { version: 2, kind: 'ssh', name, digest, body: { sig: sign(key.priv, artifact, ns, alg), hash: hashOf(alg, bytes) } };
}

t.test('ssh-keygen signatures make valid entries named by the ssh-keygen -l fingerprint', async (t) => {
  for (const [label, key] of [['ed25519', ed], ['ecdsa-p256', ec]] as const) {
    const fingerprint = sshKeygen(['-l', '-E', 'sha256', '-f', `${key.priv}.pub`]).split(' ')[1]!;
    t.equal(parseSshPublicKey(key.pub).fingerprint, fingerprint, `${label}: the key line's fingerprint is ssh-keygen's`);
    for (const alg of ['sha512', 'sha256'] as const) {
      const entry = entryFor(key, alg);
      const any = decodeAnyEntry(encodeEntryV2(entry));
      t.doesNotThrow(() => verifyAnyEntry(any, { ed: nobleEd25519 }), `${label} ${alg} verifies (noble)`);
      t.doesNotThrow(() => verifyAnyEntry(any, { ed: nodeEd25519 }), `${label} ${alg} verifies (node)`);
      const s = entrySigners(any)[0]!;
      t.equal(s.fingerprint, fingerprint, `${label} ${alg}: signer fingerprint`);
      t.equal(s.format, 'ssh');
      t.equal(s.algorithm, label);
      t.equal(parseSshSignature(entry.body.sig as Uint8Array).hashAlgorithm, alg);
      // The same blob over another file's hash does not verify.
      const forged = decodeAnyEntry(encodeEntryV2({ ...entry, digest: alg === 'sha256' ? sha256(other) : digest, body: { ...entry.body, hash: hashOf(alg, other) } }));
      t.throws(() => verifyAnyEntry(forged, { ed: nodeEd25519 }), { code: 'bad-signature' }, `${label} ${alg}: another file's hash`);
    }
  }
  // ssh-keygen -Y verify agrees the signatures are valid (the tool checks its own output).
  const allowed = join(dir, 'allowed');
  writeFileSync(allowed, `ed@test ${ed.pub}`);
  execFileSync('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', ed.priv, artifact], { stdio: 'ignore' });
  execFileSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'ed@test', '-n', 'file', '-s', `${artifact}.sig`], { input: bytes, stdio: ['pipe', 'ignore', 'ignore'] });
  const fromFile = dearmorSshSignature(readFileSync(`${artifact}.sig`, 'utf8'));
  rmSync(`${artifact}.sig`, { force: true });
  t.doesNotThrow(() => verifyAnyEntry(decodeAnyEntry(encodeEntryV2({ version: 2, kind: 'ssh', name: 'x', digest, body: { sig: fromFile, hash: sha512(bytes) } })), { ed: nodeEd25519 }));
});

t.test('a sha256 signature must carry the entry digest as its hash', async (t) => {
  const entry = entryFor(ed, 'sha256');
  t.throws(() => encodeEntryV2({ ...entry, digest: sha256(other) }), /must equal the entry digest/);
  t.throws(() => encodeEntryV2({ ...entry, body: { ...entry.body, hash: sha512(bytes) } }), /must be 32 bytes/);
});

t.test('a real log accepts ssh entries and refuses the negative cases with the tree unmoved', async (t) => {
  const log = await startLog();
  t.teardown(() => log.close());
  const size = async (): Promise<string> => (await get(`${log.url}/checkpoint`)).text.split('\n')[1]!;
  const entry = entryFor(ed, 'sha512');
  const ok = await post(log.url, encodeEntryV2(entry));
  t.equal(ok.status, 201, JSON.stringify(ok.json));
  const again = await post(log.url, JSON.stringify(entryV2ToJson(entry)), 'application/json');
  t.equal(again.status, 200, 'the JSON form is the same leaf');
  const ecOk = await post(log.url, JSON.stringify(entryV2ToJson(entryFor(ec, 'sha256'))), 'application/json');
  t.equal(ecOk.status, 201, JSON.stringify(ecOk.json));
  const view = JSON.parse((await get(`${log.url}/v1/entries?digest=${Buffer.from(digest).toString('hex')}`)).text);
  t.same(view.entries.map((e: { kind: string }) => e.kind), ['ssh', 'ssh']);
  t.equal(view.entries[0].signers[0], parseSshPublicKey(ed.pub).fingerprint);
  const before = await size();

  const wrongNs = parseSshSignature(sign(ed.priv, artifact, 'git', 'sha512'));
  t.equal(wrongNs.namespace, 'git');
  const ed2 = keyPair('ed2', 'ed25519');
  const swapped = sign(ed2.priv, artifact, 'file', 'sha512');
  // Key of ed2 spliced into ed's blob: same layout, the signature is ed's.
  const edBlob = entry.body.sig as Uint8Array;
  const edKey = parseSshSignature(edBlob).publicKey.blob;
  const ed2Key = parseSshSignature(swapped).publicKey.blob;
  const spliced = Buffer.from(Buffer.from(edBlob).toString('latin1').replace(Buffer.from(edKey).toString('latin1'), Buffer.from(ed2Key).toString('latin1')), 'latin1');
  const nsEntry = entryFor(ed, 'sha512', 'git', 'ns');
  const cases: Array<[string, EntryV2]> = [
    // A signature made in namespace "git" relabelled "file" by re-encoding.
    ['the wrong namespace', { ...entry, name: 'a', body: { sig: Buffer.from(Buffer.from(nsEntry.body.sig as Uint8Array).toString('latin1').replace('\x00\x00\x00\x03git', '\x00\x00\x00\x04file'), 'latin1'), hash: entry.body.hash! } }],
    ['another file hash', { ...entry, name: 'b', body: { ...entry.body, hash: sha512(other) } }],
    ['a swapped key', { ...entry, name: 'c', body: { ...entry.body, sig: new Uint8Array(spliced) } }],
  ];
  for (const [what, e] of cases) {
    const r = await post(log.url, encodeEntryV2(e));
    t.equal(r.status, 422, `${what}: ${JSON.stringify(r.json)}`);
    t.match(JSON.stringify(r.json), /does not verify/, what);
  }
  // An RSA key and a non-minimal mpint cannot even be encoded, and the log refuses their JSON.
  const rsaPriv = join(dir, 'rsa');
  sshKeygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsaPriv]);
  const rsaSig = sign(rsaPriv, artifact, 'file', 'sha512');
  t.throws(() => parseSshSignature(rsaSig), /RSA SSH keys are not supported/);
  t.throws(() => parseSshPublicKey(readFileSync(`${rsaPriv}.pub`, 'utf8')), /RSA SSH keys are not supported/);
  const json = (sig: Uint8Array): string => JSON.stringify({ ...entryV2ToJson(entry), name: 'd', body: { sig: Buffer.from(sig).toString('base64'), hash: Buffer.from(sha512(bytes)).toString('base64') } });
  const rsa = await post(log.url, json(rsaSig), 'application/json');
  t.equal(rsa.status, 422, JSON.stringify(rsa.json));
  t.match(JSON.stringify(rsa.json), /RSA SSH keys are not supported/);
  const ecBlob = entryFor(ec, 'sha512').body.sig as Uint8Array;
  const nonMinimal = padMpint(ecBlob);
  const nm = await post(log.url, json(nonMinimal), 'application/json');
  t.equal(nm.status, 422, JSON.stringify(nm.json));
  t.match(JSON.stringify(nm.json), /not minimally encoded/);
  const truncated = await post(log.url, json(ecBlob.subarray(0, ecBlob.length - 5)), 'application/json');
  t.equal(truncated.status, 400, JSON.stringify(truncated.json));
  t.match(JSON.stringify(truncated.json), /truncated/);
  t.throws(() => dearmorSshSignature(readArmorTruncated(ed.priv)), /truncated/);
  t.equal(await size(), before, 'the tree did not move');
});

/** The ECDSA signature blob with r given a needless leading zero byte (lengths adjusted). */
function padMpint(blob: Uint8Array): Uint8Array {
  const sig = parseSshSignature(blob);
  const r = sig.signature.subarray(0, 32);
  const s = sig.signature.subarray(32);
  const str = (b: Uint8Array): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const mp = (v: Uint8Array, pad: boolean): Buffer => str(pad ? Buffer.concat([Buffer.from([0, 0]), v]).subarray(v[0]! & 0x80 ? 0 : 1) : v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : Buffer.from(v));
  const inner = Buffer.concat([str(Buffer.from('ecdsa-sha2-nistp256')), str(Buffer.concat([mp(r, true), mp(s, false)]))]);
  return new Uint8Array(Buffer.concat([
    Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 1]), str(sig.publicKey.blob), str(Buffer.from(sig.namespace)), str(sig.reserved), str(Buffer.from(sig.hashAlgorithm)), str(inner),
  ]));
}

function readArmorTruncated(key: string): string {
  execFileSync('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', key, artifact], { stdio: 'ignore' });
  const armor = readFileSync(`${artifact}.sig`, 'utf8');
  rmSync(`${artifact}.sig`, { force: true });
  return armor.split('\n').slice(0, -2).join('\n');
}

t.test('the offline verifier checks the SHA-512 too, and the monitor audit re-verifies', async (t) => {
  const { verifyBundle } = await import('../../src/proof/index.js');
  const { auditEntry } = await import('../../src/monitor/bundle.js');
  const log = await startLog();
  t.teardown(() => log.close());
  const entry = entryFor(ec, 'sha512');
  const r = await post(log.url, encodeEntryV2(entry));
  t.equal(r.status, 201);
  const logKey = log.opened.verifierKey;
  const ok = verifyBundle(bytes, r.json.bundle, { logKey });
  t.equal(ok.ok, true, ok.ok ? 'verified' : ok.message);
  if (ok.ok) t.equal(ok.signers[0]!.fingerprint, parseSshPublicKey(ec.pub).fingerprint);
  const byDigests = verifyBundle({ digest, sha512: sha512(bytes) }, r.json.bundle, { logKey });
  t.equal(byDigests.ok, true);
  const noSha512 = verifyBundle({ digest }, r.json.bundle, { logKey });
  t.equal(noSha512.ok ? 'ok' : noSha512.code, 'digest-mismatch');
  // An entry pairing this file's SHA-256 with another file's signed SHA-512 passes the log (it cannot tell) but not the verifier.
  const mixed: EntryV2 = { ...entry, name: 'mixed', body: { sig: sign(ec.priv, join(dir, 'other'), 'file', 'sha512'), hash: sha512(other) } };
  const m = await post(log.url, encodeEntryV2(mixed));
  t.equal(m.status, 201);
  const bad = verifyBundle(bytes, m.json.bundle, { logKey });
  t.equal(bad.ok ? 'ok' : bad.code, 'digest-mismatch');
  t.match(bad.ok ? '' : bad.message, /sha512/);
  t.same(auditEntry(encodeEntryV2(entry), 0, undefined), [], 'audit re-verifies and finds nothing');
  const forged = encodeEntryV2({ ...entry, body: { ...entry.body, hash: sha512(other) } });
  const findings = auditEntry(forged, 3, undefined);
  t.equal(findings[0]?.kind, 'bad-entry');
  t.match(findings[0]?.message, /does not verify/);
});
