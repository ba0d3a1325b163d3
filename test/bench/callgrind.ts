/**
 * Server instructions per accepted entry, counted by valgrind's callgrind
 * (issue 11 §2): wall-clock figures on this shared 2-core machine move by
 * tens of percent from run to run with the other jobs' load; instruction
 * counts do not depend on that load.
 *
 *   npm run bench -- callgrind
 *   BENCH_CALLGRIND_ENTRIES=1000 BENCH_CALLGRIND_WARMUP=8000 BENCH_CALLGRIND_ROUNDS=2 npm run bench -- callgrind
 *   BENCH_CALLGRIND_KEEP=DIR ...   keeps the callgrind files (callgrind_annotate DIR/serve.out.1)
 *
 * `vitrine serve` (SQLite, durability on) runs under callgrind with
 * instrumentation off. A client outside valgrind submits W warm-up entries
 * (default 4,000, so that V8 has compiled the hot path: counting from
 * start-up, the optimising compiler alone was about a third of the figure
 * at 300 entries), then instrumentation is switched on
 * (`callgrind_control -i on`) and the client submits N entries (default
 * 500) in each of R rounds (default 3), with a dump after each
 * (`callgrind_control -d`). Each dump's total divided by N is what one
 * entry costs the server in steady state: HTTP parsing, decoding,
 * signature check, sequencing, SQLite, signing the checkpoints, building
 * the answer. The rounds show how stable it is: batch sizes, garbage
 * collection and late JIT tiering still depend on timing. Each round also
 * prints how much of it was V8's optimising compiler, the part that moves
 * most (16,000 to 343,000 instructions per entry between rounds of the
 * same code), and the figure without it, which compares code changes
 * best. Every entry goes over HTTP, 64 connections at a time. The bound
 * beside it is counted as before: node:crypto Ed25519 verifications (2N
 * minus N of them) in plain node processes; the goal is at most 2
 * of them per entry. The server's CPU time per entry without valgrind
 * (from /proc) is printed too, as a noisy µs figure. The defaults take
 * about 6 minutes on this machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntry, entrySignedMessage } from '../../src/entry/index.js';
import { generateSigner } from '../../src/note/index.js';
import { BIN, cpuSecondsOf, fmt, machine } from './_util.js';

const N = Number(process.env['BENCH_CALLGRIND_ENTRIES'] ?? 500);
const WARMUP = Number(process.env['BENCH_CALLGRIND_WARMUP'] ?? 4000);
const CLIENTS = Number(process.env['BENCH_CALLGRIND_CLIENTS'] ?? 64);
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const VALGRIND = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--dump-instr=no'];
const ROUNDS = Number(process.env['BENCH_CALLGRIND_ROUNDS'] ?? 3);

function entries(n: number): Buffer[] {
  const signer = generateSigner('bench-signer.example', nodeEd25519);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, signer.seed]), format: 'der', type: 'pkcs8' });
  const run = `${process.pid}-${Date.now()}`;
  return Array.from({ length: n }, (_, i) => {
    const name = `pkg:generic/callgrind-${run}@${i}`;
    const unsigned = { name, digest: new Uint8Array(createHash('sha256').update(name).digest()), key: signer.publicKey };
    return Buffer.from(encodeEntry({ ...unsigned, sig: new Uint8Array(nodeSign(null, entrySignedMessage(unsigned), key)) }));
  });
}

/** The total instruction count (Ir) of a callgrind output file. */
function totalIr(file: string): number {
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/**
 * The instructions of a callgrind output file spent in V8's optimising
 * compiler (TurboFan, on the main thread or its background threads), from
 * callgrind_annotate's per-function totals. How much of it lands in a
 * measured round depends on when V8 decides to (re)compile a function, so
 * it moves between rounds more than anything else.
 */
function compilerIr(file: string): number {
  const r = spawnSync('callgrind_annotate', ['--threshold=100', '--show-percs=no', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`callgrind_annotate ${file} exited ${r.status}: ${r.stderr}`);
  let sum = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+)\s+\S*v8::internal::compiler::/.exec(line);
    if (m) sum += Number(m[1]!.replace(/,/g, ''));
  }
  return sum;
}

function post(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/entries', method: 'POST', agent, headers: { 'Content-Type': 'application/cbor', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function submitAll(agent: Agent, port: number, batch: Buffer[]): Promise<void> {
  let next = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < batch.length) {
      const status = await post(agent, port, batch[next++]!);
      if (status !== 201) bad++;
    }
  }));
  if (bad > 0) throw new Error(`${bad} submissions were not answered 201`);
}

function callgrindControl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('callgrind_control', args, { stdio: 'ignore' });
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control ${args.join(' ')} exited ${code}`))));
  });
}

/**
 * Runs serve (under callgrind, instrumentation off, when `outFile` is
 * given), submits `warmup`, then each of `rounds` (under callgrind: with
 * instrumentation on and a dump after each, to `outFile`.1, .2, ...), and
 * stops it. Returns the server's CPU seconds and wall seconds per round.
 */
async function serveAndSubmit(warmup: Buffer[], rounds: Buffer[][], outFile?: string): Promise<Array<{ cpu: number; seconds: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-callgrind-'));
  const args = [BIN, 'serve', '--data', dir, '--origin', 'bench.example/log', '--listen', '127.0.0.1:0'];
  const child = outFile === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(VALGRIND[0]!, [...VALGRIND.slice(1), '--instr-atstart=no', `--callgrind-out-file=${outFile}`, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /"event":"start".*?"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  await submitAll(agent, port, warmup);
  const out: Array<{ cpu: number; seconds: number }> = [];
  if (outFile !== undefined) await callgrindControl(['-i', 'on', String(child.pid)]);
  for (const round of rounds) {
    const cpu0 = cpuSecondsOf(child.pid!);
    const t0 = performance.now();
    await submitAll(agent, port, round);
    out.push({ cpu: cpuSecondsOf(child.pid!) - cpu0, seconds: (performance.now() - t0) / 1000 });
    if (outFile !== undefined) await callgrindControl(['-d', String(child.pid)]);
  }
  agent.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Instructions of `count` node:crypto Ed25519 verifications in a fresh node process, under callgrind. */
async function verifyIr(count: number, outFile: string): Promise<number> {
  const script = `
    const { createPrivateKey, createPublicKey, sign, verify } = require('node:crypto');
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('${PKCS8_PREFIX.toString('hex')}', 'hex'), Buffer.alloc(32, 7)]), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey(priv);
    const msg = Buffer.alloc(200, 1);
    const sig = sign(null, msg, priv);
    for (let i = 0; i < ${count}; i++) if (!verify(null, msg, pub, sig)) throw new Error('bad');
  `;
  const child = spawn(VALGRIND[0]!, [...VALGRIND.slice(1), `--callgrind-out-file=${outFile}`, process.execPath, '-e', script], { stdio: 'ignore' });
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`verify run exited ${code}`);
  return totalIr(outFile);
}

const keep = process.env['BENCH_CALLGRIND_KEEP'];
const out = keep ?? mkdtempSync(join(tmpdir(), 'vitrine-callgrind-out-'));
console.log(`machine: ${machine()}; ${CLIENTS} clients; SQLite, durability on; ${fmt(WARMUP)} warm-up entries, then ${ROUNDS} rounds of ${fmt(N)}; instructions counted by valgrind --tool=callgrind`);
const all = entries(2 * (WARMUP + ROUNDS * N));
const split = (from: number) => ({ warmup: all.slice(from, from + WARMUP), rounds: Array.from({ length: ROUNDS }, (_, r) => all.slice(from + WARMUP + r * N, from + WARMUP + (r + 1) * N)) });
const plainSet = split(0);
const plain = await serveAndSubmit(plainSet.warmup, plainSet.rounds);
console.log(`  without valgrind, after the warm-up: server CPU ${plain.map((p) => fmt((p.cpu * 1e6) / N)).join(' and ')} µs per entry (noisy: shared machine), ${plain.map((p) => fmt(N / p.seconds)).join(' and ')} entries/s`);
const cgSet = split(WARMUP + ROUNDS * N);
await serveAndSubmit(cgSet.warmup, cgSet.rounds, join(out, 'serve.out'));
const perEntry = Array.from({ length: ROUNDS }, (_, r) => totalIr(join(out, `serve.out.${r + 1}`)) / N);
const perVerify = ((await verifyIr(2 * N, join(out, 'verify-2n.out'))) - (await verifyIr(N, join(out, 'verify-n.out')))) / N;
for (const [r, ir] of perEntry.entries()) {
  const compiler = compilerIr(join(out, `serve.out.${r + 1}`)) / N;
  console.log(`  round ${r + 1}: server instructions per accepted entry: ${fmt(ir)}   (bound: one node:crypto Ed25519 verify = ${fmt(perVerify)} instructions; ratio ${fmt(ir / perVerify, 2)}; goal ≤ 2)`);
  console.log(`    of which V8's optimising compiler ${fmt(compiler)} (when V8 recompiles varies between rounds); without it ${fmt(ir - compiler)}, ratio ${fmt((ir - compiler) / perVerify, 2)}`);
}
if (keep === undefined) rmSync(out, { recursive: true, force: true });
