/**
 * Property tests of every decoder of the native kinds (src/sig/*.ts), on the
 * signatures and keys the real tools recorded in vectors/native/: the SSH
 * signature armor and SSHSIG blob, the minisign signature file and public
 * key, ECDSA DER and raw r||s signatures, SPKI DER and PEM, the DSSE
 * envelope and the in-toto Statement. For each: it round-trips; every
 * single-byte change of what is signed is refused by the decoder or by
 * verification (changes of what is not signed, such as minisign's untrusted
 * comment or a DSSE keyid hint, and of white space that does not change the
 * decoded bytes, are the only ones that may pass, and are checked to be
 * exactly those); and random input fails only with typed errors.
 *
 * fast-check runs with fixed seeds, so every run checks the same cases.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';
import { nobleP256 } from '../../src/crypto/p256.js';
import { attestationEntry, dsseEnvelopeJson } from '../../src/entry/kinds/dsse.js';
import { ecdsaRawToDer } from '../../src/entry/kinds/ecdsa-p256.js';
import { VitrineError } from '../../src/errors.js';
import { parseEnvelope, preAuthEncoding, verifyEnvelope, type DsseEnvelope } from '../../src/sig/dsse.js';
import { parseStatement, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1, STATEMENT_V01, STATEMENT_V1 } from '../../src/sig/intoto.js';
import { formatMinisignPublicKey, formatMinisignSignature, parseMinisignPublicKey, parseMinisignSignature, verifyMinisign } from '../../src/sig/minisign.js';
import { formatPem, parsePemPublicKey, parseSpki, type SpkiKey } from '../../src/sig/spki.js';
import { armorSshSignature, dearmorSshSignature, encodeSshSignature, parseSshSignature, verifySshSignature } from '../../src/sig/ssh.js';

const DIR = join(process.cwd(), 'vectors/native');
/** A copy as a plain Uint8Array (Buffer.slice shares memory, so mutations would leak into the original). */
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));
const text = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const artifact = read('artifact.txt');
const hashOf = (alg: string): Uint8Array => createHash(alg).update(artifact).digest();
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const SEED = 20261206;
const WS = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);

/** Runs f; false when it throws a VitrineError (any other error fails the test). */
function passes(f: () => boolean): boolean {
  try {
    return f();
  } catch (err) {
    if (err instanceof VitrineError) return false;
    throw err;
  }
}
function onlyTyped(f: () => unknown): boolean {
  passes(() => (f(), true));
  return true;
}
/** Every single-byte change of `bytes` (two flips per byte: low and high bit). */
function* mutations(bytes: Uint8Array): Generator<[number, Uint8Array]> {
  for (let i = 0; i < bytes.length; i++) {
    for (const x of [0x01, 0x80]) {
      const m = bytes.slice();
      m[i] ^= x;
      yield [i, m];
    }
  }
}

t.test('SSH: SSHSIG blob and armor', async (t) => {
  for (const [file, alg] of [['ssh-ed25519-sha512.sig', 'sha512'], ['ssh-ed25519-sha256.sig', 'sha256'], ['ssh-ecdsa-sha512.sig', 'sha512'], ['ssh-ecdsa-sha256.sig', 'sha256']] as const) {
    const armor = text(file);
    const blob = dearmorSshSignature(armor);
    const hash = hashOf(alg);
    const ok = (b: Uint8Array): boolean => passes(() => verifySshSignature(parseSshSignature(b), hash, nodeEd25519));
    t.ok(ok(blob), `${file}: verifies`);
    t.same(encodeSshSignature(parseSshSignature(blob)), blob, `${file}: blob round trip`);
    t.equal(armorSshSignature(blob), armor, `${file}: armored as ssh-keygen writes it`);

    const blobAccepted: number[] = [];
    let n = 0;
    for (const [i, m] of mutations(blob)) {
      n++;
      if (ok(m)) blobAccepted.push(i);
    }
    t.same(blobAccepted, [], `${file}: all ${n} single-byte changes of the blob refused`);

    // The armor: a change either is refused or leaves the blob unchanged,
    // and the latter only for white space between lines.
    const bytes = new TextEncoder().encode(armor);
    const bad: number[] = [];
    n = 0;
    for (const [i, m] of mutations(bytes)) {
      n++;
      const same = passes(() => eq(dearmorSshSignature(new TextDecoder().decode(m)), blob));
      const accepted = passes(() => ok(dearmorSshSignature(new TextDecoder().decode(m))));
      if (accepted && !(same && WS.has(bytes[i]!) && WS.has(m[i]!))) bad.push(i);
    }
    t.same(bad, [], `${file}: ${n} single-byte changes of the armor refused or white space only`);
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyTyped(() => parseSshSignature(b))), { seed: SEED, numRuns: 500 });
  fc.assert(fc.property(fc.string({ maxLength: 600 }), (s) => onlyTyped(() => dearmorSshSignature(`-----BEGIN SSH SIGNATURE-----\n${s}\n-----END SSH SIGNATURE-----`))), { seed: SEED, numRuns: 500 });
  // Random changes inside a real blob exercise the parser past its first fields.
  const blob = dearmorSshSignature(text('ssh-ecdsa-sha512.sig'));
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(blob.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
    const m = blob.slice();
    for (const [i, v] of edits) m[i] = v;
    return onlyTyped(() => verifySshSignature(parseSshSignature(m), hashOf('sha512'), nobleEd25519));
  }), { seed: SEED, numRuns: 1000 });
});

t.test('minisign: signature file and public key', async (t) => {
  const sigFile = read('minisign.minisig');
  const keyText = text('minisign.pub');
  const key = parseMinisignPublicKey(keyText);
  const sig = parseMinisignSignature(sigFile);
  const b2 = hashOf('blake2b512');
  t.equal(verifyMinisign(key, sig, b2, nodeEd25519), undefined, 'verifies');
  t.same(parseMinisignPublicKey(formatMinisignPublicKey(key)).bytes, key.bytes, 'key round trip');
  t.equal(formatMinisignPublicKey(key), keyText.trim().split('\n')[1], 'the key line minisign wrote');
  const again = formatMinisignSignature(sig);
  t.same(parseMinisignSignature(again), sig, 'signature round trip');
  const lines = (b: Uint8Array): string[] => Buffer.from(b).toString('latin1').split('\n');
  t.same(lines(again).slice(1), lines(sigFile).slice(1), 'lines 2-4 as minisign wrote them (line 1 is not signed)');

  const firstLineEnd = sigFile.indexOf(0x0a);
  const bad: number[] = [];
  let n = 0;
  for (const [i, m] of mutations(sigFile)) {
    n++;
    const accepted = passes(() => verifyMinisign(key, parseMinisignSignature(m), b2, nodeEd25519) === undefined);
    if (!accepted) continue;
    const same = passes(() => {
      const p = parseMinisignSignature(m);
      return eq(p.bytes, sig.bytes) && eq(p.trustedComment, sig.trustedComment) && eq(p.globalSignature, sig.globalSignature);
    });
    // Only the untrusted comment, or white space around a base64 line, may change.
    if (!(same && (i < firstLineEnd || (WS.has(sigFile[i]!) && WS.has(m[i]!))))) bad.push(i);
  }
  t.same(bad, [], `all ${n} single-byte changes of the signed lines refused`);

  const keyBytes = new TextEncoder().encode(keyText);
  const keyLineStart = keyBytes.indexOf(0x0a) + 1;
  const badKey: number[] = [];
  n = 0;
  for (const [i, m] of mutations(keyBytes)) {
    if (i < keyLineStart) continue;
    n++;
    const accepted = passes(() => verifyMinisign(parseMinisignPublicKey(new TextDecoder().decode(m)), sig, b2, nodeEd25519) === undefined);
    if (accepted && !(WS.has(keyBytes[i]!) && WS.has(m[i]!))) badKey.push(i);
  }
  t.same(badKey, [], `all ${n} single-byte changes of the key line refused`);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => onlyTyped(() => parseMinisignSignature(b))), { seed: SEED, numRuns: 500 });
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => onlyTyped(() => parseMinisignPublicKey(s))), { seed: SEED, numRuns: 500 });
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (b) => onlyTyped(() => parseMinisignPublicKey(`untrusted comment: x\n${Buffer.from(b).toString('base64')}`))), { seed: SEED, numRuns: 500 });
});

t.test('ECDSA P-256: DER and raw r||s signatures', async (t) => {
  const key = parsePemPublicKey(text('ecdsa.pub.pem'));
  const der = read('ecdsa.der.sig');
  const raw = read('ecdsa.raw.sig');
  t.same(ecdsaRawToDer(raw), der, 'raw r||s converts to the DER openssl wrote');
  t.same(ecdsaRawToDer(der), der, 'DER is kept as it is');
  for (const [name, p256] of [['node', nodeP256], ['noble', nobleP256]] as const) {
    t.ok(p256.verify(key.key, key.spki, artifact, der), `${name}: DER verifies`);
    t.ok(p256.verify(key.key, key.spki, artifact, raw), `${name}: raw verifies`);
    for (const [label, sig] of [['DER', der], ['raw', raw]] as const) {
      const accepted: number[] = [];
      let n = 0;
      for (const [i, m] of mutations(sig)) {
        n++;
        if (p256.verify(key.key, key.spki, artifact, m)) accepted.push(i);
      }
      t.same(accepted, [], `${name}: all ${n} single-byte changes of the ${label} signature refused`);
    }
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    const a = nodeP256.verify(key.key, key.spki, artifact, b);
    const c = nobleP256.verify(key.key, key.spki, artifact, b);
    return a === false && c === false && onlyTyped(() => ecdsaRawToDer(b));
  }), { seed: SEED, numRuns: 500 });
});

t.test('SPKI DER and PEM public keys', async (t) => {
  const cases: Array<[string, (k: SpkiKey) => boolean]> = [
    ['ecdsa.pub.pem', (k) => nodeP256.verify(k.key, k.spki, artifact, read('ecdsa.der.sig'))],
    ['ecdsa-compressed.pub.pem', (k) => nobleP256.verify(k.key, k.spki, artifact, read('ecdsa.der.sig'))],
    ['dsse-ed25519.pub.pem', (k) => k.algorithm === 'ed25519' && nodeEd25519.verify(k.key, read('dsse.pae'), Buffer.from(JSON.parse(text('dsse.intoto.json')).signatures[0].sig, 'base64'))],
  ];
  for (const [file, verifies] of cases) {
    const pem = text(file);
    const key = parsePemPublicKey(pem);
    t.ok(verifies(key), `${file}: verifies its signature`);
    t.equal(formatPem(key), pem, `${file}: PEM round trip, as openssl writes it`);
    t.same(parseSpki(key.spki).spki, key.spki, `${file}: DER round trip`);
    const accepted: number[] = [];
    let n = 0;
    for (const [i, m] of mutations(key.spki)) {
      n++;
      if (passes(() => verifies(parseSpki(m)))) accepted.push(i);
    }
    t.same(accepted, [], `${file}: all ${n} single-byte changes of the DER refused`);
    const bytes = new TextEncoder().encode(pem);
    const bad: number[] = [];
    n = 0;
    for (const [i, m] of mutations(bytes)) {
      n++;
      const k = (() => {
        try {
          return parsePemPublicKey(new TextDecoder().decode(m));
        } catch (err) {
          if (err instanceof VitrineError) return undefined;
          throw err;
        }
      })();
      if (k !== undefined && verifies(k) && !(eq(k.spki, key.spki) && WS.has(bytes[i]!) && WS.has(m[i]!))) bad.push(i);
    }
    t.same(bad, [], `${file}: all ${n} single-byte changes of the PEM refused or white space only`);
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => onlyTyped(() => parseSpki(b))), { seed: SEED, numRuns: 1000 });
  const der = parsePemPublicKey(text('ecdsa.pub.pem')).spki;
  fc.assert(fc.property(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 }), (i, v, j, w) => {
    const m = der.slice();
    m[i] = v;
    m[j] = w;
    return onlyTyped(() => parseSpki(m));
  }), { seed: SEED, numRuns: 1000 });
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => onlyTyped(() => parsePemPublicKey(`-----BEGIN PUBLIC KEY-----\n${s}\n-----END PUBLIC KEY-----`))), { seed: SEED, numRuns: 500 });
});

t.test('DSSE envelope', async (t) => {
  const envText = read('dsse.intoto.json');
  const keys = ['dsse-ed25519.pub.pem', 'dsse-p256.pub.pem'].map((f) => parsePemPublicKey(text(f)));
  const backends = { ed25519: nodeEd25519, p256: nodeP256 };
  const env = parseEnvelope(envText);
  const ok = (e: DsseEnvelope): boolean => passes(() => (verifyEnvelope(e, keys, backends), true));
  t.ok(ok(env), 'verifies with both keys');
  t.same(preAuthEncoding(env.payloadType, env.payload), read('dsse.pae'), "PAE is @sigstore/core's");
  const entry = attestationEntry(envText, keys);
  t.same(parseEnvelope(new TextEncoder().encode(dsseEnvelopeJson(entry))), env, 'envelope → entry → envelope round trip');
  t.equal(dsseEnvelopeJson(entry), new TextDecoder().decode(envText).trim(), "given back as jq wrote it (compact, the tool's member order)");

  // The keyid of the first signature is an unauthenticated hint: the only
  // bytes whose change may pass, and then only the keyid differs.
  const keyidAt = Buffer.from(envText).indexOf('"ed25519-key"') + 1;
  const keyidEnd = keyidAt + 'ed25519-key'.length;
  const bad: number[] = [];
  let n = 0;
  for (const [i, m] of mutations(envText)) {
    n++;
    let e: DsseEnvelope;
    try {
      e = parseEnvelope(m);
    } catch (err) {
      if (err instanceof VitrineError) continue;
      throw err;
    }
    if (!ok(e)) continue;
    const onlyKeyid = i >= keyidAt && i < keyidEnd && eq(e.payload, env.payload) && e.payloadType === env.payloadType &&
      e.signatures.every((s, k) => eq(s.sig, env.signatures[k]!.sig));
    if (!onlyKeyid) bad.push(i);
  }
  t.same(bad, [], `all ${n} single-byte changes refused, except inside the keyid hint`);
  fc.assert(fc.property(fc.json({ maxDepth: 4 }), (j) => onlyTyped(() => parseEnvelope(new TextEncoder().encode(j)))), { seed: SEED, numRuns: 500 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTyped(() => parseEnvelope(b))), { seed: SEED, numRuns: 500 });
});

t.test('in-toto Statement', async (t) => {
  const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
  const subject = fc.record({
    name: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    sha256: fc.option(hex64, { nil: undefined }),
    other: fc.option(fc.stringMatching(/^[0-9a-f]{40}$/), { nil: undefined }),
  }).filter((s) => s.sha256 !== undefined || s.other !== undefined);
  const statementArb = fc.record({
    type: fc.constantFrom(STATEMENT_V1, STATEMENT_V01),
    subjects: fc.array(subject, { minLength: 1, maxLength: 6 }).filter((l) => l.some((s) => s.sha256 !== undefined)),
    predicateType: fc.oneof(fc.constantFrom(SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02), fc.webUrl()),
    builderId: fc.webUrl(),
  });
  fc.assert(fc.property(statementArb, (s) => {
    const predicate = s.predicateType === SLSA_PROVENANCE_V1 ? { runDetails: { builder: { id: s.builderId } } }
      : s.predicateType === SLSA_PROVENANCE_V02 ? { builder: { id: s.builderId } } : { any: 'thing' };
    const json = {
      _type: s.type,
      subject: s.subjects.map((x) => ({
        ...(x.name === undefined ? {} : { name: x.name }),
        digest: { ...(x.sha256 === undefined ? {} : { sha256: x.sha256 }), ...(x.other === undefined ? {} : { sha1: x.other }) },
      })),
      predicateType: s.predicateType,
      predicate,
    };
    const p = parseStatement(new TextEncoder().encode(JSON.stringify(json)));
    const slsa = s.predicateType === SLSA_PROVENANCE_V1 || s.predicateType === SLSA_PROVENANCE_V02;
    return p.type === s.type && p.predicateType === s.predicateType && p.builderId === (slsa ? s.builderId : undefined) &&
      p.subjects.length === s.subjects.length &&
      p.subjects.every((q, i) => q.name === (s.subjects[i]!.name ?? '') &&
        (q.sha256 === undefined ? s.subjects[i]!.sha256 === undefined : Buffer.from(q.sha256).toString('hex') === s.subjects[i]!.sha256));
  }), { seed: SEED, numRuns: 300 });
  // The recorded Statement: every single-byte change is refused by the
  // decoder or changes what it decodes to (the envelope's signature then
  // refuses it, as the DSSE test above shows).
  const payload = parseEnvelope(read('dsse.intoto.json')).payload;
  const st = parseStatement(payload);
  const unchanged: number[] = [];
  for (const [i, m] of mutations(payload)) {
    if (passes(() => JSON.stringify(parseStatement(m)) === JSON.stringify(st))) unchanged.push(i);
  }
  // Only bytes of the predicate's content that the log does not read may leave the decoded Statement equal.
  const predicateAt = Buffer.from(payload).indexOf('"predicate":');
  t.ok(predicateAt > 0);
  const builderAt = Buffer.from(payload).indexOf('https://example.com/builder');
  t.same(unchanged.filter((i) => i < predicateAt || (i >= builderAt && i < builderAt + 'https://example.com/builder'.length)), [],
    'every change of the Statement outside the predicate, and of the builder id, changes what is decoded or is refused');
  fc.assert(fc.property(fc.json({ maxDepth: 5 }), (j) => onlyTyped(() => parseStatement(new TextEncoder().encode(j)))), { seed: SEED, numRuns: 500 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTyped(() => parseStatement(b))), { seed: SEED, numRuns: 500 });
});
