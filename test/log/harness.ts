/**
 * Test harness for the log: an in-process log on a temporary data directory,
 * served on 127.0.0.1 port 0, plus helpers to make signed entries and to
 * re-check the log's invariants from the outside (tiles, checkpoint, proofs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpServer } from '../../src/http/server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntry, signEntry } from '../../src/entry/index.js';
import { sha256 } from '../../merkle/index.js';
import { createLogHandler } from '../../src/http/log-app.js';
import { openLog, type OpenedLog, type OpenLogOptions } from '../../src/log/datadir.js';
import { LogMetrics } from '../../src/log/metrics.js';
import { generateSigner, type Signer } from '../../src/note/index.js';
import { silentLogger } from '../../src/util/logger.js';
import type { RateLimiter } from '../../src/util/ratelimit.js';

export const ORIGIN = 'test.example/log';

export interface TestLog {
  url: string;
  dir: string;
  opened: OpenedLog;
  server: Server;
  metrics: LogMetrics;
  close(): Promise<void>;
}

const madeDirs: string[] = [];
// Whatever a test forgot (or could not, after a failure) is removed when its process ends.
process.once('exit', () => {
  for (const d of madeDirs) rmSync(d, { recursive: true, force: true });
});

/** A new directory under the system temp dir, removed when the test process exits. */
export function tempDir(prefix = 'vitrine-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

export async function startLog(opts: Partial<OpenLogOptions> & { dir?: string; rateLimiter?: RateLimiter } = {}): Promise<TestLog> {
  const dir = opts.dir ?? tempDir();
  const metrics = new LogMetrics();
  const opened = await openLog({
    dir,
    origin: ORIGIN,
    batchInterval: 0,
    batchSize: 4096,
    poolSize: 65536,
    maxEntryBytes: 8192,
    witnessMetrics: metrics.witness,
    // A small read cache (8 full tiles' worth), so tests also go through its evictions.
    readCacheBytes: 64 * 1024,
    ...opts,
  });
  metrics.watchReadCache(opened.service.readCache);
  const app = createLogHandler({ service: opened.service, metrics, log: silentLogger, maxEntryBytes: opts.maxEntryBytes ?? 8192, rateLimiter: opts.rateLimiter });
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    opened,
    server,
    metrics,
    async close() {
      await opened.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

let counter = 0;
export const defaultSigner: Signer = generateSigner('signer.test.example', nodeEd25519);

/** A fresh, validly signed canonical entry with a unique name. */
export function makeEntry(signer: Signer = defaultSigner, name?: string, annotations?: Record<string, string>): Uint8Array {
  const n = name ?? `pkg:generic/test@${process.pid}.${Date.now()}.${counter++}`;
  const digest = sha256(new TextEncoder().encode(`artifact ${n}`));
  return encodeEntry(signEntry({ name: n, digest, annotations }, signer.seed, nodeEd25519));
}

export async function post(url: string, body: Uint8Array | string, contentType = 'application/cbor', timeoutMs?: number): Promise<{ status: number; json: any; headers: Headers }> {
  const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  const res = await fetch(`${url}/v1/entries`, { method: 'POST', headers: { 'Content-Type': contentType }, body, signal });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function get(url: string): Promise<{ status: number; body: Uint8Array; text: string; headers: Headers }> {
  const res = await fetch(url);
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, body, text: new TextDecoder().decode(body), headers: res.headers };
}
