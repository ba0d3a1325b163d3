/**
 * Monitor benchmark (issue 5): `vitrine monitor --init --once` catching up
 * on a local log pre-filled with 10^6 entries (bulk generator, then a real
 * `vitrine serve` on loopback), as the built CLI would run in CI:
 *
 * - full audit: fetch, rebuild the tree, decode and verify every entry's
 *   signature (worker threads), apply a policy;
 * - tree-only rebuild (the hidden --tree-only flag): fetch, hash, rebuild;
 * - the monitor's RSS, sampled through the run (peak, and the peak of each
 *   half: a bounded monitor's second half is no bigger than its first);
 * - the bound of the full audit measured in the same run: node:crypto
 *   Ed25519 verifications per second on one core, times the cores.
 *
 *   npx tsx test/bench/monitor.ts                    (or: npm run bench -- monitor)
 *   BENCH_MONITOR_FILL=200000 npx tsx test/bench/monitor.ts
 *
 * The log server runs on the same machine and takes its share of the CPU.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { bulkFill } from './_bulk.js';
import { BIN, ed25519VerifyRate, fmt, machine, rssOf, startServe } from './_util.js';

const FILL = Number(process.env['BENCH_MONITOR_FILL'] ?? 1_000_000);
const ORIGIN = 'bench.example/monitor';
const FULL_TARGET = 15_000;
const TREE_TARGET = 150_000;

interface Run {
  entries: number;
  seconds: number;
  perSecond: number;
  wallSeconds: number;
  peakRss: number;
  firstHalfRss: number;
  secondHalfRss: number;
  exitCode: number | null;
}

async function monitor(url: string, vkey: string, state: string, extra: string[]): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'monitor', '--state', state, '--init', '--once', '--log', url, '--log-key', vkey, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const samples: Array<{ t: number; rss: number }> = [];
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const r = rssOf(child.pid!);
      samples.push({ t: performance.now(), rss: r.rss });
      peak = Math.max(peak, r.peak);
    } catch {
      // The process is gone.
    }
  }, 100);
  const exitCode = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  clearInterval(timer);
  const wallSeconds = (performance.now() - t0) / 1000;
  const done = /"event":"checkpoint-verified".*?"entries":(\d+),"seconds":([\d.]+),"perSecond":(\d+)/.exec(err);
  if (done === null || exitCode !== 0) throw new Error(`monitor failed (exit ${exitCode}): ${err.slice(-2000)}`);
  const mid = samples.length > 0 ? (samples[0]!.t + samples[samples.length - 1]!.t) / 2 : 0;
  const max = (xs: typeof samples) => xs.reduce((m, s) => Math.max(m, s.rss), 0);
  return {
    entries: Number(done[1]),
    seconds: Number(done[2]),
    perSecond: Number(done[3]),
    wallSeconds,
    peakRss: peak,
    firstHalfRss: max(samples.filter((s) => s.t <= mid)),
    secondHalfRss: max(samples.filter((s) => s.t > mid)),
    exitCode,
  };
}

async function main(): Promise<void> {
  console.log(`machine: ${machine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-bench-monitor-'));
  try {
    const t0 = performance.now();
    let last = 0;
    const { vkey } = bulkFill(join(dir, 'log'), ORIGIN, FILL, (n) => {
      if (n - last >= 200_000 || n === FILL) {
        process.stdout.write(`\rfilling: ${fmt(n)} / ${fmt(FILL)} entries`);
        last = n;
      }
    });
    console.log(` (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const served = await startServe(join(dir, 'log'), ORIGIN);
    try {
      // A policy with every kind of rule, none of which fires, so that it is applied to every entry.
      const other = formatVerifier(verifierFromSigner(generateSigner('other.example', nodeEd25519)));
      writeFileSync(join(dir, 'releases.txt'), '# nothing\n');
      writeFileSync(join(dir, 'policy.json'), JSON.stringify({ rules: [{ names: ['pkg:npm/*'], signers: [other] }], keys: [{ signer: other, releases: 'releases.txt' }], revoked: [other] }));
      const full = await monitor(served.url, vkey, join(dir, 'full'), ['--policy', join(dir, 'policy.json')]);
      const tree = await monitor(served.url, vkey, join(dir, 'tree'), ['--tree-only']);
      const verify = ed25519VerifyRate(2);
      const cores = availableParallelism();
      const rows: Array<[string, string, string]> = [
        ['full audit (rebuild + decode + Ed25519 + policy)', `${fmt(full.perSecond)} entries/s`, `target ≥ ${fmt(FULL_TARGET)}; bound ${cores} × ${fmt(verify)} = ${fmt(cores * verify)} verifications/s (${((100 * full.perSecond) / (cores * verify)).toFixed(0)}% of it)`],
        ['tree-only rebuild', `${fmt(tree.perSecond)} entries/s`, `target ≥ ${fmt(TREE_TARGET)}`],
        ['node:crypto Ed25519 verify, one core', `${fmt(verify)} /s`, 'the bound, same run'],
        ['full audit: peak RSS', `${fmt(full.peakRss, 1)} MiB`, `max RSS first half ${fmt(full.firstHalfRss, 1)} MiB, second half ${fmt(full.secondHalfRss, 1)} MiB`],
        ['tree-only: peak RSS', `${fmt(tree.peakRss, 1)} MiB`, `max RSS first half ${fmt(tree.firstHalfRss, 1)} MiB, second half ${fmt(tree.secondHalfRss, 1)} MiB`],
        ['full audit: wall time incl. start-up', `${full.wallSeconds.toFixed(1)} s`, `audit ${full.seconds.toFixed(1)} s for ${fmt(full.entries)} entries`],
        ['tree-only: wall time incl. start-up', `${tree.wallSeconds.toFixed(1)} s`, `rebuild ${tree.seconds.toFixed(1)} s for ${fmt(tree.entries)} entries`],
      ];
      console.log(`\nmonitor catch-up on ${fmt(FILL)} entries (log served by vitrine serve on the same machine):`);
      const w0 = Math.max(...rows.map((r) => r[0].length));
      const w1 = Math.max(...rows.map((r) => r[1].length));
      for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
      const ok = full.perSecond >= FULL_TARGET && tree.perSecond >= TREE_TARGET;
      console.log(`\n${ok ? 'targets met' : 'targets NOT met on this machine'} (full ≥ ${fmt(FULL_TARGET)}/s on 2 cores, tree-only ≥ ${fmt(TREE_TARGET)}/s)`);
    } finally {
      served.child.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
