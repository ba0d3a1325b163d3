/**
 * The independent Go client of the read API (test/go/tlog-check, on Go's
 * golang.org/x/mod/sumdb/{note,tlog}), built with Debian's golang-go and
 * golang-golang-x-mod-dev (GOPATH mode, as .ci/run installs them), and run
 * against a log's base URL.
 *
 * The binary is kept beside Go's build cache under a name that hashes the
 * sources and `go version`, so the test files that use it build it once
 * between them instead of once each (even a cached `go build` links anew:
 * about a second of CPU).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './harness.js';

let built: string | undefined;

/** The path of the built checker. */
export function goTlogCheck(): string {
  if (built !== undefined) return built;
  const src = join(process.cwd(), 'test/go/tlog-check');
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmpdir(), 'vitrine-go-cache'), GOFLAGS: '' };
  mkdirSync(env.GOCACHE, { recursive: true });
  const version = spawnSync('go', ['version'], { env, encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`go version failed (${version.status}): ${version.stderr}${version.error?.message ?? ''}`);
  const hash = createHash('sha256').update(version.stdout);
  for (const f of readdirSync(src).sort()) hash.update(`\0${f}\0`).update(readFileSync(join(src, f)));
  const out = join(env.GOCACHE, `tlog-check-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(out)) {
    // Built under a name of its own (in the same temporary directory), then renamed into place:
    // a test process running beside this one never runs half a file.
    const tmp = join(tempDir('vitrine-go-'), 'tlog-check');
    const r = spawnSync('go', ['build', '-o', tmp, '.'], { cwd: src, env, encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) throw new Error(`go build of test/go/tlog-check failed (${r.status}): ${r.stderr}${r.error?.message ?? ''}`);
    renameSync(tmp, out);
  }
  built = out;
  return out;
}

export interface GoCheckSummary {
  origin: string;
  size: number;
  root: string;
  tiles: number;
  proved: number;
  consistent: number;
  cosigned: string[];
}

export interface GoCheckResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The JSON summary, when the checker passed. */
  summary?: GoCheckSummary;
}

/**
 * Runs the checker against `url` (asynchronously: the log under test may be
 * served by this very process) with the log's `vkey`, the `earlier` signed
 * checkpoints that must be prefixes of the served tree, and the witness
 * vkeys whose cosignatures /checkpoint must carry.
 */
export async function runGoTlogCheck(url: string, vkey: string, o: { earlier?: readonly string[]; witnesses?: readonly string[]; proofs?: number } = {}): Promise<GoCheckResult> {
  const dir = tempDir('vitrine-gocheck-');
  const args: string[] = [];
  (o.earlier ?? []).forEach((note, i) => {
    const f = join(dir, `earlier-${i}`);
    writeFileSync(f, note);
    args.push('-earlier', f);
  });
  for (const w of o.witnesses ?? []) args.push('-witness', w);
  if (o.proofs !== undefined) args.push('-proofs', String(o.proofs));
  const child = spawn(goTlogCheck(), [...args, url, vkey], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const result: GoCheckResult = { status, stdout, stderr };
  if (status === 0) result.summary = JSON.parse(stdout) as GoCheckSummary;
  return result;
}
