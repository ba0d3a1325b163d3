/**
 * The shared proof vectors (vectors/proof/bundle-and-evidence.json, made by
 * an independent Go implementation): the bundle of entry 3 of a 5-entry log
 * verifies under the right policy and fails at the right step under a wrong
 * one, on both Ed25519 backends; the five entries hash to the signed root;
 * the evidence documents prove split views and the others do not.
 */
import t, { type Test } from 'tap';
import { inclusionProof, leafHash, sha256, treeHash } from '../../merkle/index.js';
import { b64encode, bytesEqual, hexDecode, hexEncode } from '../../src/encoding.js';
import { decodeEntry, parseAndVerifyEntry } from '../../src/entry/index.js';
import { generateSigner, openCheckpoint, parseNote, parseVerifier, signerFromSeed, formatVerifier, verifierFromSigner } from '../../src/note/index.js';
import { formatBundle, parseBundle, verifyBundle, verifyEvidence, type BundleResult } from '../../src/proof/index.js';
import { BACKENDS, memoryReader, noteVectors, proofVectors, utf8 } from './_helpers.js';

const pv = proofVectors();
const nv = noteVectors();
const ORIGIN = 'log.example.com/vitrine';
const artifact = utf8(pv.bundleArtifact);

function expectOk(t: Test, r: BundleResult, witnesses: string[], what: string): void {
  if (!r.ok) {
    t.fail(`${what}: must verify, failed at step ${r.step} (${r.code}): ${r.message}`);
    return;
  }
  t.equal(r.index, 3n, `${what}: index 3`);
  t.equal(r.origin, ORIGIN, `${what}: origin`);
  t.equal(r.treeSize, 5n, `${what}: tree size 5`);
  t.equal(r.entry.name, 'pkg:generic/demo@3', `${what}: entry name`);
  t.same(r.witnesses, witnesses, `${what}: cosigning witnesses`);
}

function expectFail(t: Test, r: BundleResult, step: number, code: string, what: string): void {
  if (r.ok) {
    t.fail(`${what}: must fail at step ${step} (${code}), but verified`);
    return;
  }
  t.equal(r.step, step, `${what}: fails at step ${step} (got ${r.step} ${r.code}: ${r.message})`);
  t.equal(r.code, code, `${what}: code ${code}`);
  t.match(r.message, /^[A-Z].*\.$/s, `${what}: the message is one sentence (${r.message})`);
  t.notMatch(r.message, /\n/, `${what}: the message is one line`);
}

for (const [label, ed] of BACKENDS) {
  t.test(`bundle vector (${label})`, async (t) => {
    const logKey = nv.log.vkey;
    expectOk(t, verifyBundle(artifact, pv.bundle, { logKey }, ed), [], 'log key alone');
    expectOk(t, verifyBundle({ digest: sha256(artifact) }, pv.bundle, { logKey }, ed), [], 'artifact given as its digest');
    expectOk(t, verifyBundle(artifact, utf8(pv.bundle), { logKey }, ed), [], 'bundle given as bytes');
    expectOk(t, verifyBundle(artifact, parseBundle(pv.bundle), { logKey }, ed), [], 'bundle given parsed');
    for (const [form, vkey] of [
      ['0x04 vkey', nv.witness.vkey],
      ['0x01 vkey', nv.witness.vkeyEd25519],
    ] as const) {
      expectOk(t, verifyBundle(artifact, pv.bundle, { logKey, witnesses: [vkey], quorum: 1 }, ed), ['witness.example.com/w1'], `witness ${form}, quorum 1`);
      expectFail(t, verifyBundle(artifact, pv.bundle, { logKey, witnesses: [vkey], quorum: 2 }, ed), 5, 'witness-quorum', `witness ${form}, quorum 2`);
    }
    expectOk(
      t,
      verifyBundle(artifact, pv.bundle, { logKey, witnesses: [nv.witness.vkey, nv.witness.vkeyEd25519], quorum: 1 }, ed),
      ['witness.example.com/w1'],
      'the same witness in both forms counts once',
    );
    expectFail(
      t,
      verifyBundle(artifact, pv.bundle, { logKey, witnesses: [nv.witness.vkey, nv.witness.vkeyEd25519], quorum: 2 }, ed),
      5,
      'witness-quorum',
      'the same witness listed twice cannot make a quorum of 2',
    );

    expectFail(t, verifyBundle(utf8('artifact 4'), pv.bundle, { logKey }, ed), 1, 'digest-mismatch', 'other artifact bytes');
    expectFail(t, verifyBundle(utf8('artifact 3\n'), pv.bundle, { logKey }, ed), 1, 'digest-mismatch', 'artifact with a trailing newline');

    const sameNameOtherKey = formatVerifier(verifierFromSigner(generateSigner(ORIGIN)));
    expectFail(t, verifyBundle(artifact, pv.bundle, { logKey: sameNameOtherKey }, ed), 4, 'bad-log-signature', 'another key under the log name');
    expectFail(t, verifyBundle(artifact, pv.bundle, { logKey: nv.goNoteExample.vkey }, ed), 4, 'bad-log-signature', 'another log entirely');

    const entry = decodeEntry(parseBundle(pv.bundle).entry);
    const signerVkey = formatVerifier({ name: 'demo.signer', keyId: 0, type: 1, publicKey: entry.key });
    expectOk(t, verifyBundle(artifact, pv.bundle, { logKey, signers: [nv.goNoteExample.vkey, signerVkey] }, ed), [], 'pinned signer among others');
    expectFail(t, verifyBundle(artifact, pv.bundle, { logKey, signers: [nv.goNoteExample.vkey] }, ed), 2, 'signer-not-pinned', 'signer not pinned');
  });
}

t.test('the five entries build the signed tree', async (t) => {
  const entries = pv.entries.map((h) => hexDecode(h, 'entry'));
  t.equal(entries.length, 5, 'five entries');
  const logV = parseVerifier(nv.log.vkey);
  const cp = openCheckpoint(pv.checkpoint, logV);
  t.equal(cp.size, 5n, 'the checkpoint is for size 5');
  const leaves = entries.map((e) => leafHash(e));
  t.ok(bytesEqual(treeHash(leaves), cp.rootHash), 'treeHash of the five leaf hashes is the signed root');
  const bundle = parseBundle(pv.bundle);
  t.equal(parseNote(bundle.checkpoint).text, parseNote(pv.checkpoint).text, "the bundle's checkpoint is the vector checkpoint");
  t.ok(bytesEqual(bundle.entry, entries[3]!), 'the bundle carries entry 3');
  const read = memoryReader(leaves);
  t.same(inclusionProof(3, 5, read).map(b64encode), bundle.proof.map(b64encode), "the bundle's proof is the inclusion proof of leaf 3 in the tree of 5");

  for (let i = 0; i < 5; i++) {
    const e = parseAndVerifyEntry(entries[i]!);
    t.equal(e.name, `pkg:generic/demo@${i}`, `entry ${i}: name`);
    t.equal(hexEncode(e.digest), hexEncode(sha256(utf8(`artifact ${i}`))), `entry ${i}: digest of "artifact ${i}"`);
    // A bundle for every entry, built here, verifies against the reference checkpoint.
    const text = formatBundle({ entry: entries[i]!, index: BigInt(i), proof: inclusionProof(i, 5, read), checkpoint: pv.bundle.slice(pv.bundle.indexOf('\n\n') + 2) });
    const r = verifyBundle(utf8(`artifact ${i}`), text, { logKey: nv.log.vkey, witnesses: [nv.witness.vkey], quorum: 1 });
    t.ok(r.ok, `entry ${i}: its bundle verifies (${r.ok ? 'ok' : r.message})`);
    const wrong = verifyBundle(utf8(`artifact ${i}`), formatBundle({ ...parseBundle(text), index: BigInt((i + 1) % 5) }), { logKey: nv.log.vkey });
    t.equal(wrong.ok ? 'ok' : wrong.step, 3, `entry ${i}: the same proof at another index fails step 3`);
  }
  t.equal(formatBundle(bundle), pv.bundle, 'formatBundle(parseBundle(vector)) gives the vector back byte for byte');
});

const evidenceKinds: Record<string, [string, [bigint, bigint]]> = {
  sameSize: ['same-size', [5n, 5n]],
  powerOfTwoPrefix: ['not-prefix', [2n, 5n]],
  prefixDiffers: ['not-prefix', [3n, 5n]],
};
const notEvidenceReasons: Record<string, RegExp> = {
  honestPair: /extends the tree of size 3/,
  identicalNotes: /sign the same tree/,
  unsignedFork: /not validly signed by the log/,
};

for (const [label, ed] of BACKENDS) {
  t.test(`evidence vectors (${label})`, async (t) => {
    t.same(Object.keys(pv.evidence).sort(), Object.keys(evidenceKinds).sort(), 'the three evidence documents');
    for (const [name, doc] of Object.entries(pv.evidence)) {
      const r = verifyEvidence(JSON.stringify(doc), nv.log.vkey, ed);
      t.ok(r.ok, `${name}: proves a split view (${r.ok ? r.kind : r.message})`);
      if (r.ok) {
        t.equal(r.kind, evidenceKinds[name]![0], `${name}: kind`);
        t.same(r.sizes, evidenceKinds[name]![1], `${name}: sizes`);
        t.equal(r.origin, ORIGIN, `${name}: origin`);
      }
      const other = verifyEvidence(JSON.stringify(doc), formatVerifier(verifierFromSigner(signerFromSeed(ORIGIN, new Uint8Array(32).fill(7)))), ed);
      t.notOk(other.ok, `${name}: proves nothing about another key of the same name`);
    }
    t.same(Object.keys(pv.notEvidence).sort(), Object.keys(notEvidenceReasons).sort(), 'the three non-evidence documents');
    for (const [name, doc] of Object.entries(pv.notEvidence)) {
      const r = verifyEvidence(JSON.stringify(doc), nv.log.vkey, ed);
      t.notOk(r.ok, `${name}: is not evidence`);
      if (!r.ok) t.match(r.message, notEvidenceReasons[name]!, `${name}: says why (${r.message})`);
    }
  });
}

t.test('the evidence proofs are hashes of the real 5-entry tree', async (t) => {
  // powerOfTwoPrefix's proof[0] claims to be the hash of the first 2 leaves of the larger tree.
  const leaves = pv.entries.map((h) => leafHash(hexDecode(h, 'entry')));
  const doc = pv.evidence['powerOfTwoPrefix'] as { proof: string[] };
  t.equal(doc.proof[0], b64encode(treeHash(leaves.slice(0, 2))), 'proof[0] is MTH(D[0:2]) of the signed tree');
});
