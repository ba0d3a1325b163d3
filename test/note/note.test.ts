/**
 * src/note/note.ts: signing and opening signed notes (c2sp.org/signed-note,
 * docs/formats.md §2), beyond the vector cases in vectors.test.ts.
 */
import t, { type Test } from 'tap';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode, concatBytes, utf8 } from '../../src/encoding.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import {
  appendSignatures,
  cosign,
  cosignerVerifier,
  formatSignature,
  generateSigner,
  MAX_SIGNATURES,
  openNote,
  parseNote,
  parseSignature,
  signerFromSeed,
  signNote,
  verifierFromSigner,
  type Verifier,
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

const alice = signerFromSeed('alice.example/a', new Uint8Array(32).fill(1));
const bob = signerFromSeed('bob.example/b', new Uint8Array(32).fill(2));
const A = verifierFromSigner(alice);
const B = verifierFromSigner(bob);

const backends: [string, Ed25519][] = [
  ['noble', nobleEd25519],
  ['node', nodeEd25519],
];

for (const [name, ed] of backends) {
  t.test(`sign and open with several keys (${name})`, async (t) => {
    const note = signNote('hello\nworld\n', [alice, bob], ed);
    t.equal(note.split('\n— ').length, 3, 'two signature lines');
    t.ok(note.startsWith('hello\nworld\n\n— alice.example/a '), 'text, blank line, first signer first');
    const both = openNote(note, [A, B], { ed });
    t.same(both.signatures.map((s) => s.name), ['alice.example/a', 'bob.example/b'], 'both verified, in note order');
    t.equal(both.unverified.length, 0, 'nothing unverified');
    const onlyBob = openNote(note, [B], { ed });
    t.same(onlyBob.signatures.map((s) => s.name), ['bob.example/b'], 'only the known key is verified');
    t.same(onlyBob.unverified.map((s) => s.name), ['alice.example/a'], 'the other line is kept as unverified');
    t.equal(formatSignature(onlyBob.unverified[0]!), note.split('\n').find((l) => l.startsWith('— alice'))! + '\n', 'unverified line re-formats byte for byte');
    t.equal(onlyBob.signatures[0]!.verifier, B, 'the verifier that matched is returned');
    t.equal(onlyBob.signatures[0]!.timestamp, undefined, 'no timestamp on an Ed25519 signature');
  });
}

t.test('note text rules when signing', async (t) => {
  throwsTyped(t, () => signNote('', [alice]), MalformedError, 'note text: must not be empty', 'empty text');
  throwsTyped(t, () => signNote('no newline', [alice]), MalformedError, 'note text: must end with a newline', 'no final newline');
  throwsTyped(t, () => signNote('a\r\n', [alice]), MalformedError, 'note text: carriage return', 'CR');
  throwsTyped(t, () => signNote('a\u0000\n', [alice]), MalformedError, 'note text: NUL byte', 'NUL');
  throwsTyped(t, () => signNote('a\u001b\n', [alice]), MalformedError, 'note text: control character U+001B', 'ESC');
  throwsTyped(t, () => signNote('a\ud800\n', [alice]), MalformedError, 'note text: not well-formed Unicode', 'lone surrogate');
  throwsTyped(t, () => signNote('a\n', []), MalformedError, 'signers: at least one', 'no signer');
  throwsTyped(t, () => signNote('a\n', Array(MAX_SIGNATURES + 1).fill(alice)), MalformedError, 'signers: more than 100', '101 signers');
  t.equal(parseNote(signNote('a\n', Array(MAX_SIGNATURES).fill(alice))).signatures.length, 100, '100 signers are fine');
});

t.test('texts the spec allows', async (t) => {
  for (const text of ['a\n\nb\n', 'a\n\n', '\ufeffbom\n', 'del \u007f and c1 \u0085 and ls \u2028\n', '\n', 'emoji 🔑\n']) {
    const label = JSON.stringify(text).replace(/[^\x20-\x7e]/g, '?');
    const note = signNote(text, [alice]);
    t.equal(openNote(note, [A]).text, text, `${label}: text round trip (string)`);
    t.equal(openNote(utf8(note), [A]).text, text, `${label}: text round trip (bytes)`);
  }
});

t.test('verification failures', async (t) => {
  const note = signNote('msg\n', [alice]);
  throwsTyped(t, () => openNote(note, []), InvalidError, 'note: no valid signature by a known key (known: none given)', 'no verifiers');
  throwsTyped(t, () => openNote(note, [B]), InvalidError, 'known: bob.example/b+', 'unknown signer only');
  // Same name and key ID, other key: a collision the spec says to reject, not to ignore.
  const impostor: Verifier = { ...A, publicKey: B.publicKey };
  throwsTyped(t, () => openNote(note, [impostor]), InvalidError, 'note signature by alice.example/a+', 'same name+ID, wrong key');
  throwsTyped(t, () => openNote(note, [A, impostor]), InvalidError, 'verifiers: two different keys share the name and key ID', 'ambiguous verifiers');
  t.equal(openNote(note, [A, A]).signatures.length, 1, 'the same verifier twice is not ambiguous');
  // A known line that fails rejects, even when another known key verified.
  const ab = signNote('msg\n', [alice, bob]);
  // Change base64 character 30: inside the signature, past the key ID (characters 0-5).
  const tampered = ab.replace(/(— bob\.example\/b .{30})(.)/, (_, p: string, c: string) => p + (c === 'A' ? 'B' : 'A'));
  t.not(tampered, ab, 'tampered note differs');
  throwsTyped(t, () => openNote(tampered, [A, B]), InvalidError, 'note signature by bob.example/b+', 'bad second known line');
  t.equal(openNote(tampered, [A]).signatures.length, 1, 'the same tampered line is ignored when bob is unknown');
});

t.test('signature lines of a cosigner key are verified as cosignatures', async (t) => {
  const log = signerFromSeed('log.example/l', new Uint8Array(32).fill(3));
  const w = signerFromSeed('w.example/w', new Uint8Array(32).fill(4));
  const body = 'log.example/l\n1\n' + b64encode(new Uint8Array(32)) + '\n';
  const note = signNote(body, [log]) + cosign(body, w, 1234n);
  const opened = openNote(note, [verifierFromSigner(log), cosignerVerifier(w)]);
  t.equal(opened.signatures.length, 2, 'both verified');
  t.equal(opened.signatures[1]!.timestamp, 1234n, 'cosignature timestamp');
  // The witness's type-0x01 key has another key ID: its cosignature line is unknown to it.
  const as01 = openNote(note, [verifierFromSigner(log), verifierFromSigner(w)]);
  t.equal(as01.signatures.length, 1, 'a type-0x01 verifier does not match a type-0x04 line');
  t.equal(as01.unverified.length, 1, 'the cosignature is unverified then');
});

t.test('parseNote syntax', async (t) => {
  const note = signNote('x\n', [alice]);
  const parsed = parseNote(note);
  t.equal(parsed.text, 'x\n', 'text');
  t.equal(parsed.signatures[0]!.keyId, A.keyId, 'key ID from the payload');
  t.equal(parsed.signatures[0]!.signature.length, 64, '64-byte signature after the key ID');
  throwsTyped(t, () => parseNote(42 as never), MalformedError, 'note: must be a string or bytes', 'not a note');
  throwsTyped(t, () => parseNote('x\n\n\u2014 a\n'), MalformedError, 'note signature line 1', 'no space after name');
  throwsTyped(t, () => parseNote('x\n\n\u2014  AAAAAAA=\n'), MalformedError, 'note signature line 1 key name: must not be empty', 'empty name');
  throwsTyped(t, () => parseNote('x\n\n\u2014 a AAAAAAA= \n'), MalformedError, 'note signature line 1 signature', 'trailing space');
  throwsTyped(t, () => parseNote('x\n\n\u2014 a \n'), MalformedError, 'note signature line 1 signature', 'empty base64');
  t.equal(parseNote('x\n\n\u2014 a AAAAAAA=\n').signatures[0]!.signature.length, 1, 'five bytes is the minimum payload');
  throwsTyped(t, () => parseNote(new Uint8Array([0x78, 0x0a, 0x0a, 0xc3])), MalformedError, 'note: not valid UTF-8', 'truncated UTF-8');
});

t.test('parseSignature and appendSignatures', async (t) => {
  const note = signNote('x\n', [alice]);
  const line = signNote('x\n', [bob]).slice(3);
  t.equal(parseSignature(line).name, 'bob.example/b', 'line with newline');
  t.equal(parseSignature(line.slice(0, -1)).name, 'bob.example/b', 'line without newline');
  throwsTyped(t, () => parseSignature(line + line), MalformedError, 'signature line: must be a single line', 'two lines');
  throwsTyped(t, () => parseSignature('junk'), MalformedError, 'signature line: must start with an em dash', 'junk');
  const both = appendSignatures(note, [line]);
  t.equal(openNote(both, [A, B]).signatures.length, 2, 'appended line verifies');
  throwsTyped(t, () => appendSignatures(note, [line.slice(0, -1)]), MalformedError, 'signature line 1: must end with a newline', 'no newline');
  throwsTyped(t, () => appendSignatures(note, ['— x !!!!\n']), MalformedError, 'signature line 1 signature', 'bad base64');
  throwsTyped(t, () => appendSignatures('x\n', [line]), MalformedError, 'note: no blank line', 'not a signed note');
  throwsTyped(t, () => appendSignatures(note, Array(MAX_SIGNATURES).fill(line)), MalformedError, 'note signatures: more than the limit', '101 lines');
});

t.test('an unknown line with a too-short payload is malformed even if ignorable', async (t) => {
  const note = signNote('x\n', [alice]) + `\u2014 other ${b64encode(concatBytes(new Uint8Array([1, 2, 3, 4])))}\n`;
  throwsTyped(t, () => openNote(note, [A]), MalformedError, 'note signature line 2 signature: must hold a 4-byte key ID', 'four-byte payload');
});

t.test('generated keys sign and verify on both backends', async (t) => {
  const s = generateSigner('fresh.example/k', nodeEd25519);
  const note = signNote('fresh\n', [s], nobleEd25519);
  t.equal(openNote(note, [verifierFromSigner(s)], { ed: nodeEd25519 }).signatures.length, 1, 'noble-signed, node-verified');
  t.equal(signNote('fresh\n', [s], nodeEd25519), note, 'node signs identically');
});
