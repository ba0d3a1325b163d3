/**
 * Proof bundle benchmark (docs/formats.md §8, src/proof): full offline bundle
 * verifications per second — parse and the five steps — on the reference
 * bundle (entry 3 of a 5-entry log, one witness cosignature), the artifact
 * given as its digest, on both Ed25519 backends.
 *
 *     npx tsx test/bench/proof.ts          (or: npm run bench proof)
 *
 * The bound, measured in the same run on the same backend, is raw Ed25519
 * verification of a prebuilt message: a bundle needs three signature checks
 * (the entry, the log's checkpoint signature, the witness cosignature), so
 * it can at best run at a third of the raw rate. The ratio shows what
 * parsing, the CBOR entry, hashing and the Merkle path cost on top. Every
 * rate is the best of 7 rounds of ~300 ms, alternating with its bound.
 */
import { cpus, loadavg } from 'node:os';
import { alternatingRates } from './_util.js';
import { sha256 } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { parseCosignerVerifier, parseNote, parseVerifier } from '../../src/note/index.js';
import { parseBundle, verifyBundle, type BundlePolicy } from '../../src/proof/index.js';
import { noteVectors, proofVectors, utf8 } from '../proof/_helpers.js';

const ROUNDS = 7;
const ROUND_MS = 300;

function rates(fn: () => unknown, bound: () => unknown): [number, number] {
  return alternatingRates(fn, bound, { rounds: ROUNDS, roundMs: ROUND_MS, batch: 4, warmup: 30 });
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

const pv = proofVectors();
const nv = noteVectors();
const digest = sha256(utf8(pv.bundleArtifact));
// The policy is parsed once, as a verifier would at start-up.
const policy: BundlePolicy = { logKey: parseVerifier(nv.log.vkey), witnesses: [parseCosignerVerifier(nv.witness.vkey)], quorum: 1 };
const logKey = parseVerifier(nv.log.vkey);
const note = parseNote(parseBundle(pv.bundle).checkpoint);
const message = utf8(note.text);
const signature = note.signatures[0]!.signature;

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, load ${loadavg()[0]!.toFixed(2)}`);
console.log(`bundle: ${utf8(pv.bundle).length} bytes, ${parseBundle(pv.bundle).proof.length} proof hashes, 1 witness; artifact given as digest\n`);

const table: string[][] = [['backend', 'bundle verifications/s', 'raw Ed25519 verify/s', 'bound (raw/3)', 'bundle / bound']];
for (const [label, ed] of [
  ['node:crypto', nodeEd25519],
  ['noble (pure JS)', nobleEd25519],
] as Array<[string, Ed25519]>) {
  const check = verifyBundle({ digest }, pv.bundle, policy, ed);
  if (!check.ok || check.witnesses.length !== 1) throw new Error(`${label}: the reference bundle does not verify`);
  if (!ed.verify(logKey.publicKey, message, signature)) throw new Error(`${label}: the raw signature does not verify`);
  const [bundleRate, raw] = rates(
    () => verifyBundle({ digest }, pv.bundle, policy, ed),
    () => ed.verify(logKey.publicKey, message, signature),
  );
  const bound = raw / 3;
  table.push([label, fmt(bundleRate), fmt(raw), fmt(bound), `${((bundleRate / bound) * 100).toFixed(0)}%`]);
}
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
for (const r of table) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
