/**
 * Shared plumbing of the `vitrine` command line: exit codes, and the error
 * output that turns what a command throws into one plain line on stderr.
 * User errors never print a stack trace; set VITRINE_DEBUG=1 to see one.
 */
import { CommanderError, type Command } from 'commander';
import { VitrineError } from '../src/errors.js';
import type { Io } from './io.js';

export const EXIT_OK = 0;
/** Invalid result (verification failed) or an operational error. */
export const EXIT_FAIL = 1;
/** Usage error: bad flags or arguments. */
export const EXIT_USAGE = 2;

/** The exit codes shared by every command, as --help shows them. */
export const EXIT_HELP =
  'Exit status: 0 success; 1 the operation failed (the reason is on stderr);\n2 usage error (bad flag, argument or key).';

/** A usage mistake the parser could not catch (exit 2). */
export class UsageError extends Error {}

/** An error whose message is already a complete sentence for the user, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAIL) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * The exit status of a run that threw `err`, after saying why on stderr in
 * one line (commander has already printed its own usage errors).
 */
export function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  let code = EXIT_FAIL;
  let message: string;
  if (err instanceof UsageError) {
    code = EXIT_USAGE;
    message = err.message;
  } else if (err instanceof CliError) {
    code = err.exitCode;
    message = err.message;
  } else if (err instanceof VitrineError) {
    message = err.message;
  } else if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('E')) {
    // System errors (ENOENT, EACCES, ECONNREFUSED...) are user-facing, not bugs.
    message = err.message;
  } else {
    message = err instanceof Error ? `internal error: ${err.message}` : `internal error: ${String(err)}`;
  }
  io.stderr.write(`vitrine: ${message}\n`);
  if (io.env['VITRINE_DEBUG'] && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return code;
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses a positive integer flag, or throws a UsageError naming the flag. */
export function intOption(flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new UsageError(`${flag}: must be between ${min} and ${max}`);
    return n;
  };
}

/** The signature every command module exports. */
export type Register = (program: Command, io: Io) => void;
