/**
 * `vitrine verify`: checks an artifact against its offline proof bundle
 * (`.tlog-proof`, c2sp.org/tlog-proof; docs/formats.md §8) with no network
 * access. The artifact is hashed as a stream, so multi-gigabyte files take
 * constant memory; the five steps of §8 run in `verifyBundle` on the
 * node:crypto Ed25519 backend.
 *
 * Exit codes: 0 valid; 1 invalid (the first failed step is printed) or an
 * operational error such as a missing file; 2 usage error.
 */
import { open, readFile, stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { b64encode, hexEncode } from '../src/encoding.js';
import { VitrineError } from '../src/errors.js';
import { digestFileAll, digestStreamAll } from '../src/entry/digest.js';
import { decodeAnyEntry, entryArtifactHash } from '../src/entry/index.js';
import { parseCosignerVerifier, parseVerifier, TYPE_ED25519, type Verifier } from '../src/note/index.js';
import { MAX_BUNDLE_BYTES, parseBundle, verifyBundle, type BundleResult } from '../src/proof/index.js';
import { readSignerPins, signerNamer } from './signers.js';
import { CliError, collect, EXIT_FAIL, intOption, UsageError } from './common.js';
import type { Io } from './io.js';

interface VerifyOptions {
  logKey: string;
  signer: string[];
  witness: string[];
  quorum?: number;
  name?: string;
  json?: boolean;
}

export function register(program: Command, io: Io): void {
  program
    .command('verify')
    .description('Verify an artifact offline against its proof bundle (ARTIFACT.tlog-proof by default).')
    .argument('<artifact>', 'the file to verify (streamed: any size; - for stdin, with the bundle given)')
    .argument('[bundle]', 'the proof bundle (default: ARTIFACT.tlog-proof; - for stdin)')
    .requiredOption('--log-key <vkey>', "the log's verifier key, or a file holding it")
    .option('--signer <key>', 'accept only entries signed by this key: a vkey, an OpenSSH public key, a minisign public key or a PEM key; text or file (repeatable; default: any signer)', collect, [])
    .option('--witness <vkey>', 'a witness verifier key, type 0x04 or 0x01, or a file holding it (repeatable)', collect, [])
    .option('--quorum <k>', 'how many of the --witness keys must have cosigned (default: all of them)', intOption('--quorum', 0))
    .option('--name <name>', 'require the entry to name exactly this artifact (e.g. pkg:npm/my-lib@1.2.3)')
    .option('--json', 'print the result as one JSON object on stdout')
    .addHelpText(
      'after',
      `
Examples:
  # the log's key alone
  $ vitrine verify --log-key log.vkey left-pad-1.3.0.tgz

  # pin the release key and require 2 of 3 witnesses
  $ vitrine verify --log-key "log.example.com/vitrine+eac8b8a6+AWbg…" \\
      --signer release.vkey \\
      --witness w1.vkey --witness w2.vkey --witness w3.vkey --quorum 2 \\
      left-pad-1.3.0.tgz left-pad-1.3.0.tgz.tlog-proof

  # machine-readable
  $ vitrine verify --log-key log.vkey --json app.tar.gz | jq .ok

Every key may be given as the vkey string or as the path of a file holding it
(as vitrine keygen prints it). Nothing is fetched: the bundle carries the
entry, the inclusion proof and the signed, cosigned checkpoint.

Exit status: 0 the artifact is logged and every check passed; 1 a check
failed (stderr names the step: 1 entry and digest, 2 entry signature and
pinned signers, 3 inclusion proof, 4 log signature, 5 witness quorum) or a
file could not be read; 2 usage error (bad key, bad flag, missing argument).`,
    )
    .action((artifact: string, bundle: string | undefined, opts: VerifyOptions) => verify(artifact, bundle, opts, io));
}

async function verify(artifact: string, bundleArg: string | undefined, opts: VerifyOptions, io: Io): Promise<void> {
  const logKey = await readVerifier(opts.logKey, '--log-key');
  if (logKey.type !== TYPE_ED25519) throw new UsageError('--log-key: must be an Ed25519 (type 0x01) vkey, not a cosigner (type 0x04) key');
  const { signers, signerKeys } = await readSignerPins(opts.signer);
  const witnesses = await Promise.all(opts.witness.map((w) => readVerifier(w, '--witness', true)));
  const quorum = opts.quorum ?? witnesses.length;
  if (quorum > witnesses.length) {
    throw new UsageError(`--quorum: ${quorum} can never be met with ${witnesses.length} --witness key(s)`);
  }
  const stdin = artifact === '-';
  if (stdin && (bundleArg === undefined || bundleArg === '-')) throw new UsageError('with the artifact on stdin (-), give the bundle file as the second argument');
  const bundlePath = bundleArg ?? `${artifact}.tlog-proof`;
  const json = opts.json === true;
  // With --json, failures print their result object on stdout too.
  const out = json ? io.stdout : undefined;

  // Fail fast on a missing bundle before streaming a large artifact.
  if (!stdin) await checkFile(artifact, 'artifact file', out);
  const bundle = bundlePath === '-' ? await readStdin(io.stdin, MAX_BUNDLE_BYTES, out) : await readBounded(bundlePath, MAX_BUNDLE_BYTES, 'proof bundle file', out);
  let digest: Awaited<ReturnType<typeof digestFileAll>>;
  try {
    digest = stdin ? await digestStreamAll(io.stdin, extraHashes(bundle)) : await digestFileAll(artifact, extraHashes(bundle));
  } catch (err) {
    throw ioFailure(`${stdin ? 'stdin' : `artifact file ${artifact}`}: ${errorText(err)}`, artifact, out);
  }

  let result: BundleResult;
  try {
    result = verifyBundle(digest, bundle, { logKey, signers, signerKeys, witnesses, quorum, name: opts.name }, nodeEd25519);
  } catch (err) {
    // Only a policy mistake throws; the keys were checked above, so report it as usage.
    if (err instanceof VitrineError) throw new UsageError(err.message);
    throw err;
  }

  if (!result.ok) {
    if (json) printJson(io.stdout, { ok: false, step: result.step, code: result.code, message: result.message });
    throw new CliError(`step ${result.step}: ${result.message}`, EXIT_FAIL);
  }
  // One name per key (cmd/signers.ts): a version-1 signer pinned with --signer VKEY is name+keyID, as in its vkey.
  const signerNames = result.signers.map(signerNamer(signers));
  if (json) {
    const e = result.entry;
    printJson(io.stdout, {
      ok: true,
      name: e.name,
      digest: hexEncode(e.digest),
      keyHash: hexEncode(result.signers[0]!.keyHash),
      signers: signerNames,
      ...(e.annotations === undefined ? {} : { annotations: e.annotations }),
      index: result.index.toString(),
      origin: result.origin,
      treeSize: result.treeSize.toString(),
      rootHash: b64encode(result.rootHash),
      witnesses: result.witnesses,
      quorum,
    });
    return;
  }
  const cosigned =
    witnesses.length === 0
      ? 'witnesses: none required'
      : `witnesses: ${result.witnesses.join(', ') || 'none'} (${result.witnesses.length} of ${witnesses.length}, quorum ${quorum})`;
  io.stdout.write(`verified ${result.entry.name}: index ${result.index} in ${result.origin}, tree size ${result.treeSize}; signed by ${signerNames.join(', ')}; ${cosigned}\n`);
}

/** The digests besides SHA-256 the bundle's entry needs (SSH sha512, minisign BLAKE2b-512); none if it does not parse (verifyBundle says why). */
function extraHashes(bundle: Uint8Array): Array<'sha512' | 'blake2b-512'> {
  try {
    const second = entryArtifactHash(decodeAnyEntry(parseBundle(bundle).entry));
    return second === undefined ? [] : [second.algorithm];
  } catch {
    return [];
  }
}

/** Largest file read as a key: a vkey is one short line. */
const MAX_KEY_FILE = 4096;

/**
 * A vkey given on the command line, or the path of a file holding one (as
 * keygen prints it). A value that parses as a vkey is taken as one; anything
 * else must be a readable key file. Mistakes are usage errors (exit 2).
 * `cosigner` returns the type-0x04 verifier of a witness key of either type.
 */
export async function readVerifier(value: string, flag: string, cosigner = false): Promise<Verifier> {
  const parse = cosigner ? parseCosignerVerifier : parseVerifier;
  let direct: unknown;
  try {
    return parse(value);
  } catch (err) {
    direct = err;
  }
  let text: string | undefined;
  try {
    const info = await stat(value);
    if (info.isFile() && info.size <= MAX_KEY_FILE) text = await readFile(value, 'utf8');
  } catch {
    // Not a file either: report the vkey parse error below.
  }
  if (text === undefined) {
    const why = direct instanceof VitrineError ? direct.message : String(direct);
    throw new UsageError(`${flag}: ${JSON.stringify(value.slice(0, 100))} is neither a valid vkey (${why}) nor a key file`);
  }
  try {
    return parse(text.trim());
  } catch (err) {
    throw new UsageError(`${flag}: file ${value} does not hold a valid vkey: ${err instanceof VitrineError ? err.message : String(err)}`);
  }
}

/** Prints one JSON object on `out`, stdout (the machine-readable result). */
export function printJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}

/**
 * An operational failure (missing or unreadable file): exit 1 with a clear
 * sentence; with --json (`json`: stdout), also a result object with `step: null` there.
 */
export function ioFailure(message: string, file: string, json: Writable | undefined, code = 'io-error'): CliError {
  if (json !== undefined) printJson(json, { ok: false, step: null, code, message, file });
  return new CliError(message, EXIT_FAIL);
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file';
  if (e?.code === 'EISDIR') return 'is a directory';
  if (e?.code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

async function checkFile(path: string, label: string, json: Writable | undefined): Promise<void> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file-not-found' : 'io-error';
    throw ioFailure(`${label} ${path}: ${errorText(err)}`, path, json, code);
  }
}

/**
 * Reads at most `max + 1` bytes of a file: enough for the parser to refuse
 * an oversized file by its size without ever holding all of it.
 */
export async function readBounded(path: string, max: number, label: string, json: Writable | undefined): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buf = new Uint8Array(max + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file-not-found' : 'io-error';
    throw ioFailure(`${label} ${path}: ${errorText(err)}`, path, json, code);
  } finally {
    await handle?.close();
  }
}

/** Reads stdin, at most `max + 1` bytes (enough for a parser to refuse more by its size); `json` as in ioFailure. */
export async function readStdin(stdin: Readable, max: number, json: Writable | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of stdin) {
      const c = chunk as Uint8Array;
      chunks.push(c);
      size += c.length;
      // One byte over the limit is enough for the parser to refuse it by size.
      if (size > max) break;
    }
  } catch (err) {
    throw ioFailure(`stdin: ${err instanceof Error ? err.message : String(err)}`, '-', json);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
