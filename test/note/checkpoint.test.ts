/**
 * src/note/checkpoint.ts: c2sp.org/tlog-checkpoint bodies (docs/formats.md §3),
 * their canonical form, and opening signed checkpoints.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode, bytesEqual, MAX_INT63 } from '../../src/encoding.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import {
  cosign,
  cosignerVerifier,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  signerFromSeed,
  signNote,
  verifierFromSigner,
} from '../../src/note/index.js';


function throwsTyped(t: Test, fn: () => unknown, cls: typeof MalformedError | typeof InvalidError, field: string, label: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  t.ok(thrown instanceof cls, `${label}: want ${cls.name}, got ${String(thrown)}`);
  t.ok(thrown instanceof Error && thrown.message.includes(field), `${label}: message names "${field}", got ${String(thrown)}`);
}

const ORIGIN = 'log.example.com/vitrine';
const root = new Uint8Array(32).map((_, i) => i);
const log = signerFromSeed(ORIGIN, new Uint8Array(32).fill(0x11));
const logV = verifierFromSigner(log);

t.test('format and parse', async (t) => {
  const text = formatCheckpoint({ origin: ORIGIN, size: 8n, rootHash: root });
  t.equal(text, `${ORIGIN}\n8\n${b64encode(root)}\n`, 'canonical text');
  t.equal(formatCheckpoint({ origin: ORIGIN, size: 8, rootHash: root }), text, 'number size gives the same text');
  const c = parseCheckpoint(text);
  t.equal(c.origin, ORIGIN, 'origin');
  t.equal(c.size, 8n, 'size is a bigint');
  t.ok(bytesEqual(c.rootHash, root), 'root hash');
  t.same(c.extensions, [], 'no extensions');
  const ext = formatCheckpoint({ origin: ORIGIN, size: MAX_INT63, rootHash: root, extensions: ['a b', '— c'] });
  t.equal(ext, `${ORIGIN}\n9223372036854775807\n${b64encode(root)}\na b\n— c\n`, 'extension lines written in order');
  t.same(parseCheckpoint(ext).extensions, ['a b', '— c'], 'extension lines preserved');
  t.equal(parseCheckpoint(`origin with space\n0\n${b64encode(root)}\n`).origin, 'origin with space', 'origins are opaque: spaces allowed');
});

t.test('format rejects what parse would reject', async (t) => {
  const ok = { origin: ORIGIN, size: 1n, rootHash: root };
  throwsTyped(t, () => formatCheckpoint({ ...ok, origin: '' }), MalformedError, 'checkpoint origin', 'empty origin');
  throwsTyped(t, () => formatCheckpoint({ ...ok, origin: 'a\nb' }), MalformedError, 'checkpoint origin: must be a single line', 'origin with newline');
  throwsTyped(t, () => formatCheckpoint({ ...ok, origin: 'a\rb' }), MalformedError, 'checkpoint origin: carriage return', 'origin with CR');
  throwsTyped(t, () => formatCheckpoint({ ...ok, size: -1n }), MalformedError, 'checkpoint tree size', 'size -1');
  throwsTyped(t, () => formatCheckpoint({ ...ok, size: MAX_INT63 + 1n }), MalformedError, 'checkpoint tree size', 'size 2^63');
  throwsTyped(t, () => formatCheckpoint({ ...ok, size: 1.5 }), MalformedError, 'checkpoint tree size', 'fractional size');
  throwsTyped(t, () => formatCheckpoint({ ...ok, size: 2 ** 53 }), MalformedError, 'checkpoint tree size', 'unsafe number size');
  throwsTyped(t, () => formatCheckpoint({ ...ok, size: '1' as never }), MalformedError, 'checkpoint tree size', 'string size');
  throwsTyped(t, () => formatCheckpoint({ ...ok, rootHash: new Uint8Array(31) }), MalformedError, 'checkpoint root hash', '31-byte root');
  throwsTyped(t, () => formatCheckpoint({ ...ok, extensions: [''] }), MalformedError, 'checkpoint extension line 1', 'empty extension');
  throwsTyped(t, () => formatCheckpoint({ ...ok, extensions: ['x', 'a\nb'] }), MalformedError, 'checkpoint extension line 2', 'extension with newline');
  throwsTyped(t, () => parseCheckpoint(42 as never), MalformedError, 'checkpoint: must be a string', 'not a string');
  throwsTyped(t, () => parseCheckpoint(''), MalformedError, 'checkpoint', 'empty text');
});

t.test('format(parse(x)) and parse(format(x)) are identities', async (t) => {
  const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\x00-\x1f\ud800-\udfff]/.test(s));
  fc.assert(
    fc.property(line, fc.bigInt({ min: 0n, max: MAX_INT63 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(line, { maxLength: 3 }), (origin, size, rootHash, extensions) => {
      const text = formatCheckpoint({ origin, size, rootHash, extensions });
      const c = parseCheckpoint(text);
      return c.origin === origin && c.size === size && bytesEqual(c.rootHash, rootHash) && JSON.stringify(c.extensions) === JSON.stringify(extensions) && formatCheckpoint(c) === text;
    }),
    { numRuns: 500 },
  );
  t.pass('round trips hold');
});

t.test('sign and open', async (t) => {
  const note = signCheckpoint({ origin: ORIGIN, size: 3n, rootHash: root }, log, nodeEd25519);
  const opened = openCheckpoint(note, logV, nodeEd25519);
  t.equal(opened.size, 3n, 'size');
  t.equal(opened.origin, ORIGIN, 'origin');
  t.equal(opened.text, formatCheckpoint({ origin: ORIGIN, size: 3n, rootHash: root }), 'text');
  t.equal(opened.note.signatures[0]!.verifier, logV, 'verified by the log key');
  t.equal(openCheckpoint(new TextEncoder().encode(note), logV).size, 3n, 'bytes input');
  throwsTyped(t, () => signCheckpoint({ origin: 'other.example/log', size: 3n, rootHash: root }, log), InvalidError, 'checkpoint origin', 'signer name differs from origin');
  throwsTyped(t, () => openCheckpoint(note, cosignerVerifier(log)), InvalidError, 'must be an Ed25519 (type 0x01) key', 'cosigner key as log key');
  const other = verifierFromSigner(signerFromSeed(ORIGIN, new Uint8Array(32).fill(0x12)));
  throwsTyped(t, () => openCheckpoint(note, other), InvalidError, 'note: no valid signature by a known key', 'another key with the same name');
  // The origin check runs on a validly signed note, so it is a separate rule.
  const mismatch = signNote(formatCheckpoint({ origin: 'other.example/log', size: 3n, rootHash: root }), [log]);
  throwsTyped(t, () => openCheckpoint(mismatch, logV), InvalidError, 'checkpoint origin: "other.example/log" does not match the log key name', 'origin mismatch');
  const w = signerFromSeed('w.example/w', new Uint8Array(32).fill(9));
  const cosigned = note + cosign(opened.text, w, 5n);
  const again = openCheckpoint(cosigned, logV);
  t.equal(again.note.unverified.length, 1, 'the cosignature is kept as an unverified line');
});
