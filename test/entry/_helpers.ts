/** Shared fixtures for the entry tests: vector files, hex, backends, error checks. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { InvalidError, MalformedError, VitrineError } from '../../src/errors.js';
import { rootPath } from '../_root.js';

export const VECTORS = rootPath('vectors/entry');

export function readVector<T>(file: string): T {
  return JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as T;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

export const BACKENDS: ReadonlyArray<readonly [string, Ed25519]> = [
  ['node:crypto', nodeEd25519],
  ['noble', nobleEd25519],
];

export const ERROR_CLASSES = { MalformedError, InvalidError } as const;

/** Runs `fn`, which must throw a VitrineError; returns it (or undefined after recording a failure). */
export function expectVitrineError(t: Test, fn: () => unknown, what: string): VitrineError | undefined {
  try {
    fn();
  } catch (err) {
    t.ok(err instanceof VitrineError, `${what}: throws a VitrineError (got ${err instanceof Error ? err.constructor.name + ': ' + err.message : String(err)})`);
    return err instanceof VitrineError ? err : undefined;
  }
  t.fail(`${what}: was accepted, must be refused`);
  return undefined;
}

/** Asserts that `fn` throws exactly class `cls` with `code` and a message containing `field`. */
export function expectError(
  t: Test,
  fn: () => unknown,
  cls: typeof MalformedError | typeof InvalidError,
  code: string,
  field: string,
  what: string,
): void {
  const err = expectVitrineError(t, fn, what);
  if (!err) return;
  t.equal(err.constructor, cls, `${what}: error class is ${cls.name} (got ${err.constructor.name}: ${err.message})`);
  t.equal(err.code, code, `${what}: error code is ${code} (message: ${err.message})`);
  t.ok(err.message.includes(field), `${what}: message names ${JSON.stringify(field)} (got ${JSON.stringify(err.message)})`);
}

export interface GoodCase {
  desc: string;
  name: string;
  artifact?: string;
  digest: string;
  annotations?: Record<string, string>;
  signedMessage: string;
  sig: string;
  entry: string;
  leafHash: string;
}

export interface SharedVectors {
  good: GoodCase[];
  bad: Array<{ desc: string; entry: string; why: 'signature' | 'non-canonical' | 'schema' | 'malformed' }>;
  signer: { keyHash: string; seed: string; vkey: string; skey: string; name: string };
}

export interface NegativeCase {
  name: string;
  entry: string;
  stage: 'decode' | 'verify';
  error: 'MalformedError' | 'InvalidError';
  code: string;
  field: string;
  nobleAccepts?: boolean;
}
