/**
 * The `vitrine` program: the table of subcommands and the exit codes every
 * --help ends with. cmd/vitrine.ts runs it on the process's streams; tests
 * run it on their own (cmd/io.ts) to check many cases of one command without
 * spawning a process per case, and build it to read the help.
 *
 * Subcommand modules are imported lazily: `vitrine sign ...` loads only
 * cmd/sign.ts and what it needs, so a short command starts fast. The
 * top-level help (or an unknown command) loads them all.
 */
import { Command } from 'commander';
import { EXIT_HELP, EXIT_OK, report, type Register } from './common.js';
import { processIo, type Io } from './io.js';

/** Command modules: one line each, keyed by the subcommand they register. */
const commands: Record<string, () => Promise<{ register: Register }>> = {
  keygen: () => import('./keygen.js'),
  sign: () => import('./sign.js'),
  verify: () => import('./verify.js'),
  'verify-evidence': () => import('./verify-evidence.js'),
  serve: () => import('./serve.js'),
  submit: () => import('./submit.js'),
  monitor: () => import('./monitor.js'),
  migrate: () => import('./migrate.js'),
  log: () => import('./read.js'),
  get: () => import('./read.js'),
  search: () => import('./read.js'),
  proof: () => import('./read.js'),
  key: () => import('./key.js'),
};

/** The names of every subcommand, in help order. */
export const COMMAND_NAMES: readonly string[] = Object.keys(commands);

/**
 * Runs `vitrine ARGV...` (ARGV without the node and script paths) on `io`
 * and resolves with its exit status: `io.exitCode` (0 if unset) when the
 * command returns, or the status of the error it threw, whose message is
 * then on `io.stderr`.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    const program = await buildProgram(argv[0], io);
    await program.parseAsync([...argv], { from: 'user' });
    return io.exitCode ?? EXIT_OK;
  } catch (err) {
    return report(err, io);
  }
}

/** Builds the program with the named subcommand (all of them when `only` is not one). */
export async function buildProgram(only?: string, io: Io = processIo): Promise<Command> {
  const program = new Command('vitrine')
    .description('Vitrine: a binary transparency log for software releases.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Subcommands copy this when they are created (commander's inherited settings).
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    // A terminal's width, else commander's default of 80.
    getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) ?? 80,
    getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) ?? 80,
  });
  const names = only !== undefined && Object.hasOwn(commands, only) ? [only] : COMMAND_NAMES;
  // One module may register several commands (cmd/read.ts): register each module once.
  const modules = new Set(await Promise.all(names.map((n) => commands[n]!())));
  for (const m of modules) m.register(program, io);
  addExitStatus(program);
  return program;
}

/** Commands whose own help text already lists their exit codes. */
const OWN_EXIT_HELP = new Set(['verify', 'verify-evidence', 'monitor', 'monitor alerts', 'monitor ack']);

/** Exit codes of commands that differ from the common EXIT_HELP. */
const EXIT_HELP_OF: Record<string, string> = {
  serve: 'Exit status: 0 stopped by SIGINT or SIGTERM, or --print-vkey printed the key;\n1 refusing to start (the reason is on stderr) or a failure while running;\n2 usage error (bad flag or argument).',
};

/** Every command's --help ends with its exit codes (nested ones keyed "monitor ack"). */
function addExitStatus(cmd: Command, prefix = ''): void {
  for (const sub of cmd.commands) {
    const name = `${prefix}${sub.name()}`;
    if (!OWN_EXIT_HELP.has(name)) sub.addHelpText('after', `\n${EXIT_HELP_OF[name] ?? EXIT_HELP}`);
    addExitStatus(sub, `${name} `);
  }
}
