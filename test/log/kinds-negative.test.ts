/**
 * Negative cases of the native kinds at a real log (docs/formats.md §4.3,
 * §16; issue 12 §3), with the recorded tool vectors of vectors/native/: each
 * bad submission gets a 4xx with a message that says what is wrong, and
 * afterwards the tree has not moved and the lookups find only the good
 * entries. Complements the per-kind tests in test/entry/kind-*.test.ts
 * (namespace, other file, swapped key, RSA SSH key, non-minimal mpint,
 * oversized envelope, keys out of order) with: signatures in the forms a
 * client must convert (raw r||s, cosign base64) sent as they are, DER with a
 * superfluous zero, unsupported and truncated keys, a legacy minisign
 * signature, a trusted comment with a newline, and for every kind CBOR with
 * body keys out of order, a non-shortest length, an unknown body key, and
 * JSON with a duplicate member.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeCbor } from '../../src/entry/cbor.js';
import { encodeEntryV2, entryV2ToJson, type EntryV2 } from '../../src/entry/index.js';
import { attestationEntry, MAX_DSSE_ENTRY } from '../../src/entry/kinds/dsse.js';
import { nativeEntry, type SignatureFormat } from '../../src/entry/native.js';
import { get, post, startLog } from './harness.js';

const DIR = join(process.cwd(), 'vectors/native');
const file = (n: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, n)));
const text = (n: string): string => readFileSync(join(DIR, n), 'utf8');
const artifact = file('artifact.txt');
const digests = {
  sha256: new Uint8Array(createHash('sha256').update(artifact).digest()),
  sha512: new Uint8Array(createHash('sha512').update(artifact).digest()),
  blake2b512: new Uint8Array(createHash('blake2b512').update(artifact).digest()),
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const pemDer = (name: string): Uint8Array => new Uint8Array(Buffer.from(text(name).replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
const native = (name: string, signature: string, format: SignatureFormat, publicKey?: string): EntryV2 =>
  nativeEntry({ signature: file(signature), format, name, digests, ...(publicKey ? { publicKey: text(publicKey) } : {}) }, nodeEd25519);

const good: Record<string, EntryV2> = {
  'ecdsa-p256': native('pkg:generic/neg@ecdsa', 'ecdsa.der.sig', 'ecdsa', 'ecdsa.pub.pem'),
  ssh: native('pkg:generic/neg@ssh', 'ssh-ecdsa-sha512.sig', 'ssh'),
  minisign: native('pkg:generic/neg@minisign', 'minisign.minisig', 'minisign', 'minisign.pub'),
  dsse: attestationEntry(file('dsse.intoto.json'), ['dsse-ed25519.pub.pem', 'dsse-p256.pub.pem'].map(text)),
};

/** The entry's CBOR with the body given as an ordered map (any order, any fields). */
function raw(e: EntryV2, body: Array<[number, unknown]>): Uint8Array {
  return encodeCbor(new Map<number, unknown>([[1, 2], [2, e.kind], [3, e.name], [4, e.digest], [5, new Map(body)]]));
}
function bodyPairs(e: EntryV2): Array<[number, unknown]> {
  const fields: Record<string, string[]> = { 'ecdsa-p256': ['key', 'sig'], ssh: ['sig', 'hash'], minisign: ['key', 'sig', 'hash', 'comment', 'global'], dsse: ['payloadType', 'payload', 'signatures', 'keys', 'keyids'] };
  return fields[e.kind]!.map((f, i): [number, unknown] => [i + 1, e.body[f]]).filter(([, v]) => v !== undefined);
}
/** JSON form of `e` with its body changed. */
const json = (e: EntryV2, body: Record<string, unknown>): string => JSON.stringify({ ...entryV2ToJson(e), body: { ...entryV2ToJson(e).body, ...body } });

t.test('bad submissions of every native kind get a 4xx, and the tree does not move', async (t) => {
  const log = await startLog({ maxEntryBytes: MAX_DSSE_ENTRY });
  t.teardown(() => log.close());
  const size = async (): Promise<number> => Number((await get(`${log.url}/checkpoint`)).text.split('\n')[1]);
  for (const [kind, e] of Object.entries(good)) {
    const r = await post(log.url, encodeEntryV2(e));
    t.equal(r.status, 201, `${kind}: the good entry is accepted: ${JSON.stringify(r.json)}`);
  }
  const before = await size();
  t.equal(before, 4);

  const ecdsa = good['ecdsa-p256']!;
  const der = ecdsa.body.sig as Uint8Array;
  // DER with r given a superfluous leading zero (lengths adjusted).
  const rLen = der[3]!;
  const padded = new Uint8Array([0x30, der[1]! + 1, 0x02, rLen + 1, 0x00, ...der.subarray(4)]);
  const legacyLine = text('minisign-legacy.minisig').split('\n')[1]!;
  const ms = good.minisign!;

  const cases: Array<[string, Uint8Array | string, number, RegExp]> = [
    ['ecdsa: a raw r||s signature sent as it is', json(ecdsa, { sig: b64(file('ecdsa.raw.sig')) }), 422, /entry\.body\.sig: 64 bytes that are not DER: a raw r‖s signature\? Entries hold DER/],
    ["ecdsa: cosign's base64 text sent as the signature bytes", json(ecdsa, { sig: b64(file('ecdsa.b64.sig')) }), 422, /entry\.body\.sig: (not a DER ECDSA signature|must be 8–80 bytes)/],
    ['ecdsa: DER with a superfluous zero byte', raw(ecdsa, [[1, ecdsa.body.key], [2, padded]]), 422, /entry\.body\.sig: (not the strict DER|not a DER)/],
    ['ecdsa: an RSA key', raw(ecdsa, [[1, pemDer('rsa.pub.pem')], [2, der]]), 422, /RSA keys are not supported/],
    ['ecdsa: an Ed25519 key', raw(ecdsa, [[1, pemDer('dsse-ed25519.pub.pem')], [2, der]]), 422, /an Ed25519 key; kind ecdsa-p256 needs an ECDSA P-256 key/],
    ['ecdsa: a truncated key', raw(ecdsa, [[1, (ecdsa.body.key as Uint8Array).subarray(0, 80)], [2, der]]), 422, /entry\.body\.key: a malformed ECDSA P-256 SubjectPublicKeyInfo \(80 bytes/],
    ['minisign: a legacy signature', json(ms, { sig: legacyLine }), 422, /cannot be checked without the file/],
    ['minisign: a trusted comment with a newline', json(ms, { comment: b64(new TextEncoder().encode('timestamp:1\nfile:x')) }), 422, /trusted comment/],
  ];
  for (const [kind, e] of Object.entries(good)) {
    const pairs = bodyPairs(e);
    cases.push([`${kind}: body keys out of order`, raw(e, [pairs[1]!, pairs[0]!, ...pairs.slice(2)]), 422, /non-canonical|order/]);
    cases.push([`${kind}: an unknown body key`, raw(e, [...pairs, [20, new Uint8Array([1])]]), 422, /20|unknown|undeclared|not allowed/]);
    // The digest's length head in a longer form than needed (0x59 0x00 0x20 instead of 0x58 0x20).
    const leaf = encodeEntryV2(e);
    const at = Buffer.from(leaf).indexOf(Buffer.from([0x04, 0x58, 0x20]));
    t.ok(at > 0, `${kind}: the digest field is found in the leaf`);
    const longHead = new Uint8Array([...leaf.subarray(0, at + 1), 0x59, 0x00, 0x20, ...leaf.subarray(at + 3)]);
    cases.push([`${kind}: a non-shortest length`, longHead, 422, /non-canonical|shortest|canonical/]);
    const j = JSON.stringify(entryV2ToJson(e));
    cases.push([`${kind}: JSON with a duplicate member`, j.replace('"name":', `"name":"dup","name":`), 400, /duplicate/i]);
  }

  for (const [what, body, status, message] of cases) {
    const r = typeof body === 'string' ? await post(log.url, body, 'application/json') : await post(log.url, body);
    t.ok(r.status >= 400 && r.status < 500, `${what}: a 4xx (${r.status})`);
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.json).slice(0, 300)}`);
    t.match(String(r.json?.message), message, what);
  }
  t.equal(await size(), before, 'the tree did not move');
  const found = JSON.parse((await get(`${log.url}/v1/entries?digest=${hex(digests.sha256)}`)).text);
  t.same(found.entries.map((x: { index: number }) => x.index).sort(), [0, 1, 2, 3], 'lookups find only the four good entries');
});
