/**
 * Generates vectors/note/negative.json and vectors/note/accepted.json from
 * keys-and-checkpoint.json (the independent reference vector, generated with
 * Go's golang.org/x/mod/sumdb/note). Each case applies one named mutation to
 * a valid key, note, checkpoint or cosignature. Mutated checkpoints are
 * re-signed with the log key from the reference vector, so that their
 * signature verifies and only the mutated field can be the reason they are
 * rejected (test/note/vectors.test.ts checks that too).
 *
 * Reproduce with:  npx tsx vectors/note/generate.ts
 * Cross-check the re-signed cases with another Ed25519 implementation:
 *                   python3 vectors/note/crosscheck.py   (needs pyca/cryptography)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { b64decode, b64encode, concatBytes, hexDecode, hexEncode, utf8 } from '../../src/encoding.js';
import {
  computeKeyId,
  cosign,
  formatKeyId,
  signerFromSeed,
  signNote,
  TYPE_COSIGNATURE,
  TYPE_ED25519,
} from '../../src/note/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(readFileSync(join(here, 'keys-and-checkpoint.json'), 'utf8'));

const log = signerFromSeed(ref.log.name, hexDecode(ref.log.seed, 'log seed'));
const witness = signerFromSeed(ref.witness.name, hexDecode(ref.witness.seed, 'witness seed'));
const text: string = ref.checkpointText;
const signed: string = ref.signedCheckpoint;
const logLine = signed.slice(text.length + 1);
const [origin, , root] = text.split('\n') as [string, string, string];

type Kind = 'note' | 'checkpoint-note' | 'checkpoint' | 'vkey' | 'cosigner-vkey' | 'skey' | 'cosignature-line' | 'cosigned-note';
interface Case {
  name: string;
  mutation: string;
  kind: Kind;
  input?: string;
  inputHex?: string;
  error?: 'MalformedError' | 'InvalidError';
  code?: string;
  field?: string;
  expect?: Record<string, unknown>;
}

const negative: Case[] = [];
const accepted: Case[] = [];
function bad(c: Case): void {
  if (negative.some((x) => x.name === c.name)) throw new Error(`duplicate case ${c.name}`);
  negative.push(c);
}
function good(c: Case): void {
  if (accepted.some((x) => x.name === c.name)) throw new Error(`duplicate case ${c.name}`);
  accepted.push(c);
}

/** The payload of a signature line (key ID included), decoded. */
function payloadOf(line: string): Uint8Array {
  return b64decode(line.slice(line.lastIndexOf(' ') + 1, -1), 'line');
}
function lineWith(name: string, payload: Uint8Array): string {
  return `\u2014 ${name} ${b64encode(payload)}\n`;
}
function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const out = bytes.slice();
  out[index]! ^= 0x01;
  return out;
}
function checkpointNote(body: string): string {
  return signNote(body, [log]);
}
function vkeyOf(name: string, type: number, key: Uint8Array, id = computeKeyId(name, type, key)): string {
  return `${name}+${formatKeyId(id)}+${b64encode(concatBytes(new Uint8Array([type]), key))}`;
}
function skeyOf(name: string, type: number, seed: Uint8Array, id: number): string {
  return `PRIVATE+KEY+${name}+${formatKeyId(id)}+${b64encode(concatBytes(new Uint8Array([type]), seed))}`;
}
/** Sets one padding bit of canonical base64 text (its last data character). */
function setPaddingBit(b64: string): string {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  if (pad === 0) throw new Error('no padding');
  const i = b64.length - pad - 1;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return b64.slice(0, i) + alphabet[alphabet.indexOf(b64[i]!) | 1]! + b64.slice(i + 1);
}

// ---- signed notes (opened with the log key) ----
const logPayload = payloadOf(logLine);
bad({
  name: 'note-signature-bit-flipped',
  mutation: 'flip the low bit of byte 10 of the Ed25519 signature (after the key ID)',
  kind: 'note',
  input: text + '\n' + lineWith(log.name, flipBit(logPayload, 4 + 10)),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'note signature by log.example.com/vitrine+eac8b8a6',
});
bad({
  name: 'note-signature-wrong-key-id',
  mutation: 'flip the low bit of the last key ID byte: the line no longer matches the log key and is ignored, leaving no known signature',
  kind: 'note',
  input: text + '\n' + lineWith(log.name, flipBit(logPayload, 3)),
  error: 'InvalidError',
  code: 'unverified-note',
  field: 'note: no valid signature by a known key',
});
bad({
  name: 'note-signature-wrong-name',
  mutation: 'sign with the log key but write another name on the line: unknown line, no known signature',
  kind: 'note',
  input: text + '\n' + lineWith('log.example.com/other', logPayload),
  error: 'InvalidError',
  code: 'unverified-note',
  field: 'note: no valid signature by a known key',
});
bad({
  name: 'note-duplicated-signature-line-bit-flipped',
  mutation:
    'append a second line for the log key whose signature has one flipped bit. Go skips a second line of the same key without checking it; docs/formats.md §2 says a known line that fails rejects the note, and Vitrine follows it',
  kind: 'note',
  input: signed + lineWith(log.name, flipBit(logPayload, 4 + 20)),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'note signature by log.example.com/vitrine+eac8b8a6',
});
bad({
  name: 'note-signature-truncated',
  mutation: 'drop the last byte of the log signature (key ID and 63 bytes): a known line that cannot verify',
  kind: 'note',
  input: text + '\n' + lineWith(log.name, logPayload.subarray(0, logPayload.length - 1)),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'note signature by log.example.com/vitrine+eac8b8a6',
});
{
  const lines: string[] = [];
  for (let i = 0; i < 100; i++) {
    const id = new Uint8Array([0xf0, 0, 0, i]);
    lines.push(lineWith(`unknown.example/k${i}`, concatBytes(id, new Uint8Array(64))));
  }
  bad({
    name: 'note-101-signature-lines',
    mutation: 'append 100 lines of unknown keys after the valid log line (101 lines, limit 100)',
    kind: 'note',
    input: signed + lines.join(''),
    error: 'MalformedError',
    field: 'note signatures',
  });
  good({
    name: 'note-100-signature-lines',
    mutation: 'append 99 lines of unknown keys after the valid log line (exactly the limit of 100)',
    kind: 'note',
    input: signed + lines.slice(0, 99).join(''),
    expect: { signatures: 1, unverified: 99 },
  });
}
bad({
  name: 'note-missing-blank-line',
  mutation: 'remove the blank line between the text and the signature',
  kind: 'note',
  input: text + logLine,
  error: 'MalformedError',
  field: 'note: no blank line',
});
bad({
  name: 'note-no-signature-lines',
  mutation: 'remove the signature line, keep the blank line',
  kind: 'note',
  input: text + '\n',
  error: 'MalformedError',
  field: 'note signatures',
});
bad({
  name: 'note-signature-missing-final-newline',
  mutation: 'remove the newline after the signature line',
  kind: 'note',
  input: signed.slice(0, -1),
  error: 'MalformedError',
  field: 'note signatures',
});
bad({
  name: 'note-cr-in-text',
  mutation: 'end the origin line with CR LF instead of LF',
  kind: 'note',
  input: signed.replace(`${origin}\n`, `${origin}\r\n`),
  error: 'MalformedError',
  field: 'note: carriage return',
});
bad({
  name: 'note-crlf-signature-line',
  mutation: 'end the signature line with CR LF',
  kind: 'note',
  input: signed.slice(0, -1) + '\r\n',
  error: 'MalformedError',
  field: 'note: carriage return',
});
bad({
  name: 'note-nul-byte',
  mutation: 'insert a NUL byte after the origin',
  kind: 'note',
  input: signed.replace(`${origin}\n`, `${origin}\u0000\n`),
  error: 'MalformedError',
  field: 'note: NUL byte',
});
bad({
  name: 'note-tab-in-text',
  mutation: 'insert a tab before the tree size',
  kind: 'note',
  input: signed.replace(`\n8\n`, `\n\t8\n`),
  error: 'MalformedError',
  field: 'note: tab',
});
{
  const bytes = utf8(signed);
  const invalid = concatBytes(bytes.subarray(0, 3), new Uint8Array([0xff]), bytes.subarray(4));
  bad({
    name: 'note-invalid-utf8',
    mutation: 'replace byte 3 of the note with 0xff (never valid in UTF-8); stored as hex',
    kind: 'note',
    inputHex: hexEncode(invalid),
    error: 'MalformedError',
    field: 'note: not valid UTF-8',
  });
  const dash = utf8('\u2014');
  const at = bytes.findIndex((b, i) => b === dash[0] && bytes[i + 1] === dash[1] && bytes[i + 2] === dash[2]);
  const truncatedDash = concatBytes(bytes.subarray(0, at + 2), bytes.subarray(at + 3));
  bad({
    name: 'note-truncated-utf8-em-dash',
    mutation: 'drop the last byte of the em dash (E2 80 94 → E2 80); stored as hex',
    kind: 'note',
    inputHex: hexEncode(truncatedDash),
    error: 'MalformedError',
    field: 'note: not valid UTF-8',
  });
}
bad({
  name: 'note-signature-noncanonical-base64',
  mutation: 'set a padding bit in the last base64 character of the signature (Go accepts it; docs/formats.md §0 requires canonical base64)',
  kind: 'note',
  input: text + '\n' + `\u2014 ${log.name} ${setPaddingBit(b64encode(logPayload))}\n`,
  error: 'MalformedError',
  field: 'note signature line 1 signature: non-canonical base64',
});
bad({
  name: 'note-signature-unpadded-base64',
  mutation: 'remove the "=" padding of the signature',
  kind: 'note',
  input: text + '\n' + `\u2014 ${log.name} ${b64encode(logPayload).replace(/=+$/, '')}\n`,
  error: 'MalformedError',
  field: 'note signature line 1 signature',
});
bad({
  name: 'note-signature-base64url',
  mutation: 'write the signature in the URL-safe base64 alphabet',
  kind: 'note',
  input: text + '\n' + `\u2014 ${log.name} ${b64encode(logPayload).replace(/\+/g, '-').replace(/\//g, '_')}\n`,
  error: 'MalformedError',
  field: 'note signature line 1 signature',
});
bad({
  name: 'note-unknown-line-bad-base64',
  mutation: 'append a line of an unknown key whose base64 is invalid: a malformed line rejects the whole note even if unknown (as in Go)',
  kind: 'note',
  input: signed + '\u2014 unknown.example/k AAAA*AAA\n',
  error: 'MalformedError',
  field: 'note signature line 2 signature',
});
bad({
  name: 'note-signature-payload-4-bytes',
  mutation: 'append a line whose payload is only a 4-byte key ID (Go requires at least 5 bytes)',
  kind: 'note',
  input: signed + lineWith('unknown.example/k', new Uint8Array([1, 2, 3, 4])),
  error: 'MalformedError',
  field: 'note signature line 2 signature: must hold a 4-byte key ID and a signature',
});
bad({
  name: 'note-signature-ascii-dash',
  mutation: 'write the signature line with "--" instead of the em dash',
  kind: 'note',
  input: text + '\n' + logLine.replace('\u2014', '--'),
  error: 'MalformedError',
  field: 'note signature line 1: must start with an em dash',
});
bad({
  name: 'note-signature-name-with-nbsp',
  mutation: 'append a line whose key name contains U+00A0 NO-BREAK SPACE (Unicode White_Space)',
  kind: 'note',
  input: signed + lineWith('unknown.example/a\u00a0b', concatBytes(new Uint8Array(4), new Uint8Array(64))),
  error: 'MalformedError',
  field: 'note signature line 2 key name: must not contain white space',
});
bad({
  name: 'note-signature-name-with-plus',
  mutation: 'append a line whose key name contains "+"',
  kind: 'note',
  input: signed + lineWith('unknown.example/a+b', concatBytes(new Uint8Array(4), new Uint8Array(64))),
  error: 'MalformedError',
  field: 'note signature line 2 key name: must not contain "+"',
});
bad({
  name: 'note-signature-missing-base64',
  mutation: 'append a line with a name but no signature',
  kind: 'note',
  input: signed + '\u2014 unknown.example/k\n',
  error: 'MalformedError',
  field: 'note signature line 2',
});
bad({
  name: 'note-signed-by-unknown-key-only',
  mutation: 'sign the checkpoint with the witness key (type 0x01) instead of the log key',
  kind: 'note',
  input: signNote(text, [witness]),
  error: 'InvalidError',
  code: 'unverified-note',
  field: 'note: no valid signature by a known key',
});
bad({
  name: 'note-text-modified',
  mutation: 'change the tree size from 8 to 9, keep the signature',
  kind: 'note',
  input: signed.replace('\n8\n', '\n9\n'),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'note signature by log.example.com/vitrine+eac8b8a6',
});
good({
  name: 'note-duplicated-identical-signature-line',
  mutation: 'repeat the log signature line byte for byte: accepted, counted once (Go semantics)',
  kind: 'note',
  input: signed + logLine,
  expect: { signatures: 1, unverified: 0 },
});
good({
  name: 'note-unknown-signature-line-preserved',
  mutation: 'append a well-formed line of an unknown key: ignored, returned as unverified',
  kind: 'note',
  input: signed + lineWith('unknown.example/k', concatBytes(new Uint8Array([1, 2, 3, 4]), new Uint8Array(64))),
  expect: { signatures: 1, unverified: 1 },
});
good({
  name: 'note-text-with-blank-line',
  mutation: 'a text with an empty line inside, signed by the log key: the text ends at the last blank line',
  kind: 'note',
  input: signNote('first\n\nsecond\n', [log]),
  expect: { signatures: 1, unverified: 0, text: 'first\n\nsecond\n' },
});

// ---- checkpoints inside signed notes (opened with the log key) ----
function cpBad(name: string, mutation: string, body: string, field: string, error: Case['error'] = 'MalformedError', code?: string): void {
  bad({ name, mutation: `${mutation}; re-signed with the log key`, kind: 'checkpoint-note', input: checkpointNote(body), error, field, ...(code ? { code } : {}) });
}
cpBad('checkpoint-size-leading-zero', 'tree size "8" → "08"', `${origin}\n08\n${root}\n`, 'checkpoint tree size');
cpBad('checkpoint-size-negative', 'tree size "8" → "-1"', `${origin}\n-1\n${root}\n`, 'checkpoint tree size');
cpBad('checkpoint-size-plus-sign', 'tree size "8" → "+8"', `${origin}\n+8\n${root}\n`, 'checkpoint tree size');
cpBad('checkpoint-size-2^63', 'tree size → 9223372036854775808 (2^63)', `${origin}\n9223372036854775808\n${root}\n`, 'checkpoint tree size');
cpBad('checkpoint-size-empty', 'tree size line empty', `${origin}\n\n${root}\n`, 'checkpoint tree size');
cpBad('checkpoint-size-trailing-space', 'tree size "8" → "8 "', `${origin}\n8 \n${root}\n`, 'checkpoint tree size');
{
  const rootBytes = b64decode(root, 'root');
  cpBad('checkpoint-root-31-bytes', 'root hash: drop its last byte (31 bytes)', `${origin}\n8\n${b64encode(rootBytes.subarray(0, 31))}\n`, 'checkpoint root hash');
  cpBad('checkpoint-root-33-bytes', 'root hash: append a zero byte (33 bytes)', `${origin}\n8\n${b64encode(concatBytes(rootBytes, new Uint8Array(1)))}\n`, 'checkpoint root hash');
  cpBad('checkpoint-root-noncanonical-base64', 'root hash: set a padding bit of its base64', `${origin}\n8\n${setPaddingBit(root)}\n`, 'checkpoint root hash: non-canonical base64');
  cpBad('checkpoint-root-hex', 'root hash written in hex', `${origin}\n8\n${hexEncode(rootBytes)}\n`, 'checkpoint root hash');
}
cpBad('checkpoint-origin-empty', 'origin line empty', `\n8\n${root}\n`, 'checkpoint origin');
cpBad('checkpoint-missing-root-line', 'drop the root hash line', `${origin}\n8\n`, 'checkpoint: needs origin, tree size and root hash');
cpBad('checkpoint-empty-extension-line', 'add an empty line then an extension line after the root hash', `${text}\nextension\n`, 'checkpoint extension line 1');
cpBad(
  'checkpoint-origin-mismatch',
  'origin "log.example.com/vitrine" → "log.example.com/other", signed by the log key named log.example.com/vitrine',
  `log.example.com/other\n8\n${root}\n`,
  'checkpoint origin',
  'InvalidError',
  'origin-mismatch',
);
good({
  name: 'checkpoint-with-extension-lines',
  mutation: 'two extension lines after the root hash, re-signed with the log key: accepted and preserved',
  kind: 'checkpoint-note',
  input: checkpointNote(`${text}ext one\next two\n`),
  expect: { size: '8', extensions: ['ext one', 'ext two'] },
});
good({
  name: 'checkpoint-size-zero',
  mutation: 'tree size 0, re-signed with the log key',
  kind: 'checkpoint-note',
  input: checkpointNote(`${origin}\n0\n${root}\n`),
  expect: { size: '0', extensions: [] },
});
good({
  name: 'checkpoint-size-2^63-1',
  mutation: 'tree size 9223372036854775807 (2^63 - 1), re-signed with the log key',
  kind: 'checkpoint-note',
  input: checkpointNote(`${origin}\n9223372036854775807\n${root}\n`),
  expect: { size: '9223372036854775807', extensions: [] },
});

// ---- bare checkpoint bodies ----
bad({ name: 'checkpoint-no-final-newline', mutation: 'drop the final newline', kind: 'checkpoint', input: text.slice(0, -1), error: 'MalformedError', field: 'checkpoint: must end with a newline' });
bad({ name: 'checkpoint-size-hex', mutation: 'tree size "8" → "0x8"', kind: 'checkpoint', input: `${origin}\n0x8\n${root}\n`, error: 'MalformedError', field: 'checkpoint tree size' });
bad({ name: 'checkpoint-size-unicode-digit', mutation: 'tree size "8" → "٨" (ARABIC-INDIC DIGIT EIGHT)', kind: 'checkpoint', input: `${origin}\n\u0668\n${root}\n`, error: 'MalformedError', field: 'checkpoint tree size' });
bad({ name: 'checkpoint-with-signatures', mutation: 'pass the whole signed note as a checkpoint body', kind: 'checkpoint', input: signed, error: 'MalformedError', field: 'checkpoint extension line 1' });

// ---- vkeys ----
const logKey = log.publicKey;
const vkey: string = ref.log.vkey;
const [, logIdText] = vkey.split('+') as [string, string, string];
bad({ name: 'vkey-wrong-key-id', mutation: 'key ID eac8b8a6 → eac8b8a7', kind: 'vkey', input: vkey.replace(logIdText, 'eac8b8a7'), error: 'InvalidError', field: 'vkey key ID' });
bad({ name: 'vkey-key-id-uppercase', mutation: 'key ID written in uppercase hex', kind: 'vkey', input: vkey.replace(logIdText, logIdText.toUpperCase()), error: 'MalformedError', field: 'vkey key ID' });
bad({ name: 'vkey-key-id-7-digits', mutation: 'key ID with 7 hex digits', kind: 'vkey', input: vkey.replace(logIdText, logIdText.slice(1)), error: 'MalformedError', field: 'vkey key ID' });
{
  // y = p = 2^255 - 19 encodes the same point as y = 0 (non-canonical).
  const nonCanonical = hexDecode('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'p');
  bad({ name: 'vkey-noncanonical-point', mutation: 'public key = 2^255-19 (a non-canonical encoding, y ≥ p), with its correct key ID', kind: 'vkey', input: vkeyOf(log.name, TYPE_ED25519, nonCanonical), error: 'InvalidError', field: 'vkey public key' });
  const identity = new Uint8Array(32);
  identity[0] = 1;
  bad({ name: 'vkey-small-order-point', mutation: 'public key = the identity point (small order), with its correct key ID', kind: 'vkey', input: vkeyOf(log.name, TYPE_ED25519, identity), error: 'InvalidError', field: 'vkey public key' });
  const negZero = hexDecode('0100000000000000000000000000000000000000000000000000000000000080', 'nz');
  bad({ name: 'vkey-negative-zero-x', mutation: 'public key = identity with the x sign bit set ("negative zero"), with its correct key ID', kind: 'vkey', input: vkeyOf(log.name, TYPE_ED25519, negZero), error: 'InvalidError', field: 'vkey public key' });
}
bad({ name: 'vkey-name-with-space', mutation: 'name "log.example.com/vitrine" → "log example" (the key ID is recomputed)', kind: 'vkey', input: vkeyOf('log example', TYPE_ED25519, logKey), error: 'MalformedError', field: 'vkey name: must not contain white space' });
bad({ name: 'vkey-name-with-ideographic-space', mutation: 'name contains U+3000 IDEOGRAPHIC SPACE (the key ID is recomputed)', kind: 'vkey', input: vkeyOf('log\u3000example', TYPE_ED25519, logKey), error: 'MalformedError', field: 'vkey name: must not contain white space' });
bad({
  name: 'vkey-name-with-plus',
  mutation: 'name "a+b": the vkey is split on its first two "+", so "b" is read as the key ID and rejected',
  kind: 'vkey',
  input: vkeyOf('a+b', TYPE_ED25519, logKey),
  error: 'MalformedError',
  field: 'vkey key ID',
});
bad({ name: 'vkey-empty-name', mutation: 'empty name', kind: 'vkey', input: vkey.slice(vkey.indexOf('+')), error: 'MalformedError', field: 'vkey name: must not be empty' });
bad({ name: 'vkey-type-0x02', mutation: 'type byte 0x01 → 0x02 (ECDSA, unsupported)', kind: 'vkey', input: vkeyOf(log.name, 0x02, logKey), error: 'MalformedError', field: 'vkey type' });
bad({ name: 'vkey-key-31-bytes', mutation: 'drop the last byte of the public key', kind: 'vkey', input: `${log.name}+${logIdText}+${b64encode(concatBytes(new Uint8Array([1]), logKey.subarray(0, 31)))}`, error: 'MalformedError', field: 'vkey key: must decode to 33 bytes' });
bad({ name: 'vkey-base64url', mutation: 'write the key in the URL-safe base64 alphabet ("/" → "_", "+" → "-")', kind: 'vkey', input: `${log.name}+${logIdText}+${vkey.split('+').slice(2).join('+').replace(/\//g, '_').replace(/\+/g, '-')}`, error: 'MalformedError', field: 'vkey key: invalid base64 character' });
bad({ name: 'vkey-trailing-newline', mutation: 'append a newline', kind: 'vkey', input: `${vkey}\n`, error: 'MalformedError', field: 'vkey key' });
bad({ name: 'vkey-missing-key', mutation: 'drop "+<base64 key>"', kind: 'vkey', input: `${log.name}+${logIdText}`, error: 'MalformedError', field: 'vkey: want <name>+<key ID>+<base64 key>' });
bad({ name: 'vkey-skey', mutation: 'pass the private key where a vkey is expected', kind: 'vkey', input: ref.log.skey, error: 'MalformedError', field: 'vkey key ID' });

// ---- cosigner vkeys ----
good({ name: 'cosigner-vkey-type-0x04', mutation: 'none: the witness vkey as written (type 0x04)', kind: 'cosigner-vkey', input: ref.witness.vkey, expect: { keyId: 'ab327096', type: 4 } });
good({ name: 'cosigner-vkey-type-0x01', mutation: 'the witness key in its type-0x01 form: accepted, key ID recomputed as type 0x04', kind: 'cosigner-vkey', input: ref.witness.vkeyEd25519, expect: { keyId: 'ab327096', type: 4 } });
bad({
  name: 'cosigner-vkey-type-0x01-with-0x04-id',
  mutation: 'type-0x01 witness vkey carrying the type-0x04 key ID ab327096',
  kind: 'cosigner-vkey',
  input: (ref.witness.vkeyEd25519 as string).replace('c909bead', 'ab327096'),
  error: 'InvalidError',
  field: 'vkey key ID',
});

// ---- skeys ----
const skey: string = ref.log.skey;
bad({ name: 'skey-wrong-key-id', mutation: 'key ID eac8b8a6 → eac8b8a7', kind: 'skey', input: skey.replace(logIdText, 'eac8b8a7'), error: 'InvalidError', field: 'skey key ID' });
bad({ name: 'skey-type-0x04', mutation: 'type byte 0x01 → 0x04 (the ID recomputed for type 0x04)', kind: 'skey', input: skeyOf(log.name, TYPE_COSIGNATURE, log.seed, computeKeyId(log.name, TYPE_COSIGNATURE, logKey)), error: 'MalformedError', field: 'skey type' });
bad({ name: 'skey-lowercase-prefix', mutation: '"PRIVATE+KEY+" → "private+key+"', kind: 'skey', input: skey.replace('PRIVATE+KEY+', 'private+key+'), error: 'MalformedError', field: 'skey: must start with "PRIVATE+KEY+"' });
bad({ name: 'skey-seed-31-bytes', mutation: 'drop the last byte of the seed', kind: 'skey', input: `PRIVATE+KEY+${log.name}+${logIdText}+${b64encode(concatBytes(new Uint8Array([1]), log.seed.subarray(0, 31)))}`, error: 'MalformedError', field: 'skey key' });
bad({ name: 'skey-name-with-space', mutation: 'name with a space (the key ID is recomputed)', kind: 'skey', input: skeyOf('log example', TYPE_ED25519, log.seed, computeKeyId('log example', TYPE_ED25519, logKey)), error: 'MalformedError', field: 'skey name: must not contain white space' });
bad({ name: 'skey-crlf', mutation: 'end the key with CR LF', kind: 'skey', input: `${skey}\r\n`, error: 'MalformedError', field: 'skey key' });
bad({ name: 'skey-vkey', mutation: 'pass the vkey where a private key is expected', kind: 'skey', input: vkey, error: 'MalformedError', field: 'skey: must start with "PRIVATE+KEY+"' });
good({ name: 'skey-trailing-newline', mutation: 'the key file form: one trailing newline', kind: 'skey', input: `${skey}\n`, expect: { vkey } });

// ---- cosignature lines (verified over checkpointText with the witness key) ----
const cosigLine: string = ref.cosignatureLine;
const cosigPayload = payloadOf(cosigLine);
function withTimestamp(payload: Uint8Array, ts: bigint): Uint8Array {
  const out = payload.slice();
  new DataView(out.buffer).setBigUint64(4, ts, false);
  return out;
}
bad({ name: 'cosignature-bit-flipped', mutation: 'flip the low bit of byte 10 of the Ed25519 signature', kind: 'cosignature-line', input: lineWith(witness.name, flipBit(cosigPayload, 12 + 10)), error: 'InvalidError', code: 'invalid-signature', field: 'cosignature by witness.example.com/w1+ab327096' });
bad({ name: 'cosignature-timestamp-changed', mutation: 'timestamp 1700000000 → 1700000001, signature unchanged', kind: 'cosignature-line', input: lineWith(witness.name, withTimestamp(cosigPayload, 1700000001n)), error: 'InvalidError', code: 'invalid-signature', field: 'cosignature by witness.example.com/w1+ab327096' });
bad({ name: 'cosignature-timestamp-zero', mutation: 'timestamp → 0', kind: 'cosignature-line', input: lineWith(witness.name, withTimestamp(cosigPayload, 0n)), error: 'MalformedError', field: 'cosignature line timestamp' });
bad({ name: 'cosignature-timestamp-2^63', mutation: 'timestamp → 2^63', kind: 'cosignature-line', input: lineWith(witness.name, withTimestamp(cosigPayload, 1n << 63n)), error: 'MalformedError', field: 'cosignature line timestamp' });
bad({ name: 'cosignature-truncated', mutation: 'drop the last byte (75-byte payload)', kind: 'cosignature-line', input: lineWith(witness.name, cosigPayload.subarray(0, 75)), error: 'MalformedError', field: 'cosignature line signature' });
{
  const withId01 = cosigPayload.slice();
  withId01.set(hexDecode('c909bead', 'id'), 0);
  bad({ name: 'cosignature-type-0x01-key-id', mutation: 'key ID ab327096 (type 0x04) → c909bead (the same key as type 0x01)', kind: 'cosignature-line', input: lineWith(witness.name, withId01), error: 'InvalidError', code: 'invalid-signature', field: 'cosignature line: signed by witness.example.com/w1+c909bead' });
}
bad({
  name: 'cosignature-of-other-checkpoint',
  mutation: 'a valid cosignature by the witness, at the same timestamp, over the checkpoint with tree size 9',
  kind: 'cosignature-line',
  input: cosign(`${origin}\n9\n${root}\n`, witness, 1700000000n),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'cosignature by witness.example.com/w1+ab327096',
});

// ---- cosigned notes (verifyCosignatures with the witness key) ----
const cosigned: string = ref.checkpointWithCosig;
bad({
  name: 'cosigned-note-cosignature-bit-flipped',
  mutation: 'flip one bit in the witness signature of checkpointWithCosig',
  kind: 'cosigned-note',
  input: signed + lineWith(witness.name, flipBit(cosigPayload, 12 + 30)),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'note signature by witness.example.com/w1+ab327096',
});
bad({
  name: 'cosigned-note-text-modified',
  mutation: 'tree size 8 → 9 in checkpointWithCosig, signature lines unchanged',
  kind: 'cosigned-note',
  input: cosigned.replace('\n8\n', '\n9\n'),
  error: 'InvalidError',
  code: 'invalid-signature',
  field: 'note signature by witness.example.com/w1+ab327096',
});
bad({
  name: 'cosigned-note-not-a-checkpoint',
  mutation: 'a cosignature by the witness over a text that is not a checkpoint',
  kind: 'cosigned-note',
  input: 'hello\n\n' + logLine,
  error: 'MalformedError',
  field: 'checkpoint',
});
good({
  name: 'cosigned-note-reference',
  mutation: 'none: checkpointWithCosig as given',
  kind: 'cosigned-note',
  input: cosigned,
  expect: { cosignatures: [{ keyId: 'ab327096', timestamp: '1700000000' }] },
});
good({
  name: 'cosigned-note-extension-lines',
  mutation: 'checkpoint with an extension line, signed by the log and cosigned by the witness at 1700000000: the extension line is covered',
  kind: 'cosigned-note',
  input: (() => {
    const body = `${text}ext\n`;
    return checkpointNote(body) + cosign(body, witness, 1700000000n);
  })(),
  expect: { cosignatures: [{ keyId: 'ab327096', timestamp: '1700000000' }] },
});
good({
  name: 'cosigned-note-without-cosignature',
  mutation: 'none: signedCheckpoint, which has no witness line',
  kind: 'cosigned-note',
  input: signed,
  expect: { cosignatures: [] },
});

const header = {
  description:
    'Mutations of the valid keys, notes, checkpoints and cosignatures of keys-and-checkpoint.json. Kinds: note = openNote with the log vkey; checkpoint-note = openCheckpoint with the log vkey; checkpoint = parseCheckpoint; vkey = parseVerifier; cosigner-vkey = parseCosignerVerifier; skey = parseSigner; cosignature-line = verifyCosignature over checkpointText with the witness vkey; cosigned-note = verifyCosignatures with the witness vkey. inputHex holds inputs that are not valid UTF-8. field is a substring the error message must contain. Generated by: npx tsx vectors/note/generate.ts',
};
writeFileSync(join(here, 'negative.json'), `${JSON.stringify({ ...header, cases: negative }, null, 1)}\n`);
writeFileSync(join(here, 'accepted.json'), `${JSON.stringify({ ...header, description: header.description.replace('Mutations', 'Edge cases that must be accepted: mutations'), cases: accepted }, null, 1)}\n`);
console.log(`${negative.length} negative, ${accepted.length} accepted cases`);
