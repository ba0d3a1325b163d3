/**
 * Entry kind ecdsa-p256 (src/entry/kinds/ecdsa-p256.ts) with keys and
 * signatures made by the real `openssl dgst -sha256 -sign`: the entry
 * decodes, verifies and names its signer; a real log accepts it (CBOR and
 * JSON) and refuses another file's digest, a swapped key, an RSA key and a
 * non-strict DER signature with a 4xx and the tree unmoved.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { sha256 } from '../../merkle/hash.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { b64decode } from '../../src/encoding.js';
import { decodeAnyEntry, encodeEntryV2, entrySigners, entryV2ToJson, verifyAnyEntry, type EntryV2 } from '../../src/entry/index.js';
import { get, post, startLog, tempDir } from '../log/harness.js';

const dir = tempDir('vitrine-ecdsa-');
function openssl(args: string[]): Buffer {
  return execFileSync('openssl', args);
}
function keyPair(n: string): { priv: string; spki: Uint8Array; pem: string } {
  const priv = join(dir, `${n}.pem`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', priv]);
  const spki = new Uint8Array(openssl(['pkey', '-in', priv, '-pubout', '-outform', 'DER']));
  const pem = openssl(['pkey', '-in', priv, '-pubout']).toString();
  return { priv, spki, pem };
}
const artifact = join(dir, 'artifact.tar.gz');
const bytes = new TextEncoder().encode('release bytes\n');
writeFileSync(artifact, bytes);
const a = keyPair('a');
const b = keyPair('b');
const sig = new Uint8Array(openssl(['dgst', '-sha256', '-sign', a.priv, artifact]));
const digest = sha256(bytes);
const entry: EntryV2 = { version: 2, kind: 'ecdsa-p256', name: 'pkg:generic/artifact@1.0.0', digest, body: { key: a.spki, sig } };

t.test('an openssl signature makes a valid entry with the SPKI fingerprint as its signer', async (t) => {
  const leaf = encodeEntryV2(entry);
  const any = decodeAnyEntry(leaf);
  t.doesNotThrow(() => verifyAnyEntry(any, { ed: nobleEd25519 }));
  const s = entrySigners(any)[0]!;
  t.equal(s.algorithm, 'ecdsa-p256');
  // The SHA-256 of the DER key as openssl writes it, independently of the parser.
  t.equal(s.fingerprint, `SHA256:${Buffer.from(sha256(a.spki)).toString('base64').replace(/=+$/, '')}`);
  t.throws(() => verifyAnyEntry(decodeAnyEntry(encodeEntryV2({ ...entry, digest: sha256(new TextEncoder().encode('other')) })), { ed: nobleEd25519 }), { code: 'bad-signature' });
  t.throws(() => verifyAnyEntry(decodeAnyEntry(encodeEntryV2({ ...entry, body: { key: b.spki, sig } })), { ed: nobleEd25519 }), { code: 'bad-signature' });
});

t.test('a real log accepts it and refuses the negative cases with the tree unmoved', async (t) => {
  const log = await startLog();
  t.teardown(() => log.close());
  const size = async (): Promise<string> => (await get(`${log.url}/checkpoint`)).text.split('\n')[1]!;
  const ok = await post(log.url, encodeEntryV2(entry));
  t.equal(ok.status, 201, JSON.stringify(ok.json));
  t.equal(ok.json.index, 0);
  const again = await post(log.url, JSON.stringify(entryV2ToJson(entry)), 'application/json');
  t.equal(again.status, 200, 'the JSON form is the same leaf');
  const lookup = await get(`${log.url}/v1/entries?digest=${Buffer.from(digest).toString('hex')}`);
  t.equal(lookup.headers.get('content-type')?.split(';')[0], 'application/json');
  const view = JSON.parse(lookup.text);
  t.equal(view.entries[0].kind, 'ecdsa-p256');
  t.match(view.entries[0].signers[0], /^SHA256:/);
  const before = await size();

  const rsaPriv = join(dir, 'rsa.pem');
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsaPriv]);
  const rsa = new Uint8Array(openssl(['pkey', '-in', rsaPriv, '-pubout', '-outform', 'DER']));
  // r with a needless leading zero byte: valid BER, not strict DER.
  const rLen = sig[3]!;
  const nonStrict = Uint8Array.from([0x30, sig[1]! + 1, 0x02, rLen + 1, 0x00, ...sig.subarray(4)]);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['another file digest', encodeEntryV2({ ...entry, name: 'x', digest: sha256(new TextEncoder().encode('other')) }), /does not verify/],
    ['a swapped key', encodeEntryV2({ ...entry, name: 'y', body: { key: b.spki, sig } }), /does not verify/],
  ];
  for (const [what, leaf, message] of cases) {
    const r = await post(log.url, leaf);
    t.equal(r.status, 422, `${what}: ${JSON.stringify(r.json)}`);
    t.match(JSON.stringify(r.json), message, what);
  }
  t.throws(() => encodeEntryV2({ ...entry, body: { key: rsa, sig } }), /RSA keys are not supported/, 'an RSA key');
  t.throws(() => encodeEntryV2({ ...entry, body: { key: a.spki, sig: nonStrict } }), /DER/, 'a non-strict DER signature');
  const rsaJson = { ...entryV2ToJson(entry), body: { key: Buffer.from(rsa).toString('base64'), sig: Buffer.from(sig).toString('base64') } };
  const r = await post(log.url, JSON.stringify(rsaJson), 'application/json');
  t.equal(r.status, 422, JSON.stringify(r.json));
  t.match(JSON.stringify(r.json), /RSA keys are not supported/);
  t.equal(await size(), before, 'the tree did not move');
  t.ok(b64decode(ok.json.entry, 'entry').length > 0);
});

t.test('the offline verifier and the monitor audit check the kind', async (t) => {
  const { verifyBundle } = await import('../../src/proof/index.js');
  const { auditEntry } = await import('../../src/monitor/bundle.js');
  const log = await startLog();
  t.teardown(() => log.close());
  const r = await post(log.url, encodeEntryV2(entry));
  t.equal(r.status, 201);
  const logKey = log.opened.verifierKey;
  const ok = verifyBundle(bytes, r.json.bundle, { logKey });
  t.equal(ok.ok, true, ok.ok ? 'verified' : ok.message);
  if (ok.ok) t.match(ok.signers[0]!.fingerprint, /^SHA256:/);
  const other = verifyBundle(new TextEncoder().encode('other'), r.json.bundle, { logKey });
  t.equal(other.ok ? 'ok' : other.code, 'digest-mismatch');
  t.same(auditEntry(encodeEntryV2(entry), 0, undefined), [], 'audit re-verifies and finds nothing');
  // A forged leaf (another digest under the same signature) is a bad entry for the monitor.
  const forged = encodeEntryV2({ ...entry, digest: sha256(new TextEncoder().encode('other')) });
  const findings = auditEntry(forged, 3, undefined);
  t.equal(findings[0]?.kind, 'bad-entry');
  t.match(findings[0]?.message, /does not verify/);
});
