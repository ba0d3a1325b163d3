/**
 * Entry kind dsse (src/entry/kinds/dsse.ts) with envelopes made outside
 * Vitrine: PAE from @sigstore/core, keys and signatures from the real
 * openssl (Ed25519 `pkeyutl -rawin`, ECDSA P-256 with `-digest sha256`).
 * The entry decodes, verifies and names its signers; a real log accepts it
 * (CBOR and JSON) and refuses each rule broken with a 4xx and the tree
 * unmoved; the offline verifier and the monitor audit re-check it.
 */
import t from 'tap';
import { sha256 } from '../../merkle/hash.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';
import { encodeCbor } from '../../src/entry/cbor.js';
import { decodeAnyEntry, decodeEntryV2, encodeEntryV2, entrySigners, entryV2ToJson, verifyAnyEntry, type EntryV2 } from '../../src/entry/index.js';
import { attestationEntry, dsseEnvelopeJson, MAX_DSSE_ENTRY } from '../../src/entry/kinds/dsse.js';
import { get, post, startLog } from '../log/harness.js';
import { bytes, IN_TOTO, OpensslDir, statement } from '../sig/_openssl.js';

const ssl = new OpensslDir();
t.teardown(() => ssl.remove());
const ed = ssl.key('ed25519');
const ec = ssl.key('p256');
const stranger = ssl.key('ed25519');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const artifact = enc('release bytes of vitrine 1.0\n');
const otherArtifact = enc('a second artifact\n');
const st = statement({
  subject: [
    { name: 'vitrine-1.0.tgz', digest: { sha256: hex(sha256(artifact)) } },
    { name: 'vitrine-1.0.zip', digest: { sha256: hex(sha256(otherArtifact)), sha512: 'c'.repeat(128) } },
  ],
});
const envelope = enc(ssl.envelope(IN_TOTO, bytes(st), [ed, ec], true));
/** The fingerprint as ssh-keygen -l would print it, computed from openssl's DER, not by the parser. */
const fingerprint = (pem: string): string => {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return `SHA256:${Buffer.from(sha256(der)).toString('base64').replace(/=+$/, '')}`;
};

t.test('an openssl-signed envelope makes an entry that decodes, verifies and names both signers', async (t) => {
  const entry = attestationEntry(envelope, [ed.publicPem, ec.publicPem]);
  t.equal(entry.name, 'vitrine-1.0.tgz', 'the first subject names the entry');
  t.equal(hex(entry.digest), hex(sha256(artifact)));
  const leaf = encodeEntryV2(entry);
  const any = decodeAnyEntry(leaf);
  t.equal(any.version, 2);
  for (const p256 of [undefined, nodeP256]) {
    t.doesNotThrow(() => verifyAnyEntry(any, { ed: nobleEd25519, ...(p256 ? { p256 } : {}) }), p256 ? 'node:crypto P-256' : 'noble P-256');
  }
  const signers = entrySigners(any).map((s) => s.fingerprint).sort();
  t.same(signers, [fingerprint(ed.publicPem), fingerprint(ec.publicPem)].sort());
  // The stored envelope gives back the signed payload and the keyid hints.
  const back = JSON.parse(dsseEnvelopeJson(decodeEntryV2(leaf))) as { payload: string; signatures: Array<{ keyid?: string }> };
  t.same(Buffer.from(back.payload, 'base64'), Buffer.from(bytes(st)));
  t.same(back.signatures.map((s) => s.keyid), ['key-0', 'key-1']);
  // The other subject can be chosen; a digest that is no subject's cannot.
  t.equal(attestationEntry(envelope, [ed.publicPem], { subject: 'vitrine-1.0.zip' }).name, 'vitrine-1.0.zip');
  t.throws(() => encodeEntryV2({ ...entry, digest: sha256(enc('not attested')) }), /entry\.digest: [0-9a-f]{64} is not the sha256 of any subject/);
  // Key order is canonical: one set of keys has one encoding.
  const keys = entry.body.keys as Uint8Array[];
  t.throws(() => encodeEntryV2({ ...entry, body: { ...entry.body, keys: [keys[1]!, keys[0]!] } }), { code: 'non-canonical' });
});

/** A version-2 CBOR map written by hand, to reach the log without the client-side checks. */
function rawEntry(e: EntryV2, body: Map<number, unknown>): Uint8Array {
  return encodeCbor(new Map<number, unknown>([[1, 2], [2, e.kind], [3, e.name], [4, e.digest], [5, body]]));
}

t.test('a real log accepts it (CBOR and JSON, lookups by each subject) and refuses the negative cases with the tree unmoved', async (t) => {
  const log = await startLog({ maxEntryBytes: MAX_DSSE_ENTRY });
  t.teardown(() => log.close());
  const size = async (): Promise<string> => (await get(`${log.url}/checkpoint`)).text.split('\n')[1]!;
  const entry = attestationEntry(envelope, [ed.publicPem, ec.publicPem]);
  const ok = await post(log.url, encodeEntryV2(entry));
  t.equal(ok.status, 201, JSON.stringify(ok.json));
  t.equal(ok.json.index, 0);
  const again = await post(log.url, JSON.stringify(entryV2ToJson(entry)), 'application/json');
  t.equal(again.status, 200, 'the JSON form is the same leaf');
  const lookup = JSON.parse((await get(`${log.url}/v1/entries?digest=${hex(sha256(artifact))}`)).text);
  t.equal(lookup.entries.length, 1);
  t.equal(lookup.entries[0].kind, 'dsse');
  t.same([...lookup.entries[0].signers].sort(), [fingerprint(ed.publicPem), fingerprint(ec.publicPem)].sort());
  // The second subject finds the same entry, by digest and by name.
  for (const q of [`digest=${hex(sha256(otherArtifact))}`, 'name=vitrine-1.0.zip', 'name=vitrine-1.0.tgz']) {
    const found = JSON.parse((await get(`${log.url}/v1/entries?${q}`)).text);
    t.same(found.entries.map((e: { index: number }) => e.index), [0], `lookup ${q}`);
  }
  t.same(JSON.parse((await get(`${log.url}/v1/entries?name=vitrine-1.0.jar`)).text).entries, [], 'an unattested name finds nothing');
  const before = await size();

  const json = (e: EntryV2): string => JSON.stringify(entryV2ToJson(e));
  const cases: Array<[string, Uint8Array | string, number, RegExp]> = [];
  // payloadType other than in-toto (signed as such, so only the type rule fails).
  const typed = attestationEntry(enc(ssl.envelope(IN_TOTO, bytes(st), [ed])), [ed.publicPem]);
  t.equal(typed.body.keyids, undefined, 'no keyid hints, no keyids field');
  const otherType = JSON.parse(ssl.envelope('application/json', bytes(st), [ed])) as { payload: string; signatures: Array<{ sig: string }> };
  cases.push(['a payloadType other than in-toto', json({ ...typed, body: { ...typed.body, payloadType: 'application/json', signatures: otherType.signatures.map((s) => Buffer.from(s.sig, 'base64')) } }), 422,
    /payloadType: "application\/json" is not an in-toto Statement/]);
  // A Statement with no subject, properly signed.
  const bare = { ...st, subject: [] };
  const bareEnv = JSON.parse(ssl.envelope(IN_TOTO, bytes(bare), [ed])) as { signatures: Array<{ sig: string }> };
  cases.push(['no subject', json({ ...typed, body: { ...typed.body, payload: bytes(bare), signatures: bareEnv.signatures.map((s) => Buffer.from(s.sig, 'base64')) } }), 422, /the Statement has no subject/]);
  // A key that made none of the signatures.
  const strangerEntry = attestationEntry(envelope, [stranger.publicPem]);
  cases.push(['no signature by the submitted key', encodeEntryV2(strangerEntry), 422, new RegExp(`no signature by the submitted Ed25519 key ${fingerprint(stranger.publicPem).replace(/[+/]/g, '\\$&')}`)]);
  // The payload changed after signing.
  const tampered = enc(JSON.stringify({ ...st, predicateType: 'https://example.com/other' }));
  cases.push(['a payload changed after signing', json({ ...typed, body: { ...typed.body, payload: tampered } }), 422, /no signature by the submitted/]);
  // An RSA key.
  cases.push(['an RSA key', json({ ...typed, body: { ...typed.body, keys: [pemDer(ssl.rsaPublicPem())] } }), 422, /RSA keys are not supported/]);
  // Non-canonical: keys out of order, and CBOR with the body keys out of order.
  const both = attestationEntry(envelope, [ed.publicPem, ec.publicPem]);
  const k = both.body.keys as Uint8Array[];
  cases.push(['keys out of order', json({ ...both, body: { ...both.body, keys: [k[1]!, k[0]!] } }), 422, /ascending byte order/]);
  const b = both.body;
  cases.push(['body map keys out of order', rawEntry(both, new Map<number, unknown>([[2, b.payload], [1, b.payloadType], [3, b.signatures], [4, b.keys], [5, b.keyids]])), 422, /non-canonical|order/]);
  // Oversized: a payload beyond what a 64 KiB envelope holds, and an entry beyond the bundle limit.
  const huge = new Uint8Array(70_000).fill(0x20);
  cases.push(['an oversized payload (JSON)', json({ ...typed, body: { ...typed.body, payload: huge } }), 422, /entry(?: JSON)?\.body\.payload: must be 1–49152 bytes, got 70000/]);
  cases.push(['an oversized entry (CBOR)', rawEntry(typed, new Map<number, unknown>([[1, IN_TOTO], [2, huge], [3, typed.body.signatures], [4, typed.body.keys]])), 413, /limit of 65535/]);
  for (const [what, body, status, message] of cases) {
    const r = typeof body === 'string' ? await post(log.url, body, 'application/json') : await post(log.url, body);
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.json).slice(0, 300)}`);
    t.match(String(r.json.message), message, what);
  }
  t.equal(await size(), before, 'the tree did not move');
});

function pemDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

t.test('the offline verifier and the monitor audit check the kind', async (t) => {
  const { verifyBundle } = await import('../../src/proof/index.js');
  const { auditEntry } = await import('../../src/monitor/bundle.js');
  const log = await startLog({ maxEntryBytes: MAX_DSSE_ENTRY });
  t.teardown(() => log.close());
  const entry = attestationEntry(envelope, [ec.publicPem]);
  const r = await post(log.url, encodeEntryV2(entry));
  t.equal(r.status, 201, JSON.stringify(r.json));
  const logKey = log.opened.verifierKey;
  const ok = verifyBundle(artifact, r.json.bundle, { logKey });
  t.equal(ok.ok, true, ok.ok ? 'verified' : ok.message);
  if (ok.ok) t.equal(ok.signers[0]!.fingerprint, fingerprint(ec.publicPem));
  const other = verifyBundle(enc('another file'), r.json.bundle, { logKey });
  t.equal(other.ok ? 'ok' : other.code, 'digest-mismatch');
  t.same(auditEntry(encodeEntryV2(entry), 0, undefined), [], 'audit re-verifies and finds nothing');
  // A forged leaf: the statement changed under the same signatures.
  const forged = rawEntry(entry, new Map<number, unknown>([[1, IN_TOTO], [2, enc(JSON.stringify({ ...st, predicateType: 'https://example.com/forged' }))], [3, entry.body.signatures], [4, entry.body.keys], [5, entry.body.keyids]]));
  const findings = auditEntry(forged, 3, undefined);
  t.equal(findings[0]?.kind, 'bad-entry');
  t.match(findings[0]?.message, /no signature by the submitted ECDSA P-256 key/);
});
