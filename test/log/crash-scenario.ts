/**
 * The crash scenario of crash.test.ts and crash-workers.test.ts
 * (ARCHITECTURE.md log invariant 1): a real `vitrine serve` child process
 * is killed with SIGKILL at random moments under concurrent load, several
 * times over. After each restart, every entry that was answered 201/200 is
 * at its index, every checkpoint ever handed out is consistent with the new
 * one, and the server started again without repair.
 */
import type { Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { audit } from './audit.js';
import { makeEntry, removeDir, tempDir } from './harness.js';

const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');
const ORIGIN = 'crash.example/log';

interface Running {
  child: ChildProcess;
  url: string;
  vkey?: string;
}

async function startServer(dir: string, extra: readonly string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0', '--batch-interval', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s: ${err}`)), 60_000);
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /"event":"start".*?"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${m[1]}`, vkey: out.trim() || undefined });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}

/** Runs the scenario: `rounds` kills of a server started with `extra` flags, then a final audit. */
export async function crashScenario(t: Test, rounds: number, extra: readonly string[] = []): Promise<void> {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  const dir = tempDir('vitrine-crash-');
  t.teardown(() => removeDir(dir));
  const acknowledged = new Map<number, string>(); // index -> leafHash
  const checkpoints = new Map<string, string>(); // note -> note (deduplicated)
  let vkey: string | undefined;
  for (let round = 0; round < rounds; round++) {
    const server = await startServer(dir, extra);
    server.child.on('exit', () => {});
    if (server.vkey) vkey = server.vkey;
    t.ok(vkey, `round ${round}: the log's key is known`);
    // After a restart: everything acknowledged before the kill is still there.
    const result = await audit(server.url, vkey!, [...checkpoints.keys()]);
    for (const [index, leafHash] of acknowledged) {
      const res = await fetch(`${server.url}/v1/entries/${index}`);
      const body = (await res.json()) as { leafHash?: string };
      if (body.leafHash !== leafHash) t.fail(`round ${round}: acknowledged entry ${index} is missing or moved`);
    }
    t.ok(result.size >= acknowledged.size, `round ${round}: ${acknowledged.size} acknowledged entries all present (size ${result.size})`);
    t.pass(`round ${round}: ${checkpoints.size} earlier checkpoints are consistent with the restarted log`);

    // Load: 16 clients submitting in a loop until the kill.
    let stop = false;
    const clients = Array.from({ length: 16 }, async () => {
      while (!stop) {
        try {
          const res = await fetch(`${server.url}/v1/entries`, { method: 'POST', headers: { 'Content-Type': 'application/cbor' }, body: makeEntry() });
          if (res.status === 201 || res.status === 200) {
            const body = (await res.json()) as { index: number; leafHash: string; checkpoint: string };
            acknowledged.set(body.index, body.leafHash);
            checkpoints.set(body.checkpoint, body.checkpoint);
          }
        } catch {
          // Connection reset by the kill: not acknowledged, so nothing is owed.
        }
      }
    });
    // Kill at a random moment once this round's load is flowing (an answer came back), so that
    // every round kills a server with batches in flight, however slow the machine is.
    const before = acknowledged.size;
    while (acknowledged.size === before) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 900)));
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    stop = true;
    await Promise.all(clients);
  }
  const final = await startServer(dir, extra);
  t.teardown(() => final.child.kill('SIGKILL'));
  const result = await audit(final.url, vkey!, [...checkpoints.keys()]);
  for (const [index, leafHash] of acknowledged) {
    const body = (await (await fetch(`${final.url}/v1/entries/${index}`)).json()) as { leafHash?: string };
    if (body.leafHash !== leafHash) t.fail(`final: acknowledged entry ${index} is missing or moved`);
  }
  t.ok(acknowledged.size > 0, `the load test acknowledged entries (${acknowledged.size})`);
  t.ok(result.size >= acknowledged.size, `final audit: size ${result.size} covers all ${acknowledged.size} acknowledged entries`);
}
