/**
 * Unit tests of src/proof/bundle.ts beyond the vectors: the text form
 * (format/parse round trip, size limit in bytes), policy mistakes (thrown,
 * never blamed on the bundle), witness counting, and logs of edge sizes.
 */
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { MalformedError } from '../../src/errors.js';
import { cosignerVerifier, formatVerifier, parseVerifier, signerFromSeed, verifierFromSigner } from '../../src/note/index.js';
import { BUNDLE_HEADER, formatBundle, formatEncodedBundle, MAX_BUNDLE_BYTES, parseBundle, verifyBundle } from '../../src/proof/index.js';
import { buildLog, noteVectors, proofVectors, seedOf, utf8 } from './_helpers.js';

const pv = proofVectors();
const nv = noteVectors();
const artifact = utf8(pv.bundleArtifact);

t.test('format and parse', async (t) => {
  const b = parseBundle(pv.bundle);
  t.equal(b.index, 3n, 'index is a bigint');
  t.equal(b.proof.length, 3, 'three proof hashes');
  t.ok(b.proof.every((h) => h.length === 32), 'each 32 bytes');
  t.ok(pv.bundle.startsWith(`${BUNDLE_HEADER}\nextra `), 'header constant matches the vector');
  const empty = formatBundle({ ...b, proof: [] });
  t.match(empty, /\nindex 3\n\nlog\.example\.com/, 'no proof lines: index line followed by the empty line');
  t.same(parseBundle(empty).proof, [], 'parses back with an empty proof');
  // The vector's own lines, put back together from their base64 (the log's answer path).
  const [, extra, , ...rest] = pv.bundle.slice(0, pv.bundle.indexOf('\n\n')).split('\n');
  t.equal(formatEncodedBundle(extra!.slice(6), 3, rest, pv.bundle.slice(pv.bundle.indexOf('\n\n') + 2)), pv.bundle, 'from base64 parts: the vector byte for byte');
  t.equal(formatBundle(b), pv.bundle, 'from bytes: the vector byte for byte');

  // The size limit counts bytes, not UTF-16 code units: 44,000 three-byte
  // characters are 132,000 bytes in 44,000 code units.
  const wide = `${pv.bundle}\u2014 ${'\u20ac'.repeat(44_000)} AAAAAAAA\n`;
  t.ok(wide.length < MAX_BUNDLE_BYTES && utf8(wide).length > MAX_BUNDLE_BYTES, 'test input: short in code units, long in bytes');
  t.throws(() => parseBundle(wide), { name: 'MalformedError', message: /larger than 131072 bytes/ }, 'a string over 128 KiB of UTF-8 is refused by size');
  t.throws(() => parseBundle(utf8(wide)), { name: 'MalformedError', message: /larger than 131072 bytes/ }, 'the same as bytes');
  t.throws(() => parseBundle(42 as unknown as string), MalformedError, 'a non-string, non-bytes input is a MalformedError');
  const invalidUtf8 = utf8(pv.bundle);
  invalidUtf8[50] = 0xff;
  t.throws(() => parseBundle(invalidUtf8), { name: 'MalformedError', message: /UTF-8/ }, 'invalid UTF-8 is refused');
});

t.test('policy mistakes throw and are never blamed on the bundle', async (t) => {
  t.throws(() => verifyBundle(artifact, pv.bundle, { logKey: 'not a vkey' }), MalformedError, 'bad log vkey');
  t.throws(() => verifyBundle(artifact, pv.bundle, { logKey: nv.witness.vkey }), { name: 'MalformedError', message: /type 0x01/ }, 'a cosigner (0x04) log key');
  t.throws(() => verifyBundle(artifact, pv.bundle, { logKey: nv.log.vkey, quorum: -1 }), { message: /quorum/ }, 'negative quorum');
  t.throws(() => verifyBundle(artifact, pv.bundle, { logKey: nv.log.vkey, quorum: 1.5 }), { message: /quorum/ }, 'fractional quorum');
  t.throws(() => verifyBundle(artifact, pv.bundle, { logKey: nv.log.vkey, signers: ['x+00000000+AA=='] }), MalformedError, 'bad signer vkey');
  t.throws(() => verifyBundle(artifact, pv.bundle, { logKey: nv.log.vkey, witnesses: ['nope'] }), MalformedError, 'bad witness vkey');
  // Two different keys under one name and key ID: a misconfiguration (Go calls it an ambiguous key).
  const w = parseVerifier(nv.witness.vkey);
  const impostor = { ...w, publicKey: verifierFromSigner(signerFromSeed('x', seedOf('impostor'))).publicKey };
  t.throws(
    () => verifyBundle(artifact, pv.bundle, { logKey: nv.log.vkey, witnesses: [w, impostor], quorum: 1 }),
    { name: 'MalformedError', message: /share the name and key ID/ },
    'ambiguous witness keys are a policy error, not a step-5 failure',
  );
  const r = verifyBundle(artifact, pv.bundle, { logKey: nv.log.vkey, witnesses: [nv.witness.vkey], quorum: 5 });
  t.equal(r.ok ? 'ok' : r.step, 5, 'a quorum larger than the witness list cannot be met: step 5');
});

t.test('a witness key counts once, whatever its names', async (t) => {
  const logSigner = signerFromSeed('log.example.org/w', seedOf('log'));
  const w = signerFromSeed('w.example.org/a', seedOf('w'));
  const sameKeyOtherName = signerFromSeed('w.example.org/b', seedOf('w'));
  const other = signerFromSeed('w2.example.org/c', seedOf('w2'));
  const log = buildLog({ logSigner, signerSeed: seedOf('s'), artifacts: [utf8('a'), utf8('b')], witnesses: [w, sameKeyOtherName, other] });
  const logKey = formatVerifier(verifierFromSigner(logSigner));
  const all = [w, sameKeyOtherName, other].map((s) => formatVerifier(cosignerVerifier(s)));
  const two = verifyBundle(utf8('b'), log.bundle(1), { logKey, witnesses: all, quorum: 2 });
  t.ok(two.ok, `quorum 2 is met by two distinct keys (${two.ok ? two.witnesses.join(', ') : two.message})`);
  if (two.ok) t.same(two.witnesses, ['w.example.org/a', 'w2.example.org/c'], 'the duplicate key is reported once');
  const three = verifyBundle(utf8('b'), log.bundle(1), { logKey, witnesses: all, quorum: 3 });
  t.equal(three.ok ? 'ok' : three.step, 5, 'one key under two names cannot make a quorum of 3');
});

t.test('edge sizes: a log of one entry, and the last entry of a log of 2^k + 1', async (t) => {
  const logSigner = signerFromSeed('log.example.org/edge', seedOf('edge'));
  const logKey = formatVerifier(verifierFromSigner(logSigner));
  const one = buildLog({ logSigner, signerSeed: seedOf('s1'), artifacts: [utf8('only')] });
  t.equal(parseBundle(one.bundle(0)).proof.length, 0, 'a tree of one leaf: empty proof');
  const r1 = verifyBundle(utf8('only'), one.bundle(0), { logKey }, nodeEd25519);
  t.ok(r1.ok, `the single entry verifies (${r1.ok ? '' : r1.message})`);
  const artifacts = Array.from({ length: 9 }, (_, i) => utf8(`a${i}`));
  const nine = buildLog({ logSigner, signerSeed: seedOf('s9'), artifacts });
  for (const i of [0, 7, 8]) {
    const r = verifyBundle(artifacts[i]!, nine.bundle(i), { logKey }, nodeEd25519);
    t.ok(r.ok, `entry ${i} of 9 verifies (${r.ok ? '' : r.message})`);
  }
  t.equal(parseBundle(nine.bundle(8)).proof.length, 1, 'the lone right leaf of 9 has a one-hash proof');
});

t.test('policy name: the entry must name the expected artifact', async (t) => {
  const { readFileSync } = await import('node:fs');
  const v = JSON.parse(readFileSync('vectors/proof/bundle-and-evidence.json', 'utf8'));
  const k = JSON.parse(readFileSync('vectors/note/keys-and-checkpoint.json', 'utf8'));
  const artifact = new TextEncoder().encode(v.bundleArtifact);
  const ok = verifyBundle(artifact, v.bundle, { logKey: k.log.vkey, name: 'pkg:generic/demo@3' });
  t.ok(ok.ok, 'the vector bundle verifies with its own name pinned');
  const bad = verifyBundle(artifact, v.bundle, { logKey: k.log.vkey, name: 'pkg:generic/demo@4' });
  t.equal(bad.ok, false, 'another expected name fails');
  if (!bad.ok) {
    t.equal(bad.step, 1, 'at step 1');
    t.equal(bad.code, 'name-mismatch', 'with code name-mismatch');
    t.match(bad.message, /pkg:generic\/demo@3.*pkg:generic\/demo@4/, 'naming both names');
  }
});
