/**
 * Split-view evidence (docs/formats.md §9) from real forks: two in-memory trees
 * signed by the same log key that share, or do not share, a prefix. Built
 * with buildEvidence and the §9 proof (merkle consistencyProof with
 * prependFirstRoot: false, from the larger tree), checked with
 * verifyEvidence; then every way to make a document that proves nothing.
 */
import t from 'tap';
import { treeHash } from '../../merkle/index.js';
import { b64encode } from '../../src/encoding.js';
import { MalformedError } from '../../src/errors.js';
import { entryLeafHash } from '../../src/entry/index.js';
import { formatVerifier, signCheckpoint, signerFromSeed, verifierFromSigner } from '../../src/note/index.js';
import { buildEvidence, EVIDENCE_TYPE, parseEvidence, verifyEvidence } from '../../src/proof/index.js';
import { buildLog, evidenceProof, noteVectors, seedOf, utf8 } from './_helpers.js';

const logSigner = signerFromSeed('log.example.org/fork', seedOf('fork log'));
const logKey = formatVerifier(verifierFromSigner(logSigner));
const origin = logSigner.name;
const artifacts = (tag: string, n: number) => Array.from({ length: n }, (_, i) => utf8(`${tag} ${i}`));

/** A signed checkpoint of the first `size` leaves of a log. */
function checkpointOf(leafHashes: Uint8Array[], size: number): string {
  return signCheckpoint({ origin, size, rootHash: treeHash(leafHashes.slice(0, size)) }, logSigner);
}

// Honest log X: 11 entries. Fork Y: the same first 4, then different ones.
const x = buildLog({ logSigner, signerSeed: seedOf('signer'), artifacts: artifacts('x', 11) });
const y = buildLog({ logSigner, signerSeed: seedOf('signer'), artifacts: [...artifacts('x', 4), ...artifacts('y', 7)] });
const xl = x.entries.map(entryLeafHash);
const yl = y.entries.map(entryLeafHash);

t.test('forks of every size pair prove a split view; prefixes do not', async (t) => {
  let proved = 0;
  for (let m = 1; m <= 11; m++) {
    for (let n = m + 1; n <= 11; n++) {
      // A = X at m, B = Y at n: Y extends X's first m leaves only when m <= 4.
      const doc = buildEvidence(origin, checkpointOf(xl, m), checkpointOf(yl, n), evidenceProof(m, n, yl));
      const r = verifyEvidence(JSON.stringify(doc), logKey);
      if (m <= 4) {
        t.notOk(r.ok, `m=${m} n=${n}: the tree of ${n} extends the tree of ${m}: no evidence`);
        if (!r.ok) t.match(r.message, /extends the tree/, `m=${m} n=${n}: for that reason (${r.message})`);
      } else {
        t.ok(r.ok, `m=${m} n=${n}: proves a split view (${r.ok ? r.kind : r.message})`);
        if (r.ok) t.same(r.sizes, [BigInt(m), BigInt(n)], `m=${m} n=${n}: sizes`);
        proved++;
      }
      // Order does not matter: the larger checkpoint may come first.
      const swapped = verifyEvidence({ ...doc, checkpoints: [doc.checkpoints[1], doc.checkpoints[0]] }, logKey);
      t.equal(swapped.ok, r.ok, `m=${m} n=${n}: same verdict with the checkpoints swapped`);
    }
  }
  t.ok(proved > 20, `${proved} forks proved`);
  for (let m = 5; m <= 11; m++) {
    const r = verifyEvidence(buildEvidence(origin, checkpointOf(xl, m), checkpointOf(yl, m), []), logKey);
    t.ok(r.ok && r.kind === 'same-size', `same size ${m}, different roots: proves a split view`);
  }
});

t.test('documents that prove nothing', async (t) => {
  const a = checkpointOf(xl, 6);
  const b = checkpointOf(yl, 9);
  const proof = evidenceProof(6, 9, yl);
  const good = buildEvidence(origin, a, b, proof, [{ from: 'monitor.example', at: '2025-01-01T00:00:00Z' }]);
  t.ok(verifyEvidence(good, logKey).ok, 'the base document is evidence');
  const cases: Array<[string, unknown, RegExp]> = [
    ['proof from the smaller tree', buildEvidence(origin, a, b, evidenceProof(6, 9, xl)), /do not reproduce the signed root/],
    ['a standard (RFC 9162) proof of the wrong length', buildEvidence(origin, checkpointOf(xl, 8), checkpointOf(yl, 11), evidenceProof(8, 11, yl).slice(1)), /does not fit sizes 8 and 11/],
    ['a proof element flipped', buildEvidence(origin, a, b, [proof[0]!.map((v, i) => (i === 0 ? v ^ 1 : v)), ...proof.slice(1)]), /do not reproduce/],
    ['an extra proof element', buildEvidence(origin, a, b, [...proof, proof[0]!]), /does not fit/],
    ['equal sizes with a proof', buildEvidence(origin, checkpointOf(xl, 6), checkpointOf(yl, 6), proof), /equal size must come with an empty proof/],
    ['the empty tree', buildEvidence(origin, checkpointOf(xl, 0), b, []), /empty tree is a prefix/],
    ['another origin in the document', { ...good, origin: 'log.example.org/other' }, /origin/],
    ['a checkpoint signed by another key', buildEvidence(origin, signCheckpoint({ origin, size: 6, rootHash: treeHash(xl.slice(0, 6)) }, signerFromSeed(origin, seedOf('evil'))), b, proof), /not validly signed/],
    ['an unknown field', { ...good, note: 'x' }, /unknown field "note"/],
    ['a wrong type', { ...good, type: 'vitrine-evidence/v2' }, /type/],
    ['three checkpoints', { ...good, checkpoints: [a, b, b] }, /exactly two/],
    ['a proof hash of 31 bytes', { ...good, proof: [b64encode(new Uint8Array(31))] }, /32 bytes/],
    ['not JSON', '{"type": ', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['an observation without "at"', { ...good, observed: [{ from: 'x' }] }, /observed\[0\]/],
  ];
  for (const [what, doc, reason] of cases) {
    const r = verifyEvidence(typeof doc === 'string' ? doc : JSON.stringify(doc), logKey);
    t.notOk(r.ok, `${what}: not evidence`);
    if (!r.ok) t.match(r.message, reason, `${what}: says why (${r.message})`);
  }
  const sizeLimit = verifyEvidence(JSON.stringify({ ...good, observed: [{ from: 'x'.repeat(300_000), at: '' }] }), logKey);
  t.match(sizeLimit.ok ? '' : sizeLimit.message, /larger than 262144 bytes/, 'a document over 256 KiB is refused by size');
});

t.test('parseEvidence keeps exactly the fields', async (t) => {
  const doc = buildEvidence(origin, checkpointOf(xl, 6), checkpointOf(yl, 9), evidenceProof(6, 9, yl));
  const parsed = parseEvidence(JSON.stringify({ ...doc, observed: [{ from: 'a', at: 'b', extra: 1 }] }));
  t.equal(parsed.type, EVIDENCE_TYPE, 'type');
  t.same(parsed.observed, [{ from: 'a', at: 'b' }], 'observations keep only from and at');
  t.same(parseEvidence(JSON.stringify({ type: doc.type, origin, checkpoints: doc.checkpoints, proof: doc.proof })).observed, [], 'observed is optional');
});

t.test('a cosigner key is not a log key', async (t) => {
  const nv = noteVectors();
  t.throws(() => verifyEvidence('{}', nv.witness.vkey), { name: 'MalformedError', message: /type 0x01/ }, 'a 0x04 vkey is a caller mistake, thrown');
  t.throws(() => verifyEvidence('{}', 'bad'), MalformedError, 'a bad vkey is thrown');
});
