/**
 * Fuzzing the bundle and evidence readers with random and mutated input
 * (fast-check). parseBundle and parseEvidence either return or throw a
 * VitrineError subclass; verifyBundle and verifyEvidence never throw for
 * any document, they return a failure. Any other exception (TypeError,
 * RangeError, ...) fails the property.
 */
import t from 'tap';
import fc from 'fast-check';
import { fuzzStrings, typedOnly } from '../fuzz-helpers.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { parseBundle, parseEvidence, verifyBundle, verifyEvidence, type BundlePolicy } from '../../src/proof/index.js';
import { noteVectors, proofVectors, utf8 } from './_helpers.js';

const pv = proofVectors();
const nv = noteVectors();
const policy: BundlePolicy = { logKey: nv.log.vkey, witnesses: [nv.witness.vkey], quorum: 1 };
const artifact = utf8(pv.bundleArtifact);

/** True if fn returned or threw a VitrineError; any other exception propagates and fails the property. */
function neverThrows(fn: () => { ok: boolean }): boolean {
  const r = fn();
  if (typeof r.ok !== 'boolean') throw new Error('no result');
  return true;
}

// Pieces that matter to these grammars, plus troublemakers.
const SPECIAL = ['\n', '\n\n', '\r\n', 'c2sp.org/tlog-proof@v1\n', 'extra ', 'index ', '0', '03', '=', '+', '/', ' ', '\u2014 ', '\u0000', '\ufeff', '\ud800', '{', '}', '[', ']', '"', ':', ',', 'null', '"proof"', '"checkpoints"', '\\u2014'];
const { anyString, mutated } = fuzzStrings({ special: SPECIAL, pieces: 80, plainLength: 300, binaryLength: 200, maxDelete: 6 });
const mutatedBytes = (valid: string) =>
  fc.tuple(fc.constant(utf8(valid)), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })).map(([b, changes]) => {
    const out = b.slice();
    for (const [at, v] of changes) out[at % out.length] = v;
    return out;
  });

const docs = [...Object.values(pv.evidence), ...Object.values(pv.notEvidence)].map((d) => JSON.stringify(d));

t.test('parseBundle and verifyBundle on random and mutated bundles', async (t) => {
  const inputs = fc.oneof(anyString, mutated([pv.bundle]), fc.uint8Array({ maxLength: 300 }), mutatedBytes(pv.bundle));
  fc.assert(fc.property(inputs, (input) => typedOnly(() => parseBundle(input))), { numRuns: 3000 });
  fc.assert(fc.property(inputs, (input) => neverThrows(() => verifyBundle(artifact, input, policy, nodeEd25519))), { numRuns: 3000 });
  fc.assert(fc.property(mutated([pv.bundle]), (input) => neverThrows(() => verifyBundle(artifact, input, policy, nobleEd25519))), { numRuns: 300 });
  t.pass('no exception other than VitrineError, and verifyBundle never threw');
});

t.test('verifyBundle on random Bundle objects', async (t) => {
  const hash = fc.uint8Array({ minLength: 0, maxLength: 40 });
  const objects = fc.record({
    entry: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(parseBundle(pv.bundle).entry)),
    index: fc.oneof(fc.bigInt({ min: -5n, max: 2n ** 64n }), fc.constant(3n)),
    proof: fc.oneof(fc.array(hash, { maxLength: 5 }), fc.constant(parseBundle(pv.bundle).proof)),
    checkpoint: fc.oneof(anyString, mutated([pv.checkpoint]), fc.constant(parseBundle(pv.bundle).checkpoint)),
  });
  fc.assert(fc.property(objects, (b) => neverThrows(() => verifyBundle(artifact, b, policy, nodeEd25519))), { numRuns: 2000 });
  t.pass('verifyBundle never threw on a Bundle object');
});

t.test('parseEvidence and verifyEvidence on random and mutated documents', async (t) => {
  const texts = fc.oneof(anyString, mutated(docs), fc.uint8Array({ maxLength: 300 }));
  fc.assert(fc.property(texts, (input) => typedOnly(() => parseEvidence(input))), { numRuns: 3000 });
  fc.assert(fc.property(texts, (input) => neverThrows(() => verifyEvidence(input, nv.log.vkey, nodeEd25519))), { numRuns: 3000 });

  // Structurally plausible documents: each field of a real document replaced by any JSON value.
  const base = JSON.parse(docs[0]!) as Record<string, unknown>;
  const fields = ['type', 'origin', 'checkpoints', 'proof', 'observed', '__proto__', 'extra'];
  const structured = fc.tuple(fc.constantFrom(...fields), fc.jsonValue(), fc.boolean()).map(([k, v, drop]) => {
    const o: Record<string, unknown> = JSON.parse(JSON.stringify(base));
    if (drop) delete o[k];
    else Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
    return JSON.stringify(o);
  });
  fc.assert(fc.property(structured, (text) => neverThrows(() => verifyEvidence(text, nv.log.vkey, nodeEd25519))), { numRuns: 2000 });
  fc.assert(fc.property(fc.jsonValue(), (v) => typedOnly(() => parseEvidence(v))), { numRuns: 2000 });
  fc.assert(fc.property(fc.anything(), (v) => typedOnly(() => parseEvidence(v))), { numRuns: 1000 });
  t.pass('no exception other than VitrineError, and verifyEvidence never threw');
});

t.test('mutated evidence never proves a split view it should not', async (t) => {
  // A mutation of a non-evidence document must never become evidence: the
  // log signed nothing new, so only the same-size/prefix facts can hold.
  const honest = JSON.stringify(pv.notEvidence['honestPair']);
  fc.assert(
    fc.property(mutated([honest]), (text) => {
      const r = verifyEvidence(text, nv.log.vkey, nodeEd25519);
      return !r.ok;
    }),
    { numRuns: 2000 },
  );
  t.pass('no mutation of an honest pair proved a split view');
});
