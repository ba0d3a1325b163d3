/**
 * The part of `vitrine submit` that logs a signature made by another tool
 * (--signature SIG [--public-key KEY] [--format ssh|minisign|ecdsa]
 * [--namespace NS]): reads the files, hashes the artifact in one pass
 * (SHA-256, SHA-512, BLAKE2b-512) and builds the checked entry with
 * src/entry/native.ts. Kept apart from cmd/submit.ts so that the two lanes
 * editing the command touch different files.
 */
import { readFile } from 'node:fs/promises';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { digestFileAll } from '../src/entry/digest.js';
import { encodeEntryV2 } from '../src/entry/index.js';
import { nativeEntry, type SignatureFormat } from '../src/entry/native.js';
import { VitrineError } from '../src/errors.js';
import type { Annotations } from '../src/entry/entry.js';
import { CliError, UsageError } from './common.js';

export interface NativeOptions {
  signature: string;
  publicKey?: string;
  format?: string;
  namespace?: string;
  name?: string;
}

const FORMATS = new Set(['ssh', 'minisign', 'ecdsa']);
const MAX_SIGNATURE_FILE = 64 * 1024;

async function readFileBounded(path: string, max: number, what: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (data.length > max) throw new CliError(`${what} ${path} is larger than ${max} bytes`);
  return new Uint8Array(data);
}

/** The leaf bytes for ARTIFACT signed by SIG (the kind detected from the files unless --format forces it). */
export async function nativeLeaf(artifact: string, opts: NativeOptions, annotations: Annotations | undefined): Promise<Uint8Array> {
  if (opts.name === undefined) throw new UsageError('--name is required with --signature');
  if (opts.format !== undefined && !FORMATS.has(opts.format)) throw new UsageError(`--format: ${JSON.stringify(opts.format)} is not ssh, minisign or ecdsa`);
  const signature = await readFileBounded(opts.signature, MAX_SIGNATURE_FILE, 'signature file');
  const publicKey = opts.publicKey === undefined ? undefined : new TextDecoder().decode(await readFileBounded(opts.publicKey, 16 * 1024, 'public key file'));
  let digests;
  try {
    const d = await digestFileAll(artifact, ['sha512', 'blake2b-512']);
    digests = { sha256: d.digest, sha512: d.sha512!, blake2b512: d.blake2b512! };
  } catch (err) {
    if (err instanceof VitrineError) throw new CliError(err.message);
    throw new CliError(`cannot read artifact ${artifact}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const entry = nativeEntry({
      signature, name: opts.name, digests,
      ...(publicKey === undefined ? {} : { publicKey }),
      ...(opts.format === undefined ? {} : { format: opts.format as SignatureFormat }),
      ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
      ...(annotations === undefined ? {} : { annotations }),
    }, nodeEd25519);
    return encodeEntryV2(entry);
  } catch (err) {
    if (!(err instanceof VitrineError)) throw err;
    const hint = err.code === 'bad-signature' ? ` (is ${artifact} the file that was signed, and ${opts.signature} its signature?)` : '';
    throw new CliError(`${err.message}${hint}; nothing was submitted`);
  }
}
