/**
 * The streams, environment and exit status one `vitrine` run works with.
 * cmd/vitrine.ts runs the program on the process's own (`processIo`); a
 * caller that runs commands in its own process (cmd/program.ts `run`, used
 * by the command-line tests) gives its own buffers instead, so a command
 * never reaches for `process.stdout` and the like directly.
 *
 * Commands that own the process for as long as they run (`serve`, and
 * `monitor` itself, with their signal handlers and exit) still use the
 * process: they run only as the `vitrine` process.
 */
import type { Readable, Writable } from 'node:stream';

/** An output stream; `isTTY` and `columns` as a terminal's (for the help's width). */
export type Output = Writable & { isTTY?: boolean; columns?: number };

export interface Io {
  readonly stdin: Readable;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** What `process.exitCode` is to a process: the status of a run that ends without an error. */
  exitCode: number | undefined;
}

/** The process's own. Getters: `process.stdin` is created only if a command reads it. */
export const processIo: Io = {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  get env() {
    return process.env;
  },
  get exitCode() {
    const c = process.exitCode;
    return c === undefined ? undefined : Number(c);
  },
  set exitCode(code: number | undefined) {
    process.exitCode = code;
  },
};

/** Writes all of `bytes` and waits until the stream has taken them (binary output such as an entry or a bundle). */
export function writeAll(out: Writable, bytes: Uint8Array | string): Promise<void> {
  return new Promise<void>((res, rej) => out.write(bytes, (err) => (err ? rej(err) : res())));
}
