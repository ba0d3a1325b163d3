/**
 * Entry benchmark (docs/formats.md §4, src/entry): encode, strict decode, sign and
 * signature verification on both Ed25519 backends, and the file digest.
 *
 *     npx tsx test/bench/entry.ts          (or: npm run bench entry)
 *
 * Each figure is printed next to its bound, measured in the same run on the
 * same input: the bare primitive the operation is built on (cbor-x without
 * our configuration checks, scanner and re-encode; Ed25519 on a prebuilt
 * message; SHA-256 of bytes already in memory). The gap is what the
 * strictness and safety cost. Every rate is the best of 5 rounds of ~300 ms, each
 * operation alternating rounds with its bound.
 */
import { createHash } from 'node:crypto';
import { alternatingRates } from './_util.js';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { cborx } from '../../src/entry/cbor.js';
import { digestBytes, digestFile } from '../../src/entry/digest.js';
import {
  decodeEntry,
  encodeEntry,
  entrySignedMessage,
  parseAndVerifyEntry,
  signEntry,
  verifyEntrySignature,
  type Entry,
} from '../../src/entry/index.js';

const ROUNDS = 5;
const ROUND_MS = 300;

function rates(fn: () => unknown, bound: () => unknown): [number, number] {
  return alternatingRates(fn, bound, { rounds: ROUNDS, roundMs: ROUND_MS, batch: 16, warmup: 50 });
}

/** Rate (1/s) of one run of `fn`. */
async function once(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return 1 / (Number(process.hrtime.bigint() - start) / 1e9);
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const rows: Array<[string, string, string, string]> = [];
function row(what: string, value: number, unit: string, bound?: [string, number]): void {
  const pct = bound ? `${((value / bound[1]) * 100).toFixed(0)}% of bound` : '';
  rows.push([what, `${fmt(value)} ${unit}`, bound ? `${bound[0]}: ${fmt(bound[1])} ${unit}` : '', pct]);
}

const seed = new Uint8Array(32).fill(0x33);
const digest = digestBytes(new TextEncoder().encode('left-pad tarball bytes'));
const plain: Entry = signEntry({ name: 'pkg:npm/left-pad@1.3.0', digest }, seed, nodeEd25519);
const annotated: Entry = signEntry(
  {
    name: 'vitrine-1.0.0-linux-x64.tar.gz',
    digest,
    annotations: { ci: 'github-actions', commit: '0123456789abcdef0123456789abcdef01234567', source: 'https://example.com/vitrine.git', version: '1.0.0' },
  },
  seed,
  nodeEd25519,
);

for (const [label, entry] of [
  ['plain', plain],
  ['4 annotations', annotated],
] as const) {
  const bytes = encodeEntry(entry);
  // The bound: cbor-x alone on the Map our encoder would build, and cbor-x
  // decoding the same bytes with no checks at all.
  const map = cborx.decode(bytes) as Map<number, unknown>;
  const [enc, encBound] = rates(() => encodeEntry(entry), () => cborx.encode(map));
  row(`encodeEntry (${label}, ${bytes.length} B)`, enc, 'ops/s', ['cbor-x encode', encBound]);
  const [dec, decBound] = rates(() => decodeEntry(bytes), () => cborx.decode(bytes));
  row(`decodeEntry strict (${label})`, dec, 'ops/s', ['cbor-x decode, unchecked', decBound]);
}

const msg = entrySignedMessage(plain);
const bytes = encodeEntry(plain);
const verifyRates: Record<string, number> = {};
for (const [label, ed] of [
  ['node:crypto', nodeEd25519],
  ['noble', nobleEd25519],
] as Array<[string, Ed25519]>) {
  const [v, bound] = rates(() => verifyEntrySignature(plain, ed), () => ed.verify(plain.key, msg, plain.sig));
  verifyRates[label] = v;
  row(`verifyEntrySignature (${label})`, v, 'ops/s', [`bare ${label} verify`, bound]);
}
for (const [label, ed] of [
  ['node:crypto', nodeEd25519],
  ['noble', nobleEd25519],
] as Array<[string, Ed25519]>) {
  const [pv, bound] = rates(() => parseAndVerifyEntry(bytes, ed), () => ed.verify(plain.key, msg, plain.sig));
  row(`parseAndVerifyEntry (${label})`, pv, 'ops/s', [`bare ${label} verify`, bound]);
}
for (const [label, ed] of [
  ['node:crypto', nodeEd25519],
  ['noble', nobleEd25519],
] as Array<[string, Ed25519]>) {
  const [sg, bound] = rates(() => signEntry({ name: plain.name, digest }, seed, ed), () => ed.sign(seed, msg));
  row(`signEntry (${label})`, sg, 'ops/s', [`bare ${label} sign`, bound]);
}
{
  // A seed seen for the first time (a CLI run, a test making keys): the key
  // import is paid once per seed; the bound is the same seed again (cached).
  let n = 0;
  const fresh = (): Uint8Array => {
    const s = Uint8Array.from(seed);
    s[0] = n & 0xff;
    s[1] = (n++ >> 8) & 0xff;
    return s;
  };
  const [sg, bound] = rates(() => signEntry({ name: plain.name, digest }, fresh(), nodeEd25519), () => signEntry({ name: plain.name, digest }, seed, nodeEd25519));
  row('signEntry, a new seed each time (node:crypto)', sg, 'ops/s', ['signEntry, same seed', bound]);
}

// File digest: streaming from a (page-cached) file versus hashing the same bytes in memory.
const dir = mkdtempSync(join(tmpdir(), 'vitrine-bench-'));
try {
  const size = 64 * 1024 * 1024;
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const file = join(dir, 'artifact');
  const fd = openSync(file, 'w');
  for (let i = 0; i < size / chunk.length; i++) writeSync(fd, chunk);
  closeSync(fd);
  const mem = Buffer.alloc(size);
  for (let i = 0; i < size / chunk.length; i++) mem.set(chunk, i * chunk.length);
  let fileRate = 0;
  let memRate = 0;
  for (let r = 0; r < 3; r++) {
    fileRate = Math.max(fileRate, (await once(() => digestFile(file))) * (size / 1048576));
    memRate = Math.max(memRate, (await once(async () => createHash('sha256').update(mem).digest())) * (size / 1048576));
  }
  row('digestFile (64 MiB, page cache)', fileRate, 'MiB/s', ['SHA-256 in memory', memRate]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const width = rows.reduce((w, r) => [0, 1, 2, 3].map((i) => Math.max(w[i]!, r[i as 0]!.length)), [0, 0, 0, 0]);
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} threads); best of ${ROUNDS} alternating rounds of ${ROUND_MS} ms; load average ${loadavg()[0]!.toFixed(2)}`);
console.log(['operation', 'rate', 'bound (same run)', ''].map((h, i) => h.padEnd(width[i]!)).join('  '));
for (const r of rows) console.log(r.map((c, i) => (i === 1 ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  '));
console.log(
  `\nverification, node:crypto vs noble: ${fmt(verifyRates['node:crypto']!)} vs ${fmt(verifyRates['noble']!)} ops/s = ${(verifyRates['node:crypto']! / verifyRates['noble']!).toFixed(1)}x`,
);
