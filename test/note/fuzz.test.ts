/**
 * Fuzzing every parser of src/note and src/encoding with random and mutated
 * inputs (fast-check): each must either return or throw a VitrineError
 * subclass (MalformedError, InvalidError); never a TypeError, RangeError or
 * any other exception, and never a crash.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { fuzzStrings, typedOnly } from '../fuzz-helpers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode, fromUtf8, hexDecode, parseDecimal, utf8 } from '../../src/encoding.js';
import {
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseCosignature,
  parseCosignerVerifier,
  parseNote,
  parseSigner,
  parseVerifier,
  verifyCosignature,
  verifyCosignatures,
} from '../../src/note/index.js';
import { rootPath } from '../_root.js';

const dir = rootPath('vectors/note');
const ref = JSON.parse(readFileSync(join(dir, 'keys-and-checkpoint.json'), 'utf8'));
const logV = parseVerifier(ref.log.vkey);
const witnessV = parseCosignerVerifier(ref.witness.vkey);

// Characters that matter to these grammars, plus troublemakers.
const SPECIAL = ['+', '=', '/', '\n', '\n\n', '\r', '\u0000', '\t', ' ', '\u2014', '\u2014 ', '\u00a0', '\u3000', '\ud800', '\udc00', '\ufeff', '0', '9', 'a', 'f', 'A', 'Q', 'PRIVATE+KEY+', '-', '_', 'é', '🔑'];
const { anyString, mutated } = fuzzStrings({ special: SPECIAL, pieces: 60, plainLength: 200, binaryLength: 120, maxDelete: 4 });

const keys = [ref.log.vkey, ref.witness.vkey, ref.witness.vkeyEd25519, ref.goNoteExample.vkey];
const skeys = [ref.log.skey, ref.goNoteExample.skey, `${ref.log.skey}\n`];
const notes = [ref.signedCheckpoint, ref.checkpointWithCosig, ref.goNoteExample.note];
const bodies = [ref.checkpointText, `${ref.checkpointText}ext\n`];
const lines = [ref.cosignatureLine];

const RUNS = 400;

function check(t: Test, name: string, arb: fc.Arbitrary<string>, fn: (s: string) => unknown): void {
  t.doesNotThrow(() => fc.assert(fc.property(arb, (s) => typedOnly(() => fn(s))), { numRuns: RUNS }), `${name}: only typed errors`);
}

t.test('encoding parsers', async (t) => {
  check(t, 'b64decode', fc.oneof(anyString, mutated(['AAAA', 'AA==', 'AAA=', ref.log.vkey.split('+')[2]])), (s) => b64decode(s, 'f'));
  check(t, 'b64decode with length', anyString, (s) => b64decode(s, 'f', 32));
  check(t, 'hexDecode', fc.oneof(anyString, mutated(['00ff', 'eac8b8a6'])), (s) => hexDecode(s, 'f'));
  check(t, 'parseDecimal', fc.oneof(anyString, mutated(['0', '8', '9223372036854775807'])), (s) => parseDecimal(s, 'f'));
  t.doesNotThrow(
    () => fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => typedOnly(() => fromUtf8(b, 'f'))), { numRuns: RUNS }),
    'fromUtf8: only typed errors',
  );
});

t.test('key parsers', async (t) => {
  check(t, 'parseVerifier', fc.oneof(anyString, mutated(keys)), parseVerifier);
  check(t, 'parseCosignerVerifier', fc.oneof(anyString, mutated(keys)), parseCosignerVerifier);
  check(t, 'parseSigner', fc.oneof(anyString, mutated(skeys)), (s) => parseSigner(s));
  check(t, 'parseSigner (node)', mutated(skeys), (s) => parseSigner(s, nodeEd25519));
});

const backends: [string, Ed25519][] = [
  ['noble', nobleEd25519],
  ['node', nodeEd25519],
];

t.test('note, checkpoint and cosignature parsers', async (t) => {
  check(t, 'parseNote', fc.oneof(anyString, mutated(notes)), parseNote);
  check(t, 'parseCheckpoint', fc.oneof(anyString, mutated(bodies)), parseCheckpoint);
  check(t, 'parseCosignature', fc.oneof(anyString, mutated(lines)), parseCosignature);
  for (const [name, ed] of backends) {
    check(t, `openNote (${name})`, fc.oneof(anyString, mutated(notes)), (s) => openNote(s, [logV, witnessV, parseVerifier(ref.goNoteExample.vkey)], { ed }));
    check(t, `openCheckpoint (${name})`, mutated(notes), (s) => openCheckpoint(s, logV, ed));
    check(t, `verifyCosignatures (${name})`, mutated(notes), (s) => verifyCosignatures(s, [witnessV], ed));
    check(t, `verifyCosignature line (${name})`, mutated(lines), (s) => verifyCosignature(ref.checkpointText, s, witnessV, ed));
    check(t, `verifyCosignature body (${name})`, mutated(bodies), (s) => verifyCosignature(s, ref.cosignatureLine, witnessV, ed));
  }
});

t.test('notes as bytes', async (t) => {
  const valid = notes.map((n) => utf8(n));
  const flipped = fc
    .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([b, changes]) => {
      const out = b.slice();
      for (const [i, v] of changes) out[i % out.length] = v;
      return out;
    });
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), flipped), (b) => typedOnly(() => openNote(b, [logV, witnessV]))),
        { numRuns: RUNS },
      ),
    'openNote(bytes): only typed errors',
  );
});

t.test('the fuzzer reaches the interesting paths', async (t) => {
  // Mutations must sometimes still parse, or the fuzz above only tests the first check.
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(mutated(keys), (s) => {
      try {
        parseVerifier(s);
        accepted++;
      } catch {
        rejected++;
      }
    }),
    { numRuns: 300, seed: 1 },
  );
  t.ok(rejected > 0, `mutated vkeys are rejected (${rejected})`);
  let opened = 0;
  fc.assert(
    fc.property(mutated(notes), (s) => {
      try {
        openNote(s, [logV, witnessV, parseVerifier(ref.goNoteExample.vkey)]);
        opened++;
      } catch {
        // counted below
      }
    }),
    { numRuns: 300, seed: 2 },
  );
  t.ok(accepted > 0, `some mutated vkeys still parse (no-op edits): ${accepted}`);
  t.ok(opened > 0, `some mutated notes still open (edits in unknown lines or no-ops): ${opened}`);
});
