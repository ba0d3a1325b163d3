/**
 * The one fixture of the command-line tests: run the built `vitrine`
 * (dist/cmd/vitrine.js, which `npm test` builds first) as a child process,
 * run a command in this process (`vitrineIn`: the same program, on buffers
 * instead of the process's streams, without a process's start-up cost), and
 * start a real `vitrine serve` on port 0. Every CLI test uses these instead
 * of its own copy, so each file starts its log once and the way a child is
 * spawned, cleaned of VITRINE_* variables and bounded in time is the same
 * everywhere.
 *
 * Many cases of one command run in-process; what is about the process
 * itself (exit codes as the shell sees them, stdin and stdout as pipes,
 * environment variables, signals) runs the binary, and cli-basics checks
 * that both give the same bytes and codes.
 *
 * The children never inherit VITRINE_* from the test's environment: a test
 * that wants them passes them in `env`, so a developer's own VITRINE_LOG
 * cannot change what a test checks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { rootPath } from './_root.js';

export const BIN = rootPath('dist/cmd/vitrine.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** VITRINE_* (or other) variables for this run; nothing VITRINE_* is inherited. */
  env?: Record<string, string>;
  /** Bytes for stdin; without it stdin is closed (/dev/null). */
  input?: string | Buffer;
}

/** The test process's environment without any VITRINE_* variable, plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITRINE_'))), ...env };
}

/** A safety net only: no CLI run in these tests takes more than seconds. */
const KILL_AFTER_MS = 120_000;

/**
 * Runs `vitrine ARGS` in `cwd` without blocking the event loop (a test
 * server may live in this process), and resolves when it has exited and
 * its output is closed.
 */
export function vitrine(cwd: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(opts.env), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Collects what a command writes. */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

// In-process runs read commander's option defaults (--log from VITRINE_LOG...)
// from this process's environment: drop VITRINE_* here too, as for children,
// except the harness's own VITRINE_TEST_* (the PostgreSQL server of test/log/pg.ts),
// which no command reads.
for (const k of Object.keys(process.env)) if (k.startsWith('VITRINE_') && !k.startsWith('VITRINE_TEST_')) delete process.env[k];

/** In-process runs take turns: each changes this process's working directory while it runs. */
let turn: Promise<unknown> = Promise.resolve();

/**
 * Runs `vitrine ARGS` in this process with `cwd` as the working directory,
 * stdin from `input` (empty without it), stdout and stderr collected, and
 * the environment without VITRINE_* plus `env` (set in this process's own
 * environment while it runs, where commander reads option defaults such as
 * VITRINE_LOG): what `vitrine` does as a child, without starting one. Not
 * for `serve` (but `serve --print-vkey`) or `monitor` runs: they own the
 * process (signals, exit).
 */
export function vitrineIn(cwd: string, args: string[], opts: CliOptions = {}): Promise<CliResult & { out: Buffer }> {
  if ((args[0] === 'serve' && !args.includes('--print-vkey')) || (args[0] === 'monitor' && args[1] !== 'alerts' && args[1] !== 'ack')) throw new Error(`vitrineIn: run ${args[0]} as a process (vitrine())`);
  const run = async () => {
    const { run } = await import('../cmd/program.js');
    const stdout = new Sink();
    const stderr = new Sink();
    const stdin = Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]);
    const env = opts.env ?? {};
    const before = process.cwd();
    const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
    process.chdir(cwd);
    Object.assign(process.env, env);
    try {
      const code = await run(args, { stdin, stdout, stderr, env: cleanEnv(env), exitCode: undefined });
      const out = stdout.bytes();
      return { code, stdout: out.toString('utf8'), stderr: stderr.bytes().toString('utf8'), out };
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      process.chdir(before);
    }
  };
  const result = turn.then(run, run);
  turn = result.catch(() => undefined);
  return result;
}

/** The same, synchronously, with stdout as bytes (for `sign -o -`). Only where no server lives in this process. */
export function vitrineSync(cwd: string, args: string[], opts: CliOptions = {}): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(opts.env), input: opts.input, timeout: KILL_AFTER_MS });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

export interface Serve {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The log's vkey, as the first start printed it. */
  vkey: string;
  /** Everything the server wrote to stderr so far (its JSON log lines). */
  log: () => string;
  /** SIGTERM, and wait for the exit. */
  stop: () => Promise<void>;
}

/**
 * Starts `vitrine serve --data DATA --origin ORIGIN --listen 127.0.0.1:0`
 * (plus `extra` flags) and resolves once it logs the address it listens on.
 * The caller registers `stop` as a teardown.
 */
export function startServe(data: string, origin: string, extra: string[] = []): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', data, '--origin', origin, '--listen', '127.0.0.1:0', ...extra], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  const stop = () => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM'))));
  return new Promise<Serve>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, vkey: out.trim(), log: () => err, stop });
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
}

/** The size of a log's current checkpoint (second line of the note). */
export async function treeSize(url: string): Promise<number> {
  return Number((await (await fetch(`${url}/checkpoint`)).text()).split('\n')[1]);
}

/**
 * The full `--help` text of `vitrine PATH... --help`, read from the program
 * itself (cmd/program.ts) without a process: the text is the same, and
 * test/cli-basics.test.ts checks once that the binary prints it and exits 0.
 * No PATH: the top-level help.
 */
export async function helpOf(...path: string[]): Promise<string> {
  const { buildProgram } = await import('../cmd/program.js');
  let cmd: Command = await buildProgram(path[0]);
  for (const name of path) {
    const sub = cmd.commands.find((c) => c.name() === name);
    if (sub === undefined) throw new Error(`no command ${path.join(' ')}`);
    cmd = sub;
  }
  return helpText(cmd);
}

/** The help text of one command, as `--help` prints it. */
export function helpText(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}
