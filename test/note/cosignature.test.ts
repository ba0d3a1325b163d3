/**
 * src/note/cosignature.ts: c2sp.org/tlog-cosignature v1 (docs/formats.md §5),
 * beyond the reference line checked in vectors.test.ts.
 */
import t, { type Test } from 'tap';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode, MAX_INT63 } from '../../src/encoding.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import {
  cosign,
  cosignatureMessage,
  cosignerVerifier,
  formatCheckpoint,
  openCheckpoint,
  parseCosignature,
  signCheckpoint,
  signerFromSeed,
  verifierFromSigner,
  verifyCosignature,
  verifyCosignatures,
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

const ORIGIN = 'log.example/l';
const log = signerFromSeed(ORIGIN, new Uint8Array(32).fill(1));
const w1 = signerFromSeed('w1.example/w', new Uint8Array(32).fill(2));
const w2 = signerFromSeed('w2.example/w', new Uint8Array(32).fill(3));
const w3 = signerFromSeed('w3.example/w', new Uint8Array(32).fill(4));
const body = formatCheckpoint({ origin: ORIGIN, size: 5n, rootHash: new Uint8Array(32).fill(7) });
const signed = signCheckpoint({ origin: ORIGIN, size: 5n, rootHash: new Uint8Array(32).fill(7) }, log);

const backends: [string, Ed25519][] = [
  ['noble', nobleEd25519],
  ['node', nodeEd25519],
];

t.test('signed message layout', async (t) => {
  t.equal(
    new TextDecoder().decode(cosignatureMessage(body, 1700000000n)),
    `cosignature/v1\ntime 1700000000\n${body}`,
    'header line, time line, then the checkpoint text',
  );
  const sig = nodeEd25519.sign(w1.seed, cosignatureMessage(body, 42n));
  const line = cosign(body, w1, 42n, nodeEd25519);
  const p = parseCosignature(line);
  t.equal(p.timestamp, 42n, 'timestamp field');
  t.equal(b64encode(p.signature), b64encode(sig), 'signature = Ed25519 over the message, made independently with node:crypto');
  t.equal(p.keyId, cosignerVerifier(w1).keyId, 'type-0x04 key ID');
  t.equal(p.name, 'w1.example/w', 'name');
});

for (const [name, ed] of backends) {
  t.test(`quorum inputs (${name})`, async (t) => {
    const note = signed + cosign(body, w2, 20n, ed) + cosign(body, w1, 10n, ed);
    const got = verifyCosignatures(note, [w1, w2, w3].map(verifierFromSigner), ed);
    t.same(
      got.map((c) => [c.witness.name, c.timestamp]),
      [
        ['w2.example/w', 20n],
        ['w1.example/w', 10n],
      ],
      'the witnesses that cosigned, in note order, with their timestamps; w3 did not cosign',
    );
    t.equal(got[0]!.witness.type, 0x04, 'witnesses are reported as type-0x04 verifiers');
    t.same(verifyCosignatures(note, [cosignerVerifier(w1), cosignerVerifier(w1), verifierFromSigner(w1)], ed).length, 1, 'a witness listed several times counts once');
    t.same(verifyCosignatures(note, [], ed), [], 'no witnesses, no cosignatures');
    t.same(verifyCosignatures(signed, [cosignerVerifier(w1)], ed), [], 'no cosignature lines');
    const dup = note + cosign(body, w1, 10n, ed);
    t.equal(verifyCosignatures(dup, [cosignerVerifier(w1)], ed).length, 1, 'an identical repeated line counts once');
    const again = note + cosign(body, w1, 11n, ed);
    const two = verifyCosignatures(again, [cosignerVerifier(w1)], ed);
    t.equal(two.length, 1, 'two valid cosignatures by one witness count once');
    t.equal(two[0]!.timestamp, 10n, 'the first line is the one reported');
  });
}

t.test('a failing cosignature of a listed witness rejects', async (t) => {
  const other = formatCheckpoint({ origin: ORIGIN, size: 6n, rootHash: new Uint8Array(32).fill(7) });
  const note = signed + cosign(body, w1, 10n) + cosign(other, w2, 10n);
  t.equal(verifyCosignatures(note, [cosignerVerifier(w1)]).length, 1, 'w2 is not listed: its bad line is ignored');
  throwsTyped(t, () => verifyCosignatures(note, [cosignerVerifier(w1), cosignerVerifier(w2)]), InvalidError, 'note signature by w2.example/w+', 'w2 listed');
});

t.test('verifyCosignatures does not check the log signature', async (t) => {
  const brokenLog = signed.replace(/(— log\.example\/l .{30})(.)/, (_, p: string, c: string) => p + (c === 'A' ? 'B' : 'A'));
  const note = brokenLog + cosign(body, w1, 10n);
  t.equal(verifyCosignatures(note, [cosignerVerifier(w1)]).length, 1, 'cosignatures verify on their own');
  throwsTyped(t, () => openCheckpoint(note, verifierFromSigner(log)), InvalidError, 'note signature by log.example/l+', 'openCheckpoint catches the log signature');
});

t.test('cosign input rules', async (t) => {
  throwsTyped(t, () => cosign(body, w1, 0n), MalformedError, 'cosignature timestamp: must be positive', 'timestamp 0');
  throwsTyped(t, () => cosign(body, w1, -1), MalformedError, 'cosignature timestamp', 'timestamp -1');
  throwsTyped(t, () => cosign(body, w1, MAX_INT63 + 1n), MalformedError, 'cosignature timestamp: exceeds 2^63-1', 'timestamp 2^63');
  throwsTyped(t, () => cosign(body, w1, 1.5), MalformedError, 'cosignature timestamp: must be a whole number', 'fractional timestamp');
  throwsTyped(t, () => cosign('not a checkpoint\n', w1, 1n), MalformedError, 'checkpoint', 'not a checkpoint');
  throwsTyped(t, () => cosign(signed, w1, 1n), MalformedError, 'checkpoint', 'a signed note instead of the body');
  const max = cosign(body, w1, MAX_INT63);
  t.equal(verifyCosignature(body, max, cosignerVerifier(w1)).timestamp, MAX_INT63, 'timestamp 2^63-1 round trips');
});

t.test('verifyCosignature of one line', async (t) => {
  const line = cosign(body, w1, 77n);
  t.equal(verifyCosignature(body, line, verifierFromSigner(w1)).timestamp, 77n, 'type-0x01 witness key accepted');
  t.equal(verifyCosignature(body, line.slice(0, -1), cosignerVerifier(w1)).timestamp, 77n, 'line without newline accepted');
  throwsTyped(t, () => verifyCosignature(body, line, cosignerVerifier(w2)), InvalidError, 'cosignature line: signed by w1.example/w+', 'other witness');
  throwsTyped(t, () => verifyCosignature(body, signed.slice(body.length + 1), cosignerVerifier(log)), MalformedError, 'cosignature line signature', 'an Ed25519 note signature is not a cosignature');
});
