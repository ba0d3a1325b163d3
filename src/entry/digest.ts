/**
 * Artifact digests for entries (docs/formats.md §4, key 3: SHA-256 of the
 * artifact's bytes), computed with node:crypto. Files are streamed in
 * fixed-size chunks, so artifacts of any size hash in constant memory.
 *
 * Node only: the one module of src/entry that imports node: modules. Nothing
 * else in src/entry imports it and ./index.ts does not re-export it; browser
 * code hashes with `sha256` from merkle/hash.ts instead.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { NotFoundError } from '../errors.js';

/** Read size for files: large enough to amortise syscalls, small enough to stay out of the way. */
const CHUNK = 1 << 20;

/** SHA-256 of bytes already in memory. */
export function digestBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** SHA-256 of everything a stream yields (for example `process.stdin`). */
export async function digestStream(source: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const hash = createHash('sha256');
  for await (const chunk of source) {
    // A stream in text mode would hash re-encoded text, not the artifact's bytes.
    if (typeof chunk === 'string') throw new TypeError('digestStream: the stream must yield bytes, not strings (no setEncoding)');
    hash.update(chunk);
  }
  return new Uint8Array(hash.digest());
}

/**
 * SHA-256 of the file at `path`, streamed. Throws NotFoundError when the file
 * does not exist; other I/O errors (EISDIR, EACCES, …) propagate unchanged.
 */
export async function digestFile(path: string): Promise<Uint8Array> {
  try {
    return await digestStream(createReadStream(path, { highWaterMark: CHUNK }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') throw new NotFoundError(`artifact file ${JSON.stringify(path)}: no such file`);
    throw err;
  }
}

/** Digests of one file in one streamed pass: SHA-256 always, plus SHA-512 / BLAKE2b-512 on request (entries whose signature covers those). */
export async function digestFileAll(path: string, extra: ReadonlyArray<'sha512' | 'blake2b-512'>): Promise<{ digest: Uint8Array; sha512?: Uint8Array; blake2b512?: Uint8Array }> {
  try {
    return await digestStreamAll(createReadStream(path, { highWaterMark: CHUNK }), extra);
  } catch (err) {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') throw new NotFoundError(`artifact file ${JSON.stringify(path)}: no such file`);
    throw err;
  }
}

/** The digests of digestFileAll, of everything a stream yields (for example `process.stdin`). */
export async function digestStreamAll(source: AsyncIterable<Uint8Array | string>, extra: ReadonlyArray<'sha512' | 'blake2b-512'>): Promise<{ digest: Uint8Array; sha512?: Uint8Array; blake2b512?: Uint8Array }> {
  const hashes = { digest: createHash('sha256'), sha512: extra.includes('sha512') ? createHash('sha512') : undefined, blake2b512: extra.includes('blake2b-512') ? createHash('blake2b512') : undefined };
  for await (const chunk of source) {
    if (typeof chunk === 'string') throw new TypeError('digestStreamAll: the stream must yield bytes, not strings (no setEncoding)');
    hashes.digest.update(chunk);
    hashes.sha512?.update(chunk);
    hashes.blake2b512?.update(chunk);
  }
  return {
    digest: new Uint8Array(hashes.digest.digest()),
    ...(hashes.sha512 ? { sha512: new Uint8Array(hashes.sha512.digest()) } : {}),
    ...(hashes.blake2b512 ? { blake2b512: new Uint8Array(hashes.blake2b512.digest()) } : {}),
  };
}
