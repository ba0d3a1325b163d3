/**
 * Internal: the input checks every public function of merkle/ starts with
 * (in the style of noble's `abytes`). They name the parameter. Values that
 * can arrive from the wire (sizes, indices, hashes, proof elements) throw
 * MalformedError; a value of the wrong JavaScript type is a programming
 * error and throws TypeError. Sizes and indices range over 0..2^63-1
 * (FORMATS.md preamble) and are never touched by bitwise operators.
 */
import { MalformedError } from '../src/errors.js';
import { HASH_SIZE, type Hash } from './hash.js';

/** Largest tree size or index: 2^63 - 1. */
export const MAX_SIZE = 2n ** 63n - 1n;

/** Checks that x is an integer in 0..2^63-1 (a safe integer if a number) and returns it as a bigint. */
export function _u63(x: unknown, name: string): bigint {
  if (typeof x === 'bigint') {
    if (x < 0n || x > MAX_SIZE) throw new MalformedError(`${name}: ${x} is outside 0..2^63-1`);
    return x;
  }
  if (typeof x === 'number') {
    if (!Number.isSafeInteger(x)) throw new MalformedError(`${name}: ${x} is not a safe integer (pass a bigint for values above 2^53-1)`);
    if (x < 0) throw new MalformedError(`${name}: ${x} is negative`);
    return BigInt(x);
  }
  throw new TypeError(`${name}: expected a number or bigint, got ${typeof x}`);
}

/** Checks that x is a 32-byte hash. */
export function _hash(x: unknown, name: string): Hash {
  if (!(x instanceof Uint8Array)) throw new TypeError(`${name}: expected a Uint8Array`);
  if (x.length !== HASH_SIZE) throw new MalformedError(`${name}: must be ${HASH_SIZE} bytes, got ${x.length}`);
  return x;
}

/** Checks that x is an array of 32-byte hashes. */
export function _hashes(x: unknown, name: string): readonly Hash[] {
  if (!Array.isArray(x)) throw new TypeError(`${name}: expected an array of Uint8Array`);
  for (let i = 0; i < x.length; i++) _hash(x[i], `${name}[${i}]`);
  return x as readonly Hash[];
}

/** Checks that x is a function. */
export function _fn(x: unknown, name: string): void {
  if (typeof x !== 'function') throw new TypeError(`${name}: expected a function`);
}

/** 2^k as a bigint. */
export function _pow2(k: number): bigint {
  return 2n ** BigInt(k);
}

/** Number of binary digits of x (0 for 0). */
export function _bitLen(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}
