/**
 * Entry kind minisign (src/entry/kinds/minisign.ts) with keys and
 * signatures made by the real `minisign` at run time: the entry decodes,
 * verifies (signature over the BLAKE2b-512 and global signature over the
 * trusted comment, tabs included) and names its signer by the key ID
 * minisign prints; a real log accepts it (CBOR and JSON) and refuses a
 * legacy signature (saying why), another file's hash, a swapped key, an
 * altered trusted comment and a truncated file with a 4xx and the tree
 * unmoved; the verifier matches the BLAKE2b-512; the monitor re-verifies.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { sha256 } from '../../merkle/hash.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeAnyEntry, encodeEntryV2, entrySigners, entryV2ToJson, verifyAnyEntry, type EntryV2 } from '../../src/entry/index.js';
import { parseMinisignPublicKey, parseMinisignSignature, type MinisignSignature } from '../../src/sig/minisign.js';
import { get, post, startLog, tempDir } from '../log/harness.js';

const dir = tempDir('vitrine-minisign-');
function keyPair(n: string): { priv: string; pub: string; id: string } {
  const priv = join(dir, `${n}.key`);
  const pubPath = join(dir, `${n}.pub`);
  execFileSync('minisign', ['-G', '-W', '-p', pubPath, '-s', priv], { stdio: 'ignore' });
  const pub = readFileSync(pubPath, 'utf8');
  // minisign names the key in the public key's comment: "minisign public key <ID>".
  const id = /minisign public key ([0-9A-F]{1,16})\n/.exec(pub)![1]!;
  return { priv, pub, id };
}
function sign(key: string, file: string, extra: string[] = []): MinisignSignature {
  execFileSync('minisign', ['-S', '-s', key, '-m', file, ...extra], { stdio: 'ignore' });
  return parseMinisignSignature(new Uint8Array(readFileSync(`${file}.minisig`)));
}
const bytes = new TextEncoder().encode('release bytes for minisign\n');
const artifact = join(dir, 'artifact.tar.gz');
writeFileSync(artifact, bytes);
const other = new TextEncoder().encode('another file\n');
const otherPath = join(dir, 'other');
writeFileSync(otherPath, other);
const digest = sha256(bytes);
const blake = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('blake2b512').update(b).digest());
const a = keyPair('a');
const b = keyPair('b');

function entryFor(key: { pub: string; priv: string }, sig = sign(key.priv, artifact), name = 'pkg:generic/artifact@1.0.0'): EntryV2 {
  return {
    version: 2, kind: 'minisign', name, digest,
    body: { key: parseMinisignPublicKey(key.pub).bytes, sig: sig.bytes, hash: blake(bytes), comment: sig.trustedComment, global: sig.globalSignature },
  };
}

t.test('the key ID is printed as minisign prints it, leading zeros dropped', async (t) => {
  // Recorded from `minisign -G` 0.11: one key in sixteen has an ID whose top
  // hex digit is zero, and minisign prints it with 15 digits (C's PRIX64).
  const recorded = 'untrusted comment: minisign public key 5326C6A23F671BD\nRWS9cfYjamwyBU+AiKYEMiYE1b8qRjW+ezTBA5LXGp3Vo1WcsxRBXL7w\n';
  t.equal(parseMinisignPublicKey(recorded).fingerprint, '5326C6A23F671BD');
  t.equal(parseMinisignPublicKey('RWS9cfYjamwyBU+AiKYEMiYE1b8qRjW+ezTBA5LXGp3Vo1WcsxRBXL7w').fingerprint, '5326C6A23F671BD', 'from the bare key line too');
});

t.test('minisign signatures make valid entries named by the key ID', async (t) => {
  const sig = sign(a.priv, artifact);
  t.match(Buffer.from(sig.trustedComment).toString(), /^timestamp:\d+\tfile:artifact.tar.gz\thashed$/, "minisign's default trusted comment, with tabs");
  const entry = entryFor(a, sig);
  const any = decodeAnyEntry(encodeEntryV2(entry));
  t.doesNotThrow(() => verifyAnyEntry(any, { ed: nobleEd25519 }));
  t.doesNotThrow(() => verifyAnyEntry(any, { ed: nodeEd25519 }));
  const s = entrySigners(any)[0]!;
  t.equal(s.fingerprint, a.id, 'the key ID minisign printed');
  t.equal(s.format, 'minisign');
  const custom = entryFor(a, sign(a.priv, artifact, ['-t', 'release 1.0.0 by ci']));
  t.equal(Buffer.from(custom.body.comment as Uint8Array).toString(), 'release 1.0.0 by ci');
  t.doesNotThrow(() => verifyAnyEntry(decodeAnyEntry(encodeEntryV2(custom)), { ed: nodeEd25519 }));
  // minisign -V agrees on the file it signed.
  execFileSync('minisign', ['-V', '-p', join(dir, 'a.pub'), '-m', artifact], { stdio: 'ignore' });
});

t.test('a legacy (Ed) signature is refused, saying it cannot be checked without the file', async (t) => {
  const legacy = join(dir, 'legacy');
  writeFileSync(legacy, bytes);
  let why = '';
  try {
    sign(a.priv, legacy, ['-l']);
  } catch (err) {
    why = (err as Error).message;
  }
  t.match(why, /cannot be checked without the file/);
  const line = readFileSync(`${legacy}.minisig`, 'utf8').split('\n')[1]!;
  t.equal(Buffer.from(line, 'base64').subarray(0, 2).toString(), 'Ed', 'minisign -l wrote a legacy (Ed) signature');
});

t.test('a real log accepts minisign entries and refuses the negative cases with the tree unmoved', async (t) => {
  const log = await startLog();
  t.teardown(() => log.close());
  const size = async (): Promise<string> => (await get(`${log.url}/checkpoint`)).text.split('\n')[1]!;
  const entry = entryFor(a);
  const ok = await post(log.url, encodeEntryV2(entry));
  t.equal(ok.status, 201, JSON.stringify(ok.json));
  const again = await post(log.url, JSON.stringify(entryV2ToJson(entry)), 'application/json');
  t.equal(again.status, 200, 'the JSON form is the same leaf');
  const view = JSON.parse((await get(`${log.url}/v1/entries?digest=${Buffer.from(digest).toString('hex')}`)).text);
  t.equal(view.entries[0].kind, 'minisign');
  t.equal(view.entries[0].signers[0], a.id);
  const before = await size();

  const legacyFile = join(dir, 'legacy2');
  writeFileSync(legacyFile, bytes);
  execFileSync('minisign', ['-S', '-l', '-s', a.priv, '-m', legacyFile], { stdio: 'ignore' });
  const legacyLines = readFileSync(`${legacyFile}.minisig`, 'utf8').split('\n');
  const legacyJson = { ...entryV2ToJson(entry), name: 'legacy', body: { ...entryV2ToJson(entry).body, sig: legacyLines[1]! } };
  const legacy = await post(log.url, JSON.stringify(legacyJson), 'application/json');
  t.equal(legacy.status, 422, JSON.stringify(legacy.json));
  t.match(legacy.json.message, /cannot be checked without the file/);

  const otherSig = sign(a.priv, otherPath);
  const cases: Array<[string, EntryV2, RegExp]> = [
    ['another file hash', { ...entry, name: 'h', body: { ...entry.body, hash: blake(other) } }, /does not verify over the BLAKE2b-512/],
    ['a signature of another file', { ...entry, name: 'o', body: { ...entry.body, sig: otherSig.bytes, comment: otherSig.trustedComment, global: otherSig.globalSignature } }, /does not verify over the BLAKE2b-512/],
    ['a swapped key', { ...entry, name: 'k', body: { ...entry.body, key: parseMinisignPublicKey(b.pub).bytes } }, /names key ID/],
    ['an altered trusted comment', { ...entry, name: 'c', body: { ...entry.body, comment: new TextEncoder().encode('timestamp:0\tfile:evil') } }, /global signature .* does not verify/],
  ];
  for (const [what, e, message] of cases) {
    const r = await post(log.url, encodeEntryV2(e));
    t.equal(r.status, 422, `${what}: ${JSON.stringify(r.json)}`);
    t.match(r.json.message, message, what);
  }
  // The key of b with a's key ID: the signature check itself fails.
  const bKey = parseMinisignPublicKey(b.pub).bytes.slice();
  bKey.set((entry.body.key as Uint8Array).subarray(2, 10), 2);
  const r = await post(log.url, encodeEntryV2({ ...entry, name: 'kid', body: { ...entry.body, key: bKey } }));
  t.equal(r.status, 422);
  t.match(r.json.message, /does not verify/);
  const sigText = readFileSync(`${artifact}.minisig`);
  t.throws(() => parseMinisignSignature(sigText.subarray(0, sigText.indexOf('\ntrusted comment'))), /truncated/);
  t.throws(() => parseMinisignPublicKey(a.pub.split('\n')[0]!), /found none|one key line|base64/);
  t.equal(await size(), before, 'the tree did not move');
});

t.test('the offline verifier checks the BLAKE2b-512 too, and the monitor audit re-verifies', async (t) => {
  const { verifyBundle } = await import('../../src/proof/index.js');
  const { auditEntry } = await import('../../src/monitor/bundle.js');
  const log = await startLog();
  t.teardown(() => log.close());
  const entry = entryFor(b);
  const r = await post(log.url, encodeEntryV2(entry));
  t.equal(r.status, 201);
  const logKey = log.opened.verifierKey;
  const ok = verifyBundle(bytes, r.json.bundle, { logKey });
  t.equal(ok.ok, true, ok.ok ? 'verified' : ok.message);
  if (ok.ok) t.equal(ok.signers[0]!.fingerprint, b.id);
  t.equal(verifyBundle({ digest, blake2b512: blake(bytes) }, r.json.bundle, { logKey }).ok, true);
  // This file's SHA-256 beside another file's signed BLAKE2b-512: the log cannot tell, the verifier can.
  const otherSig = sign(b.priv, otherPath);
  const mixed = await post(log.url, encodeEntryV2({ ...entry, name: 'mixed', body: { ...entry.body, hash: blake(other), sig: otherSig.bytes, comment: otherSig.trustedComment, global: otherSig.globalSignature } }));
  t.equal(mixed.status, 201);
  const bad = verifyBundle(bytes, mixed.json.bundle, { logKey });
  t.equal(bad.ok ? 'ok' : bad.code, 'digest-mismatch');
  t.same(auditEntry(encodeEntryV2(entry), 0, undefined), []);
  const findings = auditEntry(encodeEntryV2({ ...entry, body: { ...entry.body, hash: blake(other) } }), 1, undefined);
  t.equal(findings[0]?.kind, 'bad-entry');
});
