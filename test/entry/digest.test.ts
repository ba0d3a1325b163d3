/**
 * Artifact digests (src/entry/digest.ts): SHA-256 of bytes, streams and
 * files, the file path in constant memory.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, ftruncateSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { digestBytes, digestFile, digestStream } from '../../src/entry/digest.js';
import { NotFoundError } from '../../src/errors.js';
import { sha256 } from '../../merkle/hash.js';
import { hex, readVector, type SharedVectors } from './_helpers.js';

const shared = readVector<SharedVectors>('entries.json');
const dir = mkdtempSync(join(tmpdir(), 'vitrine-digest-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('vector artifacts', async (t) => {
  for (const c of shared.good) {
    const bytes = Buffer.from(c.artifact!, 'utf8');
    t.equal(hex(digestBytes(bytes)), c.digest, `${c.desc}: digestBytes`);
    const file = join(dir, `artifact-${c.digest.slice(0, 8)}`);
    writeFileSync(file, bytes);
    t.equal(hex(await digestFile(file)), c.digest, `${c.desc}: digestFile`);
    t.equal(hex(await digestStream(Readable.from([bytes.subarray(0, 1), bytes.subarray(1)]))), c.digest, `${c.desc}: digestStream in two chunks`);
  }
});

t.test('empty and multi-chunk files agree with the pure-JS hash', async (t) => {
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  t.equal(hex(await digestFile(empty)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'empty file');
  const data = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const file = join(dir, 'multi');
  writeFileSync(file, data);
  t.equal(hex(await digestFile(file)), hex(sha256(data)), '3 MiB + 17 bytes (several read chunks)');
  t.equal(hex(digestBytes(data)), hex(sha256(data)), 'digestBytes agrees with noble');
});

t.test('a file much larger than the memory it may use is streamed', async (t) => {
  // A 256 MiB sparse file: reading it whole would need 256 MiB of buffers at once.
  const size = 256 * 1024 * 1024;
  const file = join(dir, 'sparse');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  const expected = createHash('sha256');
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < size / zeros.length; i++) expected.update(zeros);

  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 1);
  const got = await digestFile(file);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  t.equal(hex(got), expected.digest('hex'), 'digest of 256 MiB of zeros');
  t.ok(peak - base < size / 4, `peak extra buffer memory ${((peak - base) / 1048576).toFixed(1)} MiB stays well under the file size`);
});

t.test('errors', async (t) => {
  await t.rejects(digestFile(join(dir, 'does-not-exist')), NotFoundError, 'missing file → NotFoundError');
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  await t.rejects(digestFile(sub), { code: 'EISDIR' }, 'a directory → the I/O error');
  await t.rejects(digestStream(Readable.from(['text'])), TypeError, 'a text-mode stream is refused');
});
