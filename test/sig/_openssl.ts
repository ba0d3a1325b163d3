/**
 * DSSE envelopes made outside Vitrine: PAE from @sigstore/core's
 * preAuthEncoding, keys and signatures from the real `openssl` (Ed25519 with
 * `pkeyutl -rawin`, ECDSA P-256 with `pkeyutl -rawin -digest sha256`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dsse } from '@sigstore/core';

const { preAuthEncoding } = dsse;

export type KeyKind = 'ed25519' | 'p256';

export interface OpensslKey {
  readonly kind: KeyKind;
  readonly privatePath: string;
  readonly publicPem: string;
}

export class OpensslDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'vitrine-dsse-'));
  private n = 0;

  key(kind: KeyKind): OpensslKey {
    const privatePath = join(this.dir, `key${this.n++}.pem`);
    const args = kind === 'ed25519' ? ['genpkey', '-algorithm', 'ed25519'] : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    execFileSync('openssl', [...args, '-out', privatePath], { stdio: 'ignore' });
    const publicPem = execFileSync('openssl', ['pkey', '-in', privatePath, '-pubout'], { encoding: 'utf8' });
    return { kind, privatePath, publicPem };
  }

  /** An RSA public key PEM, for refusals. */
  rsaPublicPem(): string {
    const p = join(this.dir, `rsa${this.n++}.pem`);
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p], { stdio: 'ignore' });
    return execFileSync('openssl', ['pkey', '-in', p, '-pubout'], { encoding: 'utf8' });
  }

  /** A P-384 public key PEM, for refusals. */
  p384PublicPem(): string {
    const p = join(this.dir, `p384-${this.n++}.pem`);
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', p], { stdio: 'ignore' });
    return execFileSync('openssl', ['pkey', '-in', p, '-pubout'], { encoding: 'utf8' });
  }

  /** openssl's signature over `message` (DER for ECDSA). */
  sign(key: OpensslKey, message: Uint8Array): Buffer {
    const input = join(this.dir, `msg${this.n++}`);
    writeFileSync(input, message);
    const args = ['pkeyutl', '-sign', '-rawin', '-inkey', key.privatePath, '-in', input];
    if (key.kind === 'p256') args.push('-digest', 'sha256');
    return execFileSync('openssl', args);
  }

  /** An envelope JSON whose signatures (one per key) openssl made over sigstore's PAE. */
  envelope(payloadType: string, payload: Uint8Array, signers: readonly OpensslKey[], keyid = false): string {
    const pae = preAuthEncoding(payloadType, Buffer.from(payload));
    return JSON.stringify({
      payloadType,
      payload: Buffer.from(payload).toString('base64'),
      signatures: signers.map((k, i) => ({ ...(keyid ? { keyid: `key-${i}` } : {}), sig: this.sign(k, pae).toString('base64') })),
    });
  }

  read(path: string): Buffer {
    return readFileSync(path);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function statement(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'vitrine-1.0.tgz', digest: { sha256: 'a'.repeat(64), sha512: 'b'.repeat(128) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'https://example.com/build' }, runDetails: { builder: { id: 'https://github.com/actions/runner' } } },
    ...extra,
  };
}

export const IN_TOTO = 'application/vnd.in-toto+json';
export const bytes = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
