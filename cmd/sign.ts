/**
 * `vitrine sign`: signs an artifact offline and writes the canonical entry
 * (docs/formats.md §4) that `vitrine submit` later sends to a log. The artifact
 * is hashed as a stream, so its size does not matter; nothing touches the
 * network, so this runs on an air-gapped signing machine. Prints the entry's
 * leaf hash (RFC 9162 §2.1.1) in base64, as the log's API answers it and
 * `vitrine get` shows it.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { b64encode, hexEncode } from '../src/encoding.js';
import { VitrineError } from '../src/errors.js';
import { digestFile, digestStream } from '../src/entry/digest.js';
import { encodeEntry, entryLeafHash, entrySignedMessage, signEntry, type Annotations } from '../src/entry/index.js';
import { parseSigner, type Signer } from '../src/note/index.js';
import { CliError, collect, EXIT_FAIL, UsageError } from './common.js';
import { writeAll, type Io } from './io.js';

interface SignOptions {
  key: string;
  name: string;
  annotate?: string[];
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** A private key file is one line; anything much larger is not one. */
const MAX_KEY_FILE = 4096;

export function register(program: Command, io: Io): void {
  program
    .command('sign')
    .description('Sign an artifact offline: write its log entry to ARTIFACT.entry (or -o) and print the leaf hash.')
    .argument('<artifact>', 'the file to sign (streamed: any size; - for stdin, with -o)')
    .addOption(new Option('--key <file>', 'the signer private key file (skey), as written by vitrine keygen; mode 0600').env('VITRINE_KEY').makeOptionMandatory())
    .requiredOption('--name <name>', 'the artifact name recorded in the log, e.g. pkg:npm/left-pad@1.3.0 (1-255 bytes, no control characters)')
    .option('--annotate <key=value>', 'add an annotation (repeatable, at most 16; key: ^[a-z0-9][a-z0-9._-]{0,63}$)', collect, [])
    .option('-o, --out <file>', 'where to write the entry (default: ARTIFACT.entry; - for stdout, which then carries the entry instead of the leaf hash)')
    .option('--force', 'overwrite the output file if it exists')
    .option('--json', 'print {name, digest, leafHash, out} as one JSON object (on stderr with -o -) (docs/cli.md)')
    .addHelpText(
      'after',
      `
Examples:
  # once: create the release signing key (keep release.key offline)
  $ vitrine keygen --name release.example.com/signer --out release.key > release.vkey

  # on the signing machine, no network needed
  $ vitrine sign --key release.key --name pkg:npm/left-pad@1.3.0 \\
      --annotate version=1.3.0 --annotate commit=9f1c2e7 left-pad-1.3.0.tgz
  PwrQ…=  (the leaf hash, base64; the entry is in left-pad-1.3.0.tgz.entry)

  # then, on a connected machine, log it (writes left-pad-1.3.0.tgz.tlog-proof)
  $ vitrine submit --log https://log.example.com/vitrine --log-key "$(cat log.vkey)" left-pad-1.3.0.tgz.entry

  # the key from the environment; the entry on stdout
  $ VITRINE_KEY=release.key vitrine sign --name pkg:npm/left-pad@1.3.0 -o - left-pad-1.3.0.tgz > entry.bin

The entry holds the name, the artifact's SHA-256, the signer's public key,
the annotations and an Ed25519 signature over all of them (docs/formats.md §4).
Signing is deterministic: signing the same file with the same key, name and
annotations again gives the same entry. An existing output file is never
replaced unless --force is given.`,
    )
    .action((artifact: string, opts: SignOptions) => sign(artifact, opts, io));
}

async function sign(artifact: string, opts: SignOptions, io: Io): Promise<void> {
  const annotations = parseAnnotations(opts.annotate ?? []);
  const stdin = artifact === '-';
  if (stdin && opts.out === undefined) throw new UsageError('with the artifact on stdin (-), give -o FILE or -o - for the entry');
  const out = opts.out ?? `${artifact}.entry`;
  if (out.length === 0) throw new UsageError('--out: must not be empty');
  if (out !== '-' && !stdin && resolve(out) === resolve(artifact)) throw new UsageError('--out: must not be the artifact itself');
  const signer = await readSigner(opts.key);

  // Check the name and annotations before hashing what may be gigabytes.
  const fields = annotations === undefined ? { name: opts.name } : { name: opts.name, annotations };
  try {
    entrySignedMessage({ ...fields, digest: new Uint8Array(32), key: signer.publicKey });
  } catch (err) {
    if (err instanceof VitrineError) throw new UsageError(flagMessage(err.message));
    throw err;
  }

  let digest: Uint8Array;
  if (stdin) {
    digest = await digestStream(io.stdin);
  } else {
    const info = await stat(artifact).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new CliError(`artifact file ${artifact}: no such file`, EXIT_FAIL);
      throw err;
    });
    if (info.isDirectory()) throw new CliError(`artifact ${artifact}: is a directory, not a file`, EXIT_FAIL);
    digest = await digestFile(artifact);
  }
  const entry = signEntry({ ...fields, digest }, signer.seed, nodeEd25519);
  const bytes = encodeEntry(entry);

  const leaf = b64encode(entryLeafHash(bytes));
  if (out === '-') {
    // The entry is binary: stdout carries it alone; the leaf hash goes to stderr.
    await writeAll(io.stdout, bytes);
    if (opts.json) io.stderr.write(`${JSON.stringify({ name: opts.name, digest: hexEncode(digest), leafHash: leaf, out })}\n`);
    else io.stderr.write(`vitrine: signed ${opts.name} (sha256 ${hexEncode(digest)}, leaf ${leaf}); wrote the entry to stdout\n`);
    return;
  }
  let handle;
  try {
    // 'wx' creates exclusively, so an existing entry is never replaced by accident, even in a race.
    handle = await open(out, opts.force ? 'w' : 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${out} already exists; refusing to overwrite it (use --force, or choose another -o)`, EXIT_FAIL);
    }
    throw err;
  }
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ name: opts.name, digest: hexEncode(digest), leafHash: leaf, out })}\n`);
    return;
  }
  io.stdout.write(`${leaf}\n`);
  io.stderr.write(`vitrine: signed ${opts.name} (sha256 ${hexEncode(digest)}); wrote the entry to ${out}\n`);
}

/** `k=v` pairs, split at the first '='; a repeated key is a mistake, never "last one wins". */
export function parseAnnotations(pairs: readonly string[]): Annotations | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`--annotate: ${JSON.stringify(pair)} is not key=value`);
    const key = pair.slice(0, eq);
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new UsageError(`--annotate: key ${JSON.stringify(key)} is given more than once`);
    out[key] = pair.slice(eq + 1);
  }
  // A plain object again: the entry codec reads own enumerable keys only.
  return { ...out };
}

/** Rewrites the entry codec's field names as the flags that set them. */
function flagMessage(message: string): string {
  return message.replace(/^entry\.name\b/, '--name').replace(/^entry\.annotations\b/, '--annotate');
}

export async function readSigner(path: string): Promise<Signer> {
  let text: string;
  let mode: number;
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size > MAX_KEY_FILE) throw new UsageError(`--key: ${path} is not a private key file`);
    mode = info.mode;
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`key file ${path}: no such file`, EXIT_FAIL);
    throw err;
  }
  let signer: Signer;
  try {
    signer = parseSigner(text, nodeEd25519);
  } catch (err) {
    // parseSigner's messages never carry key material.
    if (err instanceof VitrineError) throw new UsageError(`--key: ${path}: ${err.message}`);
    throw err;
  }
  // A private key others can read is a leaked key: refuse it as serve refuses
  // its log key. (A file that is no key at all got the usage error above.)
  if ((mode & 0o077) !== 0) {
    throw new CliError(`refusing to use the signer key ${path}: it is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`, EXIT_FAIL);
  }
  return signer;
}
