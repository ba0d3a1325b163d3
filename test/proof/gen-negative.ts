/**
 * Generates vectors/proof/negative.json: mutations of the reference bundle
 * (vectors/proof/bundle-and-evidence.json), each named after what it
 * changes, with the §8 step and code a verifier must report. Deterministic:
 * `npx tsx test/proof/gen-negative.ts --write` rewrites the file byte for byte, and
 * test/proof/negative.test.ts checks that it still does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { b64decode, b64encode } from '../../src/encoding.js';
import { flipBit, noteVectors, proofVectors, ROOT } from './_helpers.js';

export interface NegativePolicy {
  logKey: string;
  signers?: string[];
  witnesses?: string[];
  quorum?: number;
}

export interface NegativeCase {
  name: string;
  mutation: string;
  bundle: string;
  /** Replaces the file's default policy when present. */
  policy?: NegativePolicy;
  /** Artifact bytes (UTF-8), when not the default. */
  artifact?: string;
  expect: { ok: true } | { ok: false; step: number; code: string };
}

export interface NegativeFile {
  description: string;
  regenerate: string;
  artifact: string;
  policy: NegativePolicy;
  cases: NegativeCase[];
}

/** Replaces the `n`th line (0-based) of `text`. */
function setLine(text: string, n: number, f: (line: string) => string): string {
  const lines = text.split('\n');
  lines[n] = f(lines[n]!);
  return lines.join('\n');
}

function lineIndex(text: string, pred: (line: string) => boolean): number {
  const i = text.split('\n').findIndex(pred);
  if (i < 0) throw new Error('line not found');
  return i;
}

/** Flips `bit` of the base64 payload that follows `prefix` on a line, keeping the base64 canonical. */
function flipB64(line: string, prefix: string, bit: number): string {
  const payload = b64decode(line.slice(prefix.length), 'payload');
  return prefix + b64encode(flipBit(payload, bit));
}

export function negativeFile(): NegativeFile {
  const pv = proofVectors();
  const nv = noteVectors();
  const good = pv.bundle;
  const policy: NegativePolicy = { logKey: nv.log.vkey, witnesses: [nv.witness.vkey], quorum: 1 };
  const lines = good.split('\n');
  const proofStart = 3;
  const blank = lines.indexOf('');
  const cpStart = blank + 1;
  const logSigLine = lineIndex(good, (l) => l.startsWith('\u2014 log.example.com/vitrine '));
  const witnessLine = lineIndex(good, (l) => l.startsWith('\u2014 witness.example.com/w1 '));
  const entryBytes = b64decode(lines[1]!.slice(6), 'entry');
  // Offsets in the entry's CBOR: the digest and the signature byte strings (0x58 0x20 / 0x58 0x40 headers).
  const hexEntry = Buffer.from(entryBytes).toString('hex');
  const digestAt = hexEntry.indexOf('035820') / 2 + 3;
  const sigAt = hexEntry.indexOf('055840') / 2 + 3;
  const entryWith = (bytes: Uint8Array) => setLine(good, 1, () => `extra ${b64encode(bytes)}`);
  const fail = (step: number, code: string) => ({ ok: false as const, step, code });
  const other = nv.goNoteExample.vkey;

  const cases: NegativeCase[] = [
    { name: 'valid', mutation: 'none: the reference bundle', bundle: good, expect: { ok: true } },
    // Step 0: the bundle does not parse.
    { name: 'header-wrong', mutation: 'first line c2sp.org/tlog-proof@v2', bundle: good.replace('tlog-proof@v1', 'tlog-proof@v2'), expect: fail(0, 'malformed-bundle') },
    { name: 'header-missing', mutation: 'first line removed', bundle: lines.slice(1).join('\n'), expect: fail(0, 'malformed-bundle') },
    { name: 'bom-prefix', mutation: 'a UTF-8 byte order mark before the header', bundle: `\ufeff${good}`, expect: fail(0, 'malformed-bundle') },
    { name: 'extra-line-missing', mutation: 'the extra line removed (Vitrine bundles must carry the entry)', bundle: [...lines.slice(0, 1), ...lines.slice(2)].join('\n'), expect: fail(0, 'malformed-bundle') },
    { name: 'extra-after-index', mutation: 'the extra and index lines swapped', bundle: [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n'), expect: fail(0, 'malformed-bundle') },
    { name: 'extra-non-canonical-base64', mutation: 'the entry base64 without its padding', bundle: setLine(good, 1, (l) => l.replace(/=+$/, '')), expect: fail(0, 'malformed-bundle') },
    { name: 'index-non-canonical-03', mutation: 'index 3 written as 03', bundle: setLine(good, 2, () => 'index 03'), expect: fail(0, 'malformed-bundle') },
    { name: 'index-plus-sign', mutation: 'index 3 written as +3', bundle: setLine(good, 2, () => 'index +3'), expect: fail(0, 'malformed-bundle') },
    { name: 'index-negative', mutation: 'index -1', bundle: setLine(good, 2, () => 'index -1'), expect: fail(0, 'malformed-bundle') },
    { name: 'index-2^63', mutation: 'index 9223372036854775808 (2^63)', bundle: setLine(good, 2, () => 'index 9223372036854775808'), expect: fail(0, 'malformed-bundle') },
    { name: 'index-double-space', mutation: 'two spaces after "index"', bundle: setLine(good, 2, () => 'index  3'), expect: fail(0, 'malformed-bundle') },
    { name: 'crlf-line-endings', mutation: 'every \\n replaced by \\r\\n', bundle: good.replaceAll('\n', '\r\n'), expect: fail(0, 'malformed-bundle') },
    { name: 'proof[0]-31-bytes', mutation: 'proof[0] cut to 31 bytes', bundle: setLine(good, proofStart, (l) => b64encode(b64decode(l, 'p').subarray(0, 31))), expect: fail(0, 'malformed-bundle') },
    { name: 'proof[0]-non-canonical-base64', mutation: 'proof[0] with a non-zero padding bit', bundle: setLine(good, proofStart, (l) => l.slice(0, 42) + 'F='), expect: fail(0, 'malformed-bundle') },
    { name: 'proof-64-lines', mutation: '64 proof lines (more than 63)', bundle: [...lines.slice(0, 3), ...Array<string>(64).fill(lines[proofStart]!), ...lines.slice(blank)].join('\n'), expect: fail(0, 'malformed-bundle') },
    { name: 'blank-line-missing', mutation: 'the empty line before the checkpoint removed', bundle: [...lines.slice(0, blank), ...lines.slice(cpStart)].join('\n'), expect: fail(0, 'malformed-bundle') },
    { name: 'trailing-newline-added', mutation: 'an extra \\n at the end', bundle: `${good}\n`, expect: fail(0, 'malformed-bundle') },
    { name: 'trailing-newline-removed', mutation: 'the final \\n removed', bundle: good.slice(0, -1), expect: fail(0, 'malformed-bundle') },
    { name: 'checkpoint-size-non-canonical', mutation: 'checkpoint size 5 written as 05', bundle: setLine(good, cpStart + 1, () => '05'), expect: fail(0, 'malformed-bundle') },
    { name: 'bundle-over-128KiB', mutation: 'padded past 131072 bytes with unknown signature lines', bundle: good + `\u2014 pad.example ${b64encode(new Uint8Array(99_000))}\n`, expect: fail(0, 'malformed-bundle') },
    // Step 1: the entry and the artifact.
    { name: 'entry-empty', mutation: 'extra line with no entry bytes', bundle: setLine(good, 1, () => 'extra '), expect: fail(1, 'bad-entry') },
    { name: 'entry-byte-0-flipped', mutation: 'first entry byte 0xa5 -> 0xa4 (a map of 4 pairs: trailing bytes)', bundle: entryWith(flipBit(entryBytes, 7)), expect: fail(1, 'bad-entry') },
    { name: 'entry-truncated', mutation: 'last entry byte removed', bundle: entryWith(entryBytes.subarray(0, -1)), expect: fail(1, 'bad-entry') },
    { name: 'entry-digest-bit-flipped', mutation: 'one bit of the entry digest flipped', bundle: entryWith(flipBit(entryBytes, digestAt * 8)), expect: fail(1, 'digest-mismatch') },
    { name: 'artifact-other-bytes', mutation: 'bundle unchanged, artifact "artifact 4"', bundle: good, artifact: 'artifact 4', expect: fail(1, 'digest-mismatch') },
    // Step 2: the entry signature and pinned signers.
    { name: 'entry-signature-bit-flipped', mutation: 'one bit of the entry signature flipped', bundle: entryWith(flipBit(entryBytes, sigAt * 8 + 3)), expect: fail(2, 'bad-entry-signature') },
    { name: 'signer-not-pinned', mutation: 'bundle unchanged, policy pins another signer key', bundle: good, policy: { ...policy, signers: [other] }, expect: fail(2, 'signer-not-pinned') },
    // Step 3: the inclusion proof.
    { name: 'proof[0]-bit-flipped', mutation: 'one bit of proof[0] flipped', bundle: setLine(good, proofStart, (l) => flipB64(l, '', 0)), expect: fail(3, 'inclusion-failed') },
    { name: 'proof[2]-bit-flipped', mutation: 'last bit of proof[2] flipped', bundle: setLine(good, proofStart + 2, (l) => flipB64(l, '', 255)), expect: fail(3, 'inclusion-failed') },
    { name: 'proof-swapped', mutation: 'proof[0] and proof[1] swapped', bundle: [...lines.slice(0, 3), lines[4], lines[3], ...lines.slice(5)].join('\n'), expect: fail(3, 'inclusion-failed') },
    { name: 'proof-truncated', mutation: 'last proof line removed', bundle: [...lines.slice(0, blank - 1), ...lines.slice(blank)].join('\n'), expect: fail(3, 'inclusion-failed') },
    { name: 'proof-extra-element', mutation: 'proof[2] repeated at the end', bundle: [...lines.slice(0, blank), lines[blank - 1], ...lines.slice(blank)].join('\n'), expect: fail(3, 'inclusion-failed') },
    { name: 'proof-empty', mutation: 'every proof line removed', bundle: [...lines.slice(0, 3), ...lines.slice(blank)].join('\n'), expect: fail(3, 'inclusion-failed') },
    { name: 'index+1', mutation: 'index 4 instead of 3', bundle: setLine(good, 2, () => 'index 4'), expect: fail(3, 'inclusion-failed') },
    { name: 'index-1', mutation: 'index 2 instead of 3', bundle: setLine(good, 2, () => 'index 2'), expect: fail(3, 'inclusion-failed') },
    { name: 'index-equals-size', mutation: 'index 5 in a tree of size 5', bundle: setLine(good, 2, () => 'index 5'), expect: fail(3, 'inclusion-failed') },
    { name: 'checkpoint-root-bit-flipped', mutation: 'one bit of the checkpoint root flipped', bundle: setLine(good, cpStart + 2, (l) => flipB64(l, '', 100)), expect: fail(3, 'inclusion-failed') },
    { name: 'checkpoint-size-5-to-4', mutation: 'checkpoint size 4 (the proof no longer fits)', bundle: setLine(good, cpStart + 1, () => '4'), expect: fail(3, 'inclusion-failed') },
    // Step 4: the log signature.
    { name: 'checkpoint-size-5-to-6', mutation: 'checkpoint size 6: the same proof leads to the same root, so the log signature fails', bundle: setLine(good, cpStart + 1, () => '6'), expect: fail(4, 'bad-log-signature') },
    { name: 'checkpoint-extension-line-added', mutation: 'an extension line added to the checkpoint body', bundle: setLine(good, cpStart + 2, (l) => `${l}\nextension`), expect: fail(4, 'bad-log-signature') },
    { name: 'checkpoint-origin-changed', mutation: 'origin log.example.com/vitrine2', bundle: setLine(good, cpStart, (l) => `${l}2`), expect: fail(4, 'bad-log-signature') },
    { name: 'log-signature-removed', mutation: "the log's signature line removed (only the cosignature left)", bundle: [...lines.slice(0, logSigLine), ...lines.slice(logSigLine + 1)].join('\n'), expect: fail(4, 'bad-log-signature') },
    { name: 'log-signature-bit-flipped', mutation: "one bit of the log's Ed25519 signature flipped", bundle: setLine(good, logSigLine, (l) => flipB64(l, '\u2014 log.example.com/vitrine ', 4 * 8 + 10)), expect: fail(4, 'bad-log-signature') },
    { name: 'log-key-id-bit-flipped', mutation: "one bit of the log signature's key ID flipped (no known signature left)", bundle: setLine(good, logSigLine, (l) => flipB64(l, '\u2014 log.example.com/vitrine ', 0)), expect: fail(4, 'bad-log-signature') },
    { name: 'log-key-wrong', mutation: 'bundle unchanged, policy has another log key', bundle: good, policy: { ...policy, logKey: other }, expect: fail(4, 'bad-log-signature') },
    // Step 5: the witness policy.
    { name: 'witness-cosignature-bit-flipped', mutation: "one bit of the witness's Ed25519 cosignature flipped", bundle: setLine(good, witnessLine, (l) => flipB64(l, '\u2014 witness.example.com/w1 ', 12 * 8 + 5)), expect: fail(5, 'witness-quorum') },
    { name: 'witness-timestamp-changed', mutation: "one bit of the cosignature's timestamp flipped", bundle: setLine(good, witnessLine, (l) => flipB64(l, '\u2014 witness.example.com/w1 ', 11 * 8 + 7)), expect: fail(5, 'witness-quorum') },
    { name: 'witness-cosignature-removed', mutation: "the witness's cosignature line removed", bundle: [...lines.slice(0, witnessLine), ...lines.slice(witnessLine + 1)].join('\n'), expect: fail(5, 'witness-quorum') },
    { name: 'quorum-2-of-1', mutation: 'bundle unchanged, quorum 2 with one witness', bundle: good, policy: { ...policy, quorum: 2 }, expect: fail(5, 'witness-quorum') },
    // Changes that must not matter.
    { name: 'unknown-signature-appended', mutation: 'a signature line of an unknown key appended', bundle: `${good}\u2014 someone.example/k ${b64encode(new Uint8Array(68).fill(1))}\n`, expect: { ok: true } },
    { name: 'witness-not-in-policy', mutation: 'bundle unchanged, no witness policy', bundle: good, policy: { logKey: nv.log.vkey }, expect: { ok: true } },
  ];
  return {
    description:
      'Mutations of the bundle in bundle-and-evidence.json, each named after its change, with the docs/formats.md §8 step (0 = does not parse) and code a verifier must report under `policy` (or the case\'s own) for artifact bytes `artifact` (or the case\'s own).',
    regenerate: 'npx tsx test/proof/gen-negative.ts --write',
    artifact: pv.bundleArtifact,
    policy,
    cases,
  };
}

export function negativeJson(): string {
  return `${JSON.stringify(negativeFile(), null, 1)}\n`;
}

// Writes only when asked, so that a test runner loading this file changes nothing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--write')) {
  const path = join(ROOT, 'vectors/proof/negative.json');
  writeFileSync(path, negativeJson());
  console.log(`wrote ${path}`);
}
