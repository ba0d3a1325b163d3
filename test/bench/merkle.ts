/**
 * Benchmarks of merkle/ (run: `npx tsx test/bench/merkle.ts`, or
 * `npm run bench merkle`). Each figure is printed next to the bound it is
 * held to, measured in the same run:
 *   - SHA-256 of a 65-byte input (an RFC 9162 interior node) per second with
 *     @noble/hashes and with node:crypto's crypto.hash: the raw rates;
 *   - CompactRange appends per second, as a percentage of those raw rates
 *     (bound: at least 40% of the faster one);
 *   - inclusion and consistency proof generation and verification per
 *     second at tree sizes 10^3, 10^6 and 10^9 (bound for verification at
 *     10^6: 100,000/s). Generation reads stored nodes from a synthetic,
 *     consistent tree (test/merkle/synthetic.ts) whose reads cost O(1), so
 *     the figure is the library's planning and assembly, not storage.
 * Every figure is the best of 10 timed rounds of at least 0.2 s each, after a
 * warm-up round, on one core (best-of, because other processes share the
 * machine: the slower rounds measure them, not this code).
 */
import { hash as nodeCryptoHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import {
  CompactRange,
  consistencyProof,
  inclusionProof,
  nodeHash,
  rootFromStored,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../merkle/index.js';
import { _nodeWords } from '../../merkle/_sha256.js';
import { SyntheticTree } from '../merkle/synthetic.js';

/** Calls f(i) for i = 0, 1, ... in batches until `seconds` pass; returns calls per second (best of 10 rounds). */
function rate(f: (i: number) => void, seconds = 0.2): number {
  let best = 0;
  for (let round = 0; round < 11; round++) {
    let n = 0;
    let batch = 64;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < seconds * 1000) {
      for (let k = 0; k < batch; k++) f(n + k);
      n += batch;
      batch = Math.min(batch * 2, 4096);
      elapsed = performance.now() - start;
    }
    // Round 0 warms up the JIT.
    if (round > 0) best = Math.max(best, (n / elapsed) * 1000);
  }
  return best;
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(12);
const line = (what: string, value: number, note = ''): void => console.log(`${what.padEnd(52)} ${fmt(value)} /s  ${note}`);
const verdict = (ok: boolean): string => (ok ? 'ok' : 'BELOW BOUND');

/**
 * Hashes a consistency verification computes (RFC 9162 §2.1.4.2): one per
 * element after the first for the second root, plus one for the first root
 * on each element that joins it on the left.
 */
function consistencyHashes(m: bigint, n: bigint): number {
  let fn = m - 1n;
  let sn = n - 1n;
  while (fn % 2n === 1n) {
    fn /= 2n;
    sn /= 2n;
  }
  let hashes = 0;
  while (sn !== 0n) {
    if (fn % 2n === 1n || fn === sn) {
      hashes += 2;
      if (fn % 2n === 0n) {
        while (fn % 2n === 0n && fn !== 0n) {
          fn /= 2n;
          sn /= 2n;
        }
      }
    } else {
      hashes += 1;
    }
    fn /= 2n;
    sn /= 2n;
  }
  return hashes;
}

/** Deterministic pseudo-random bigints in [0, n). */
function* randoms(n: bigint, count: number, seed: number): Generator<bigint> {
  let x = BigInt(seed) + 0x9e3779b97f4a7c15n;
  for (let i = 0; i < count; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    yield x % n;
  }
}

console.log(`merkle/ benchmark, Node ${process.version}, best of 10 rounds of >= 0.2 s\n`);

// Raw SHA-256 of 65 bytes.
const buf = new Uint8Array(65).map((_, i) => i * 13);
buf[0] = 1;
const left = buf.slice(1, 33);
const right = buf.slice(33, 65);
const noble = rate(() => {
  nobleSha256(buf);
});
const native = rate(() => {
  nodeCryptoHash('sha256', buf, 'buffer');
});
const fast = rate(() => {
  nodeHash(left, right);
});
line('SHA-256(65 bytes), @noble/hashes', noble);
line('SHA-256(65 bytes), node:crypto crypto.hash', native);
line('nodeHash (merkle/_sha256.ts), bytes in and out', fast, `${((fast / noble) * 100).toFixed(0)}% of noble, ${((fast / native) * 100).toFixed(0)}% of node:crypto`);
// The verifiers' inner loop: words in, words out, a different second-block row each time.
const words = new Int32Array(16).map((_, i) => i * 0x9e3779b9);
const chained = rate(() => {
  _nodeWords(words, 0, words, 8, words, 0);
});
line('node hash on words (the verifiers\' inner loop)', chained, `${((chained / noble) * 100).toFixed(0)}% of noble, ${((chained / native) * 100).toFixed(0)}% of node:crypto`);

// Compact range appends.
const leaves: Hash[] = Array.from({ length: 4096 }, (_, i) => nobleSha256(new TextEncoder().encode(`leaf ${i}`)));
let range = new CompactRange();
const appends = rate((i) => {
  if (range.size >= 1_000_000n) range = new CompactRange();
  range.append(leaves[i % 4096]!);
});
const rawBest = Math.max(noble, native);
line(
  'CompactRange.append',
  appends,
  `${((appends / noble) * 100).toFixed(0)}% of noble, ${((appends / native) * 100).toFixed(0)}% of node:crypto; bound 40% of ${fmt(rawBest).trim()} = ${fmt(0.4 * rawBest).trim()}: ${verdict(appends >= 0.4 * rawBest)}`,
);
console.log();

// Proofs.
for (const size of [1_000n, 1_000_000n, 1_000_000_000n]) {
  const COUNT = 1024;
  const gen = new SyntheticTree(size / 3n);
  const indexes = [...randoms(size, COUNT, 1)];
  const froms = [...randoms(size - 1n, COUNT, 2)].map((x) => x + 1n);

  const incGen = rate((i) => {
    inclusionProof(indexes[i % COUNT]!, size, gen.read);
  });
  const conGen = rate((i) => {
    consistencyProof(froms[i % COUNT]!, size, gen.read);
  });

  // Valid proofs to verify: for inclusion, a synthetic tree whose special leaf is the one proven.
  const inc = indexes.slice(0, 256).map((index) => {
    const tree = new SyntheticTree(index);
    return { index, leaf: tree.leaf(index), proof: inclusionProof(index, size, tree.read), root: rootFromStored(size, tree.read) };
  });
  const con = froms.slice(0, 256).map((m) => ({ m, proof: consistencyProof(m, size, gen.read), rootM: rootFromStored(m, gen.read), rootN: rootFromStored(size, gen.read) }));
  const incLen = inc.reduce((a, c) => a + c.proof.length, 0) / inc.length;
  const conLen = con.reduce((a, c) => a + c.proof.length, 0) / con.length;
  const conHashes = con.reduce((a, c) => a + consistencyHashes(c.m, size), 0) / con.length;
  const incVer = rate((i) => {
    const c = inc[i % inc.length]!;
    verifyInclusion(c.leaf, c.index, size, c.proof, c.root);
  });
  const conVer = rate((i) => {
    const c = con[i % con.length]!;
    verifyConsistency(c.m, size, c.proof, c.rootM, c.rootN);
  });
  const bounded = size === 1_000_000n;
  const e = `size 10^${size.toString().length - 1}`;
  const bound = (v: number): string => (bounded ? `; bound 100,000: ${verdict(v >= 100_000)}` : '');
  line(`inclusion proof generation, ${e}`, incGen, `(${incLen.toFixed(1)} elements)`);
  line(`inclusion proof verification, ${e}`, incVer, `(${incLen.toFixed(1)} node hashes, ${((incVer * incLen) / 1e6).toFixed(2)}M hashes/s)` + bound(incVer));
  line(`consistency proof generation, ${e}`, conGen, `(${conLen.toFixed(1)} elements, m uniform in 1..n-1)`);
  line(`consistency proof verification, ${e}`, conVer, `(${conHashes.toFixed(1)} node hashes, ${((conVer * conHashes) / 1e6).toFixed(2)}M hashes/s)` + bound(conVer));
  console.log();
}
