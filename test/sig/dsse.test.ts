/**
 * The DSSE/in-toto module against envelopes made by other implementations:
 * PAE from @sigstore/core, keys and signatures from openssl.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { dsse as sigstoreDsse } from '@sigstore/core';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nobleP256 } from '../../src/crypto/p256.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';

const NODE = { ed25519: nodeEd25519, p256: nodeP256 };
const NOBLE = { ed25519: nobleEd25519, p256: nobleP256 };
import { InvalidError, MalformedError, TooLargeError, VitrineError } from '../../src/errors.js';
import { MAX_ENVELOPE_BYTES, MAX_SIGNATURES, parseEnvelope, preAuthEncoding, verifyEnvelope } from '../../src/sig/dsse.js';
import { statementOf } from '../../src/sig/intoto.js';
import { parsePemPublicKey } from '../../src/sig/spki.js';
import { bytes, IN_TOTO, OpensslDir, statement } from './_openssl.js';

const ssl = new OpensslDir();
t.teardown(() => ssl.remove());
const ed = ssl.key('ed25519');
const ec = ssl.key('p256');
const other = ssl.key('ed25519');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function throwsTyped(t: Test, fn: () => unknown, cls: new (...a: never[]) => VitrineError, re: RegExp, what: string): void {
  try {
    fn();
    t.fail(`${what}: did not throw`);
  } catch (err) {
    t.ok(err instanceof cls, `${what}: ${cls.name} (got ${(err as Error).name}: ${(err as Error).message})`);
    t.match((err as Error).message, re, `${what}: message`);
  }
}

t.test('PAE matches @sigstore/core byte for byte', async (t) => {
  for (const [type, body] of [
    ['', ''],
    [IN_TOTO, '{"a":1}'],
    ['ü/type', 'héllo wörld'],
  ] as const) {
    const want = sigstoreDsse.preAuthEncoding(type, Buffer.from(body, 'utf8'));
    t.same(Buffer.from(preAuthEncoding(type, enc(body))), want, `PAE(${JSON.stringify(type)}, ${JSON.stringify(body)})`);
  }
  // The spec's own example (DSSE protocol.md): lengths are byte counts in decimal.
  t.equal(Buffer.from(preAuthEncoding('http://example.com/HelloWorld', enc('hello world'))).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
});

for (const [backend, ed25519] of [['node:crypto', NODE], ['noble', NOBLE]] as const) {
  t.test(`openssl-signed envelopes verify (Ed25519 and ECDSA P-256 on ${backend})`, async (t) => {
    const payload = bytes(statement());
    const env = parseEnvelope(enc(ssl.envelope(IN_TOTO, payload, [ed, ec], true)));
    t.equal(env.signatures.length, 2);
    t.equal(env.signatures[0]!.keyid, 'key-0');
    const edKey = parsePemPublicKey(ed.publicPem);
    const ecKey = parsePemPublicKey(ec.publicPem);
    t.equal(edKey.algorithm, 'ed25519');
    t.equal(ecKey.algorithm, 'ecdsa-p256');
    const matches = verifyEnvelope(env, [ecKey, edKey], ed25519);
    t.same(matches.map((m) => m.signatures), [[1], [0]], 'each key is matched with the signature it made, whatever the order');
    const st = statementOf(env);
    t.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
    t.equal(st.builderId, 'https://github.com/actions/runner');
    t.equal(st.subjects[0]!.name, 'vitrine-1.0.tgz');
    t.equal(Buffer.from(st.subjects[0]!.sha256!).toString('hex'), 'a'.repeat(64));

    throwsTyped(t, () => verifyEnvelope(env, [parsePemPublicKey(other.publicPem)], ed25519), InvalidError, /no signature by the submitted Ed25519 key SHA256:[A-Za-z0-9+/]{43} \(checked 2 signatures/, 'a key that signed nothing');
    throwsTyped(t, () => verifyEnvelope(env, [], ed25519), InvalidError, /no public key was submitted/, 'no key');

    // A signature over the raw payload (not PAE) must not verify.
    const rawSigned = JSON.stringify({ payloadType: IN_TOTO, payload: Buffer.from(payload).toString('base64'), signatures: [{ sig: ssl.sign(ed, payload).toString('base64') }] });
    throwsTyped(t, () => verifyEnvelope(parseEnvelope(enc(rawSigned)), [edKey], ed25519), InvalidError, /no signature by the submitted/, 'signature over the payload instead of PAE');

    // The payloadType is covered: the same signature under another type fails.
    const retyped = JSON.parse(ssl.envelope(IN_TOTO, payload, [ec])) as { payloadType: string };
    retyped.payloadType = 'application/vnd.in-toto+jsoN';
    throwsTyped(t, () => verifyEnvelope(parseEnvelope(enc(JSON.stringify(retyped))), [ecKey], ed25519), InvalidError, /ECDSA P-256 key/, 'payloadType changed after signing');
  });
}

t.test('raw r||s ECDSA signatures are accepted as well as DER', async (t) => {
  const payload = bytes(statement());
  const env = JSON.parse(ssl.envelope(IN_TOTO, payload, [ec])) as { signatures: { sig: string }[] };
  const der = Buffer.from(env.signatures[0]!.sig, 'base64');
  // DER: 30 len 02 lr r 02 ls s, with leading zero bytes for positive integers.
  const rLen = der[3]!;
  const r = der.subarray(4, 4 + rLen);
  const s = der.subarray(6 + rLen);
  const pad = (b: Buffer): Buffer => Buffer.concat([Buffer.alloc(32), b.subarray(b.length - Math.min(b.length, 32))]).subarray(-32);
  env.signatures[0]!.sig = Buffer.concat([pad(r), pad(s)]).toString('base64');
  const parsed = parseEnvelope(enc(JSON.stringify(env)));
  t.equal(parsed.signatures[0]!.sig.length, 64);
  t.equal(verifyEnvelope(parsed, [parsePemPublicKey(ec.publicPem)], NODE).length, 1);
  t.equal(verifyEnvelope(parsed, [parsePemPublicKey(ec.publicPem)], NOBLE).length, 1);
});

t.test('refusals of statements', async (t) => {
  const env = (o: unknown, type = IN_TOTO) => parseEnvelope(enc(ssl.envelope(type, bytes(o), [ed])));
  throwsTyped(t, () => statementOf(env(statement(), 'application/json')), InvalidError, /payloadType: "application\/json" is not an in-toto Statement/, 'non-in-toto payloadType');
  throwsTyped(t, () => statementOf(env(statement({ subject: [] }))), InvalidError, /has no subject/, 'empty subject list');
  const noSubject = statement();
  delete noSubject.subject;
  throwsTyped(t, () => statementOf(env(noSubject)), InvalidError, /has no subject/, 'missing subject');
  throwsTyped(t, () => statementOf(env(statement({ subject: [{ name: 'x', digest: { sha512: 'b'.repeat(128) } }] }))), InvalidError, /no subject has a sha256 digest/, 'no sha256 digest');
  throwsTyped(t, () => statementOf(env(statement({ subject: [{ name: 'x', digest: { sha256: 'A'.repeat(64) } }] }))), MalformedError, /subject\[0\]\.digest\.sha256: must be 64 lowercase hex/, 'uppercase digest');
  throwsTyped(t, () => statementOf(env(statement({ _type: 'https://in-toto.io/Statement/v2' }))), InvalidError, /_type: "https:\/\/in-toto.io\/Statement\/v2" is not/, 'unknown Statement type');
  throwsTyped(t, () => statementOf(env(statement({ predicate: { runDetails: {} } }))), InvalidError, /SLSA provenance without a builder/, 'SLSA v1 without builder');
  const v01 = statementOf(env(statement({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2', predicate: { builder: { id: 'https://builder.example/v0' } } })));
  t.equal(v01.type, 'https://in-toto.io/Statement/v0.1');
  t.equal(v01.builderId, 'https://builder.example/v0', 'SLSA v0.2 builder.id');
  t.equal(statementOf(env(statement({ predicateType: 'https://spdx.dev/Document', predicate: { spdxVersion: 'SPDX-2.3' } }))).builderId, undefined, 'no builder id for an SBOM');
});

t.test('refusals of envelopes', async (t) => {
  const good = JSON.parse(ssl.envelope(IN_TOTO, bytes(statement()), [ed])) as Record<string, unknown>;
  const withField = (o: Record<string, unknown>) => enc(JSON.stringify({ ...good, ...o }));
  throwsTyped(t, () => parseEnvelope(new Uint8Array(MAX_ENVELOPE_BYTES + 1).fill(0x20)), TooLargeError, /65537 bytes, larger than the limit of 65536/, 'oversized');
  throwsTyped(t, () => parseEnvelope(withField({ signatures: [] })), InvalidError, /carries no signature/, 'no signatures');
  throwsTyped(t, () => parseEnvelope(withField({ signatures: Array.from({ length: MAX_SIGNATURES + 1 }, () => ({ sig: 'AAAA' })) })), InvalidError, /17 signatures, more than the limit of 16/, 'too many signatures');
  throwsTyped(t, () => parseEnvelope(withField({ extra: 1 })), MalformedError, /unknown member "extra"/, 'unknown member');
  throwsTyped(t, () => parseEnvelope(withField({ payload: 'YWJj' + '\n' })), MalformedError, /payload: base64 length/, 'white space in base64');
  throwsTyped(t, () => parseEnvelope(withField({ payload: 'YWJ-' })), MalformedError, /invalid base64 character/, 'url-safe alphabet');
  throwsTyped(t, () => parseEnvelope(withField({ payload: 'YR==' })), MalformedError, /non-canonical base64/, 'non-zero padding bits');
  throwsTyped(t, () => parseEnvelope(withField({ payloadType: 7 })), MalformedError, /payloadType: must be a string/, 'numeric payloadType');
  const text = JSON.stringify(good);
  throwsTyped(t, () => parseEnvelope(enc(text.replace('{', '{"payload":"","'.slice(0, -1)))), MalformedError, /duplicate member name "payload"/, 'duplicate member');
  throwsTyped(t, () => parseEnvelope(enc(text + 'x')), MalformedError, /trailing data/, 'trailing data');
  throwsTyped(t, () => parseEnvelope(Uint8Array.of(0x7b, 0xff, 0x7d)), MalformedError, /not valid UTF-8/, 'invalid UTF-8');
  throwsTyped(t, () => parseEnvelope(enc('['.repeat(100) + ']'.repeat(100))), MalformedError, /nested deeper than 64/, 'deep nesting');
});

t.test('public keys: PEM forms and refusals', async (t) => {
  const edKey = parsePemPublicKey(ed.publicPem);
  t.equal(edKey.key.length, 32);
  t.equal(parsePemPublicKey(ec.publicPem).key.length, 65);
  t.equal(parsePemPublicKey(ed.publicPem.replace(/\n/g, '\r\n')).fingerprint, edKey.fingerprint, 'CRLF line ends');
  const lines = ed.publicPem.trim().split('\n');
  throwsTyped(t, () => parsePemPublicKey(lines.slice(0, -1).join('\n')), MalformedError, /PEM is truncated/, 'truncated PEM');
  throwsTyped(t, () => parsePemPublicKey(ssl.read(ed.privatePath).toString()), MalformedError, /PEM block is "PRIVATE KEY", expected "PUBLIC KEY"/, 'a private key');
  throwsTyped(t, () => parsePemPublicKey(ssl.rsaPublicPem()), InvalidError, /RSA keys are not supported/, 'RSA');
  throwsTyped(t, () => parsePemPublicKey(ssl.p384PublicPem()), InvalidError, /other than P-256/, 'P-384');
  // Fingerprint: SHA256 of the DER, as `openssl pkey -pubin -outform DER | sha256` gives.
  const der = Buffer.from(lines.slice(1, -1).join(''), 'base64');
  const { createHash } = await import('node:crypto');
  t.equal(edKey.fingerprint, 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, ''));
});

t.test('every single-byte change of a compact envelope is refused', async (t) => {
  // No keyid: it is an unauthenticated hint, so changing it is not an attack.
  const text = enc(ssl.envelope(IN_TOTO, bytes(statement()), [ed, ec]));
  const keys = [parsePemPublicKey(ed.publicPem), parsePemPublicKey(ec.publicPem)];
  const accepted = (b: Uint8Array): boolean => {
    try {
      const env = parseEnvelope(b);
      verifyEnvelope(env, keys, NOBLE);
      statementOf(env);
      return true;
    } catch (err) {
      if (err instanceof VitrineError) return false;
      throw err;
    }
  };
  t.ok(accepted(text), 'the original is accepted');
  fc.assert(
    fc.property(fc.nat(text.length - 1), fc.integer({ min: 1, max: 255 }), (i, delta) => {
      const m = text.slice();
      m[i] = (m[i]! + delta) & 0xff;
      return !accepted(m);
    }),
    { numRuns: 300 },
  );
});
