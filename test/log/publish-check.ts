/**
 * The check of `vitrine serve --publish-dir DIR` (issue 10 §4,
 * docs/operations.md "Publishing the read path as static files") that
 * publish.test.ts (SQLite) and publish-postgres.test.ts run, with real
 * processes on port 0: while submissions flow, every
 * checkpoint seen in DIR already has every tile and entry bundle it needs
 * (tiles land first); afterwards every published file is byte-identical to
 * the API's answer for its path, no temporary file is left, and a monitor
 * pointed at a plain node:http static file server of DIR audits the whole
 * log without an alert. A restart publishes on from where it stopped.
 */
import type { Test } from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { openCheckpoint, parseVerifier } from '../../src/note/index.js';
import { tileIndexPath } from './audit.js';
import { get, makeEntry, ORIGIN, post, removeDir, tempDir } from './harness.js';
import { readState, runOnce } from '../monitor/helpers.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

/**
 * Every path the tlog-tiles read path of a tree of `size` has (the test's
 * own reckoning, from c2sp.org/tlog-tiles), with the byte length of hash
 * tiles (32 per hash; undefined for entry bundles).
 */
export function neededPaths(size: number): Array<{ path: string; bytes?: number }> {
  const out: Array<{ path: string; bytes?: number }> = [];
  for (let level = 0, n = size; n > 0; level++, n = Math.floor(n / 256)) {
    for (let i = 0; i * 256 < n; i++) {
      const w = Math.min(256, n - i * 256);
      const suffix = w === 256 ? '' : `.p/${w}`;
      out.push({ path: `tile/${level}/${tileIndexPath(i)}${suffix}`, bytes: 32 * w });
      if (level === 0) out.push({ path: `tile/entries/${tileIndexPath(i)}${suffix}` });
    }
  }
  return out;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

const sizeOf = (note: string) => Number(note.split('\n')[1]);

export async function serve(args: string[]): Promise<{ proc: Proc; base: string; vkey: string }> {
  const proc = startProc([...args, '--origin', ORIGIN, '--listen', '127.0.0.1:0']);
  const start = await proc.waitEvent('start', 60_000);
  return { proc, base: `http://127.0.0.1:${portOf(start)}`, vkey: String(start['verifierKey']) };
}

/**
 * Submits `n` entries, 16 at a time, while checking every checkpoint that
 * appears in `pub`: whole and signed by the log (atomic), and every tile it
 * needs already there at its full length.
 */
async function submitWatching(t: Test, base: string, pub: string, n: number, vkey: string): Promise<void> {
  let running = true;
  let seen = 0;
  const missing: string[] = [];
  const watcher = (async () => {
    let last = '';
    while (running) {
      const note = existsSync(join(pub, 'checkpoint')) ? readFileSync(join(pub, 'checkpoint'), 'utf8') : '';
      if (note !== '' && note !== last) {
        last = note;
        seen++;
        missing.push(...checkConsistent(pub, vkey));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  let next = 0;
  const statuses = new Set<number>();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        next++;
        statuses.add((await post(base, makeEntry())).status);
      }
    }),
  );
  running = false;
  await watcher;
  t.same([...statuses], [201], `${n} submissions accepted`);
  t.ok(seen > 1, `the watcher saw ${seen} published checkpoints`);
  t.same(missing.slice(0, 5), [], 'every published checkpoint was whole, signed, and found all its tiles and bundles already there, whole');
}

/** Checks what a reader of `pub` sees now: a checkpoint signed by the log, and every tile it needs, whole. */
export function checkConsistent(pub: string, vkey: string): string[] {
  const problems: string[] = [];
  const note = readFileSync(join(pub, 'checkpoint'), 'utf8');
  try {
    openCheckpoint(note, parseVerifier(vkey), nodeEd25519);
  } catch (err) {
    problems.push(`the checkpoint does not verify: ${(err as Error).message}`);
  }
  for (const p of neededPaths(sizeOf(note))) {
    const file = join(pub, p.path);
    if (!existsSync(file)) problems.push(`${p.path} (checkpoint ${sizeOf(note)})`);
    else if (p.bytes !== undefined && statSync(file).size !== p.bytes) problems.push(`${p.path} has ${statSync(file).size} bytes, not ${p.bytes}`);
  }
  return problems;
}

/** Waits until DIR/checkpoint is what GET /checkpoint answers; returns it. */
export async function published(base: string, pub: string): Promise<string> {
  const api = (await get(`${base}/checkpoint`)).text;
  for (let i = 0; i < 200; i++) {
    if (existsSync(join(pub, 'checkpoint')) && readFileSync(join(pub, 'checkpoint'), 'utf8') === api) return api;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the published checkpoint never caught up with the API');
}

/** Compares every file in `pub` with the API; after a crash, temporary files may be left (`crashed`) and are skipped. */
export async function compareWithApi(t: Test, base: string, pub: string, crashed = false): Promise<string[]> {
  const isTmp = (f: string) => f.split('/').pop()!.startsWith('.');
  if (!crashed) t.same(files(pub).filter(isTmp), [], 'no temporary file is left');
  const all = files(pub).filter((f) => !isTmp(f));
  const differ: string[] = [];
  for (const f of all) {
    const r = await get(`${base}/${f}`);
    if (r.status !== 200 || Buffer.compare(r.body, readFileSync(join(pub, f))) !== 0) differ.push(`${f} (${r.status})`);
  }
  t.same(differ, [], `all ${all.length} published files are byte-identical to the API's answers`);
  return all;
}

/** A plain static file server of `dir` (what nginx would be): 200 with the file, or 404. */
async function staticServer(t: Test, dir: string): Promise<string> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.includes('..')) {
      res.writeHead(400).end();
      return;
    }
    readFile(join(dir, path)).then(
      (body) => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end('not found\n'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function exercise(t: Test, storageArgs: string[]): Promise<void> {
  const pub = join(tempDir(), 'pub');
  const monitorDir = tempDir();
  t.teardown(() => {
    removeDir(join(pub, '..'));
    removeDir(monitorDir);
  });
  const args = [...storageArgs, '--publish-dir', pub];
  let node = await serve(args);
  t.teardown(() => node.proc.stop('SIGKILL'));

  await submitWatching(t, node.base, pub, 600, node.vkey);
  const note = await published(node.base, pub);
  t.equal(sizeOf(note), 600, 'the published checkpoint is at size 600');
  const all = await compareWithApi(t, node.base, pub);
  for (const p of ['tile/0/000', 'tile/0/001', 'tile/0/002.p/88', 'tile/1/000.p/2', 'tile/entries/000', 'tile/entries/001', 'tile/entries/002.p/88', 'checkpoint']) {
    t.ok(all.includes(p), `${p} is published`);
  }

  const url = await staticServer(t, pub);
  const first = await runOnce(monitorDir, [{ url, vkey: node.vkey }], { init: true });
  t.equal(first.summary.security, 0, 'the monitor raises no security alert');
  t.equal(first.summary.operational, 0, 'and meets no operational failure');
  t.same(first.alerts, [], 'no alert printed');
  t.equal(readState(monitorDir).logs[0]?.audited, 600, 'it audited all 600 entries from the static files alone');

  // A restart: publishing goes on from the files already there.
  t.equal(await node.proc.stop('SIGTERM'), 0, 'a clean stop');
  node = await serve(args);
  await submitWatching(t, node.base, pub, 50, node.vkey);
  t.equal(sizeOf(await published(node.base, pub)), 650, 'after a restart the published checkpoint reaches 650');
  await compareWithApi(t, node.base, pub);
  const second = await runOnce(monitorDir, [{ url, vkey: node.vkey }]);
  t.equal(second.summary.security + second.summary.operational, 0, 'the monitor follows the static copy on, with no alert');
  const state = readState(monitorDir).logs[0];
  t.equal(state?.verified.size, 650, 'to size 650');
  t.equal(state?.audited, 650, 'every entry audited once');
  t.equal(await node.proc.stop('SIGTERM'), 0, 'a clean stop');
}

