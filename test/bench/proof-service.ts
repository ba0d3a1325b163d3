/**
 * Inclusion proofs as the log builds them, without HTTP (issue 11 §3, the
 * "inclusion proofs over HTTP" row): LogService.inclusion finds the leaf's
 * index by its hash, then reads the proof's nodes from the read cache and
 * SQLite. Measured at the log's size and at sizes whose right edge has
 * small subtrees outside any complete tile (as the newest checkpoint's size
 * usually has), in CPU µs per proof, beside the bound of the same run:
 * verifying that proof in memory (merkle verifyInclusion, about 2 hashes
 * per level), which any proof answer must at least match in hashing.
 *
 *   npm run bench -- proof-service
 *   BENCH_PROOF_FILL=1000000 npm run bench -- proof-service   (the fill takes about 100 s)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootFromInclusionProof, verifyInclusion } from '../../merkle/index.js';
import { b64decode } from '../../src/encoding.js';
import { openLog } from '../../src/log/datadir.js';
import { bulkFill } from './_bulk.js';
import { fmt, machine } from './_util.js';

const FILL = Number(process.env['BENCH_PROOF_FILL'] ?? 100_000);
const N = Number(process.env['BENCH_PROOF_COUNT'] ?? 40_000);
const ORIGIN = 'bench.example/proofs';

const dir = mkdtempSync(join(tmpdir(), 'vitrine-bench-proofs-'));
console.log(`machine: ${machine()}`);
const t0 = performance.now();
bulkFill(dir, ORIGIN, FILL);
console.log(`bulk-filled ${fmt(FILL)} entries in ${fmt((performance.now() - t0) / 1000, 1)} s`);
const log = await openLog({ dir, origin: ORIGIN, batchInterval: 0, batchSize: 4096, poolSize: 65536, maxEntryBytes: 8192, readCacheBytes: 64 * 2 ** 20 });
const service = log.service;
// Leaf hashes of random entries, read back from storage.
const indexes = Array.from({ length: 2000 }, () => Math.floor(Math.random() * (FILL - 300)));
const leaves: Uint8Array[] = [];
for (const i of indexes) leaves.push(b64decode((await service.entry(i)).leafHash, 'leaf', 32));

for (const size of [FILL, FILL - 1, FILL - 37]) {
  const proofs = await Promise.all(leaves.map((l) => service.inclusion(l, size)));
  // Warm-up: JIT, the read cache and the tile subtrees.
  for (let i = 0; i < N / 2; i++) await service.inclusion(leaves[i % leaves.length]!, size);
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await service.inclusion(leaves[i % leaves.length]!, size);
  const c = process.cpuUsage(c0);
  const perProof = (c.user + c.system) / N;
  // The bound: verifying the same proofs in memory, against the root they lead to.
  const decoded = proofs.map((p) => p.proof.map((h) => b64decode(h, 'proof', 32)));
  const roots = decoded.map((p, k) => rootFromInclusionProof(leaves[k]!, proofs[k]!.index, size, p));
  const v0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const k = i % leaves.length;
    verifyInclusion(leaves[k]!, proofs[k]!.index, size, decoded[k]!, roots[k]!);
  }
  const v = process.cpuUsage(v0);
  const perVerify = (v.user + v.system) / N;
  console.log(`inclusion proof at size ${fmt(size)} (${decoded[0]!.length} hashes): ${fmt(perProof, 1)} µs CPU each, ${fmt(1e6 / perProof)} /s on one core   (bound: verifying it in memory ${fmt(perVerify, 1)} µs; ratio ${fmt(perProof / perVerify, 1)})`);
}
await log.close();
rmSync(dir, { recursive: true, force: true });
