/**
 * Witness benchmark (issue "Witnessing"): add-checkpoint cosignatures per
 * second against one witness on loopback, durability on (SQLite WAL,
 * synchronous=FULL, persisted before each answer). Each request carries a
 * fresh checkpoint and a real consistency proof, so the witness verifies the
 * log signature, the proof, cosigns and commits every time.
 *
 * One log is inherently sequential (each request's `old` is the previous
 * size); several logs run in parallel, as a witness serving many logs does.
 *
 *   npm run bench -- witness          (BENCH_WITNESS_SECONDS, BENCH_WITNESS_LOGS)
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactRange, consistencyProof, leafHash, type NodeId } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode, utf8 } from '../../src/encoding.js';
import { formatCheckpoint, formatVerifier, generateSigner, signNote, verifierFromSigner, type Signer } from '../../src/note/index.js';
import { drive, postRequest } from './_loadgen.js';
import { fmt, machine, rate } from './_util.js';

const SECONDS = Number(process.env['BENCH_WITNESS_SECONDS'] ?? 5);
const LOGS = Number(process.env['BENCH_WITNESS_LOGS'] ?? 64);

/** Pre-computes `count` successive add-checkpoint bodies for one log, growing by 1..4 leaves each. */
function bodies(signer: Signer, count: number): string[] {
  const range = new CompactRange();
  const nodes = new Map<string, Uint8Array>();
  const read = (ids: readonly NodeId[]) => ids.map((id) => nodes.get(`${id.level}/${id.index}`)!);
  const out: string[] = [];
  let old = 0;
  for (let i = 0; i < count; i++) {
    const grow = 1 + (i % 4);
    for (let j = 0; j < grow; j++) for (const n of range.append(leafHash(utf8(`${signer.name} ${range.size}`)))) nodes.set(`${n.level}/${n.index}`, n.hash);
    const size = Number(range.size);
    const proof = old === 0 ? [] : consistencyProof(old, size, read);
    const note = signNote(formatCheckpoint({ origin: signer.name, size: BigInt(size), rootHash: range.root() }), [signer], nodeEd25519);
    out.push(`old ${old}\n${proof.map((p) => `${b64encode(p)}\n`).join('')}\n${note}`);
    old = size;
  }
  return out;
}

const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 9)]), format: 'der', type: 'pkcs8' });
const msg = Buffer.alloc(150, 2);
const signRate = rate(() => nodeSign(null, msg, priv), 1);
console.log(`machine: ${machine()}`);
console.log(`bound: node:crypto Ed25519 sign ${fmt(signRate)}/s on one core (each add-checkpoint also verifies one signature and a proof, and commits)`);
console.log('published for comparison: Sigsum witness 146–296 requests/s on x86 with the key on disk; target ≥ 2,000/s');

const signers = Array.from({ length: LOGS }, (_, i) => generateSigner(`bench-log-${i}.example/log`, nodeEd25519));
const t0 = performance.now();
// Enough requests for SECONDS at a few thousand per second: the first log
// alone runs first (sequential), then all logs share the parallel run.
// queues[i] holds log i's requests in order; each run consumes from the front.
const queues = signers.map((s, i) => bodies(s, i === 0 ? SECONDS * 2_000 : Math.ceil((SECONDS * 6_000) / LOGS)).map((body) => postRequest('/add-checkpoint', 'text/plain', Buffer.from(body))));
console.log(`prepared ${fmt(queues.reduce((a, b) => a + b.length, 0))} checkpoints in ${fmt((performance.now() - t0) / 1000, 1)} s`);

const dbPath = join(tmpdir(), `vitrine-bench-witness-${process.pid}.db`);
const child = spawn(process.execPath, [...(process.env['BENCH_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_PROF']] : []), '--import', 'tsx', join(import.meta.dirname, '_witness-server.ts'), dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
child.stdin.end(signers.map((s) => formatVerifier(verifierFromSigner(s))).join('\n'));
const port = await new Promise<number>((resolve) => {
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    const m = /^(\d+) /.exec(out);
    if (m) resolve(Number(m[1]));
  });
});

async function run(logs: number): Promise<void> {
  let ok = 0;
  let other = 0;
  // Connection i carries log i's checkpoints in order: each request's old
  // size is the size the previous one moved the witness to.
  const seconds = await drive(port, logs, SECONDS, (c) => queues[c]!.shift(), (status) => {
    if (status === 200) ok++;
    else other++;
  });
  const perSecond = ok / seconds;
  console.log(`  ${logs} log(s) in parallel: ${fmt(perSecond)} cosignatures/s   (target ≥ 2,000; ${fmt((perSecond / signRate) * 100)}% of the Ed25519 sign bound; non-200: ${other})`);
}

await run(1);
await run(LOGS);
child.kill('SIGTERM');
rmSync(dbPath, { force: true });
rmSync(`${dbPath}-wal`, { force: true });
rmSync(`${dbPath}-shm`, { force: true });
