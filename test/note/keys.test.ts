/**
 * src/note/keys.ts: vkey/skey parsing and formatting, key IDs and names
 * (c2sp.org/signed-note; docs/formats.md §2, §5).
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode, hexEncode } from '../../src/encoding.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import {
  checkKeyName,
  computeKeyId,
  cosignerVerifier,
  formatKeyId,
  formatSigner,
  formatVerifier,
  generateSigner,
  makeVerifier,
  parseCosignerVerifier,
  parseSigner,
  parseVerifier,
  signerFromSeed,
  TYPE_COSIGNATURE,
  TYPE_ED25519,
  verifierFromSigner,
} from '../../src/note/index.js';


function throwsTyped(t: Test, fn: () => unknown, cls: typeof MalformedError | typeof InvalidError, field: string, label: string): Error | undefined {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  t.ok(thrown instanceof cls, `${label}: want ${cls.name}, got ${String(thrown)}`);
  t.ok(thrown instanceof Error && thrown.message.includes(field), `${label}: message names "${field}", got ${String(thrown)}`);
  return thrown instanceof Error ? thrown : undefined;
}

/** A printable label: TAP output must not carry raw line separators or control characters. */
function esc(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const LOG_VKEY = 'log.example.com/vitrine+eac8b8a6+AWbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn';

t.test('key ID is SHA-256(name || 0x0A || type || key)[:4], big-endian', async (t) => {
  const v = parseVerifier(LOG_VKEY);
  for (const type of [TYPE_ED25519, TYPE_COSIGNATURE]) {
    const h = createHash('sha256').update(v.name).update(Buffer.from([0x0a, type])).update(v.publicKey).digest();
    t.equal(computeKeyId(v.name, type, v.publicKey), h.readUInt32BE(0), `node:crypto agrees for type ${type}`);
  }
  t.equal(formatKeyId(0), '00000000', 'zero is padded to 8 digits');
  t.equal(formatKeyId(0xffffffff), 'ffffffff', 'largest key ID');
  t.equal(formatKeyId(0x0a0b0c0d), '0a0b0c0d', 'leading zero kept');
});

t.test('key names', async (t) => {
  for (const ok of ['a', 'log.example.com/vitrine', 'ünïcödé/名前', 'emoji-🔑', 'a\u200bb' /* zero width space is not White_Space */]) {
    t.doesNotThrow(() => checkKeyName(ok), `${esc(ok)} is a valid name`);
  }
  const bad: [string, string][] = [
    ['', 'must not be empty'],
    ['a+b', 'must not contain "+"'],
    ['a b', 'white space'],
    ['a\tb', 'white space'],
    ['a\nb', 'white space'],
    ['a\u00a0b', 'white space'],
    ['a\u0085b', 'white space'],
    ['a\u2028b', 'white space'],
    ['a\u3000b', 'white space'],
    ['a\ud800b', 'lone surrogate'],
  ];
  for (const [name] of bad) throwsTyped(t, () => checkKeyName(name, 'my field'), MalformedError, 'my field: ', `${esc(name)} field`);
  for (const [name, rule] of bad) throwsTyped(t, () => checkKeyName(name, 'my field'), MalformedError, rule, `${esc(name)} rule`);
});

t.test('vkeys split on the first two "+" only', async (t) => {
  t.ok(LOG_VKEY.split('+').length > 3, 'the reference vkey has a "+" inside its base64, so the split rule is exercised');
  const v = parseVerifier(LOG_VKEY);
  t.equal(v.name, 'log.example.com/vitrine', 'name');
  t.equal(formatKeyId(v.keyId), 'eac8b8a6', 'key ID');
  t.equal(v.type, TYPE_ED25519, 'type');
  t.equal(v.publicKey.length, 32, '32-byte key');
  t.equal(formatVerifier(v), LOG_VKEY, 'round trip');
  t.ok(Object.isFrozen(v), 'verifiers are immutable');
});

t.test('cosigner keys accept both type bytes', async (t) => {
  const s = generateSigner('witness.example/w');
  const as01 = formatVerifier(verifierFromSigner(s));
  const as04 = formatVerifier(cosignerVerifier(s));
  t.match(as01, /^witness\.example\/w\+[0-9a-f]{8}\+A/, 'type-0x01 vkey base64 starts with "A" (0x01)');
  t.match(as04, /^witness\.example\/w\+[0-9a-f]{8}\+B/, 'type-0x04 vkey base64 starts with "B" (0x04)');
  const a = parseCosignerVerifier(as01);
  const b = parseCosignerVerifier(as04);
  t.equal(a.type, TYPE_COSIGNATURE, '0x01 form becomes type 0x04');
  t.equal(a.keyId, b.keyId, 'same key ID either way');
  t.equal(a.keyId, computeKeyId(s.name, TYPE_COSIGNATURE, s.publicKey), 'ID recomputed for type 0x04');
  t.not(a.keyId, parseVerifier(as01).keyId, 'the type-0x01 ID differs');
  t.equal(parseVerifier(as04).type, TYPE_COSIGNATURE, 'parseVerifier keeps type 0x04 as written');
  t.equal(cosignerVerifier(b), b, 'cosignerVerifier of a type-0x04 key is itself');
});

t.test('signers: generate, format, parse, derive', async (t) => {
  const a = generateSigner('log.example/a');
  const b = generateSigner('log.example/a', nodeEd25519);
  t.notSame(a.seed, b.seed, 'two generated seeds differ');
  t.equal(a.seed.length, 32, '32-byte seed');
  const skey = formatSigner(a);
  t.match(skey, /^PRIVATE\+KEY\+log\.example\/a\+[0-9a-f]{8}\+AQ|^PRIVATE\+KEY\+log\.example\/a\+[0-9a-f]{8}\+A[R-Za-f]/, 'skey layout');
  const back = parseSigner(skey);
  t.same(back.seed, a.seed, 'seed round trip');
  t.same(back.publicKey, a.publicKey, 'public key derived again');
  t.equal(back.keyId, a.keyId, 'key ID');
  t.equal(parseSigner(`${skey}\n`).keyId, a.keyId, 'one trailing newline (the file form) is accepted');
  throwsTyped(t, () => parseSigner(`${skey}\n\n`), MalformedError, 'skey key', 'two trailing newlines are rejected');
  const vkey = formatVerifier(verifierFromSigner(back));
  t.same(parseVerifier(vkey).publicKey, a.publicKey, 'vkey derived from the skey parses to the same key');
  t.equal(signerFromSeed('log.example/a', a.seed, nodeEd25519).keyId, a.keyId, 'node backend derives the same key');
});

t.test('skeys split on the first four "+" only', async (t) => {
  // Find a seed whose base64 holds a "+", so a naive split would break.
  let s;
  for (let i = 0; ; i++) {
    s = signerFromSeed('n', new Uint8Array(32).fill(i));
    if (formatSigner(s).split('+').length > 5) break;
  }
  t.ok(formatSigner(s).split('+').length > 5, 'test key has a "+" in its base64');
  t.same(parseSigner(formatSigner(s)).seed, s.seed, 'parsed correctly');
});

function seedNeverShows(t: Test, s: ReturnType<typeof generateSigner>): void {
  const seedB64 = b64encode(s.seed);
  const seedHex = hexEncode(s.seed);
  const skey = formatSigner(s);
  // The key's base64 may itself hold a "+", so split on the first four only.
  const secretPart = skey.split('+').slice(4).join('+');
  t.equal(secretPart.length, 44, 'the secret part of the skey is whole');
  t.notOk(Object.keys(s).includes('seed'), 'seed is not enumerable');
  t.notMatch(JSON.stringify(s), seedB64, 'JSON has no base64 seed');
  t.notOk(JSON.stringify(s).includes('"seed"'), 'JSON has no seed field');
  t.notOk(inspect(s).includes('seed'), 'util.inspect shows no seed');
  t.notOk(inspect(s, { depth: 5 }).includes(seedHex), 'util.inspect shows no seed bytes');
  // Error messages from broken skeys carry no key material.
  const broken = [
    skey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'),
    skey.slice(0, -2),
    `${skey}x`,
    skey.replace('+A', '+B'),
    skey.replace('PRIVATE+KEY+', 'PRIVATE+KEY+a b'),
  ];
  for (const k of broken) {
    let msg = '';
    try {
      parseSigner(k);
    } catch (err) {
      msg = (err as Error).message;
    }
    t.ok(msg.length > 0, `broken skey rejected: ${msg}`);
    t.notOk(msg.includes(secretPart.slice(4, 20)) || msg.includes(seedHex.slice(0, 16)), `message carries no key material: ${msg}`);
  }
}

t.test('the seed never shows', async (t) => {
  seedNeverShows(t, generateSigner('secret.example/k'));
  // A seed whose base64 has a "+" among its last characters: splitting the
  // skey on its last "+" would cut the secret short (a flaky test once did).
  let s;
  for (let i = 0; ; i++) {
    s = signerFromSeed('secret.example/k', new Uint8Array(32).fill(i));
    if (formatSigner(s).slice(-6).includes('+')) break;
  }
  seedNeverShows(t, s);
});

t.test('makeVerifier checks its parts', async (t) => {
  const s = generateSigner('x');
  t.equal(makeVerifier('x', TYPE_ED25519, s.publicKey).keyId, s.keyId, 'computes the key ID');
  throwsTyped(t, () => makeVerifier('x y', TYPE_ED25519, s.publicKey), MalformedError, 'verifier key name', 'bad name');
  throwsTyped(t, () => makeVerifier('x', 0x02 as never, s.publicKey), MalformedError, 'verifier key type', 'bad type');
  throwsTyped(t, () => makeVerifier('x', TYPE_ED25519, new Uint8Array(32)), InvalidError, 'verifier public key', 'small-order key');
  throwsTyped(t, () => makeVerifier('x', TYPE_ED25519, new Uint8Array(31)), MalformedError, 'verifier public key', 'short key');
});

t.test('vkey errors name the field', async (t) => {
  throwsTyped(t, () => parseVerifier(''), MalformedError, 'vkey', 'empty string');
  throwsTyped(t, () => parseVerifier('name'), MalformedError, 'vkey: want', 'no "+"');
  throwsTyped(t, () => parseVerifier('a+b'), MalformedError, 'vkey: want', 'one "+"');
  throwsTyped(t, () => parseVerifier(42 as never), MalformedError, 'vkey: must be a string', 'not a string');
  throwsTyped(t, () => parseVerifier(LOG_VKEY.replace('eac8b8a6', 'eac8b8a7')), InvalidError, 'vkey key ID: eac8b8a7 does not match', 'wrong ID');
  throwsTyped(t, () => parseSigner(''), MalformedError, 'skey', 'empty skey');
  throwsTyped(t, () => parseSigner(7 as never), MalformedError, 'skey: must be a string', 'skey not a string');
  throwsTyped(t, () => parseSigner('PRIVATE+KEY+name'), MalformedError, 'skey: want', 'skey missing parts');
  throwsTyped(t, () => formatVerifier({ ...parseVerifier(LOG_VKEY), name: 'a b' }), MalformedError, 'verifier key name', 'formatVerifier checks the name');
  throwsTyped(t, () => signerFromSeed('n', new Uint8Array(31)), MalformedError, 'signer seed', 'short seed');
  throwsTyped(t, () => generateSigner('bad name'), MalformedError, 'signer key name', 'generateSigner checks the name');
});
