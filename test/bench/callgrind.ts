/**
 * Server instructions per accepted entry, counted by valgrind's callgrind
 * (issue 11 §2): wall-clock figures on this shared 2-core machine move by
 * tens of percent from run to run with the other jobs' load; instruction
 * counts do not depend on that load. They still move by about 10 % between
 * runs here, because batch sizes (so fsyncs and checkpoint signatures per
 * entry), garbage collection and JIT tiering depend on timing; at 300
 * entries part of the JavaScript still runs in V8's baseline tier.
 *
 *   npm run bench -- callgrind
 *   BENCH_CALLGRIND_ENTRIES=4000 BENCH_CALLGRIND_CLIENTS=64 npm run bench -- callgrind
 *   BENCH_CALLGRIND_KEEP=DIR ...   keeps the callgrind files (callgrind_annotate DIR/serve-2n.out)
 *
 * Under valgrind the server runs about 50 times slower: the default 300
 * entries take about 10 minutes on this machine.
 *
 * `vitrine serve` (SQLite, durability on) runs under callgrind twice, and a
 * client outside valgrind submits N, then 2N, pregenerated entries over
 * HTTP with 64 concurrent connections. The difference between the two runs'
 * totals, divided by N, is what one more entry costs the server: HTTP
 * parsing, decoding, signature check, sequencing, SQLite, signing the
 * checkpoints, building the answer. Start-up, JIT warm-up and shutdown
 * cancel out. The bound beside it is counted the same way: node:crypto
 * Ed25519 verifications (2N minus N of them) in a plain node process; the
 * issue's goal is at most 2 of them per entry. The server's CPU time per
 * entry without valgrind (from /proc) is printed too, as a noisy µs figure.
 */
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntry, entrySignedMessage } from '../../src/entry/index.js';
import { generateSigner } from '../../src/note/index.js';
import { BIN, cpuSecondsOf, fmt, machine } from './_util.js';

const N = Number(process.env['BENCH_CALLGRIND_ENTRIES'] ?? 300);
const CLIENTS = Number(process.env['BENCH_CALLGRIND_CLIENTS'] ?? 64);
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const VALGRIND = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--dump-instr=no'];

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

/** Runs serve (under callgrind when `outFile` is given), submits `batch`, stops it; returns its CPU seconds. */
async function serveAndSubmit(batch: Buffer[], outFile?: string): Promise<{ cpu: number; seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-callgrind-'));
  const args = [BIN, 'serve', '--data', dir, '--origin', 'bench.example/log', '--listen', '127.0.0.1:0'];
  const child = outFile === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(VALGRIND[0]!, [...VALGRIND.slice(1), `--callgrind-out-file=${outFile}`, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /"event":"start".*?"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const cpu0 = cpuSecondsOf(child.pid!);
  const t0 = performance.now();
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let next = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < batch.length) {
      const status = await post(agent, port, batch[next++]!);
      if (status !== 201) bad++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSecondsOf(child.pid!) - cpu0;
  agent.destroy();
  if (bad > 0) throw new Error(`${bad} submissions were not answered 201`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { cpu, seconds };
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
console.log(`machine: ${machine()}; ${CLIENTS} clients; SQLite, durability on; instructions counted by valgrind --tool=callgrind`);
const all = entries(3 * N);
const plain = await serveAndSubmit(all.slice(0, N));
console.log(`  without valgrind: ${fmt(N)} entries, server CPU ${fmt((plain.cpu * 1e6) / N)} µs per entry (noisy: shared machine), ${fmt(N / plain.seconds)} entries/s`);
await serveAndSubmit(all.slice(0, N), join(out, 'serve-n.out'));
await serveAndSubmit(all.slice(N, 3 * N), join(out, 'serve-2n.out'));
const perEntry = (totalIr(join(out, 'serve-2n.out')) - totalIr(join(out, 'serve-n.out'))) / N;
const perVerify = ((await verifyIr(2 * N, join(out, 'verify-2n.out'))) - (await verifyIr(N, join(out, 'verify-n.out')))) / N;
console.log(`  server instructions per accepted entry: ${fmt(perEntry)}   (bound: one node:crypto Ed25519 verify = ${fmt(perVerify)} instructions; ratio ${fmt(perEntry / perVerify, 2)}; goal ≤ 2)`);
if (keep === undefined) rmSync(out, { recursive: true, force: true });
