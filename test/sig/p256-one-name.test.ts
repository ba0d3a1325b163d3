/**
 * One name per key (issue 14 §3): a P-256 public key written with a
 * compressed point and with an uncompressed one (both by the real openssl)
 * gets ONE fingerprint, `SHA256:` + unpadded base64 of SHA-256 of the
 * uncompressed SPKI DER as openssl writes it, from the parser and from
 * `vitrine key info`.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePemPublicKey } from '../../src/sig/spki.js';

const BIN = join(process.cwd(), 'dist/cmd/vitrine.js');

t.test('compressed and uncompressed P-256 SPKI: one fingerprint', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-p256-name-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'ec.key');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  const pem = execFileSync('openssl', ['ec', '-in', key, '-pubout'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const compressedPem = execFileSync('openssl', ['ec', '-in', key, '-pubout', '-conv_form', 'compressed'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const der = execFileSync('openssl', ['ec', '-in', key, '-pubout', '-outform', 'DER'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const compressedDer = execFileSync('openssl', ['ec', '-in', key, '-pubout', '-outform', 'DER', '-conv_form', 'compressed'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.equal(der.length, 91, 'openssl wrote the uncompressed SPKI');
  t.equal(compressedDer.length, 59, 'and the compressed one');
  const expected = `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;

  const a = parsePemPublicKey(pem);
  const b = parsePemPublicKey(compressedPem);
  t.equal(a.fingerprint, expected, 'the uncompressed key is named by its own DER');
  t.equal(b.fingerprint, expected, 'the compressed key gets the same name');
  t.same(Buffer.from(b.spki), compressedDer, 'while the key keeps the DER it was given');

  writeFileSync(join(dir, 'c.pem'), compressedPem);
  const r = spawnSync(process.execPath, [BIN, 'key', 'info', '--json', join(dir, 'c.pem')], { encoding: 'utf8' });
  t.equal(r.status, 0, `key info exits 0 (${r.stderr})`);
  const info = JSON.parse(r.stdout) as { fingerprint: string; pemFingerprint: string };
  t.equal(info.fingerprint, expected, 'vitrine key info names the compressed key as the uncompressed one');
  t.equal(info.pemFingerprint, expected, 'in every form');
});
