/**
 * Internal: the input checks every public function of merkle/ starts with
 * (in the style of noble's `abytes`). They name the parameter. Values that
 * can arrive from the wire (sizes, indices, hashes, proof elements) throw
 * MalformedError; a value of the wrong JavaScript type is a programming
 * error and throws TypeError. Sizes and indices range over 0..2^63-1
 * (docs/formats.md §0) and are never touched by bitwise operators.
 */
import { MalformedError } from '../src/errors.js';
import { HASH_SIZE, type Hash } from './hash.js';

/** Largest tree size or index: 2^63 - 1. */
export const MAX_SIZE = 2n ** 63n - 1n;

/** Checks that x is an integer in 0..2^63-1 (a safe integer if a number). */
function checkU63(x: unknown, name: string): void {
  if (typeof x === 'bigint') {
    if (x < 0n || x > MAX_SIZE) throw new MalformedError(`${name}: ${x} is outside 0..2^63-1`);
  } else if (typeof x === 'number') {
    if (!Number.isSafeInteger(x)) throw new MalformedError(`${name}: ${x} is not a safe integer (pass a bigint for values above 2^53-1)`);
    if (x < 0) throw new MalformedError(`${name}: ${x} is negative`);
  } else {
    throw new TypeError(`${name}: expected a number or bigint, got ${typeof x}`);
  }
}

/** Checks that x is an integer in 0..2^63-1 (a safe integer if a number) and returns it as a bigint. */
export function _u63(x: unknown, name: string): bigint {
  checkU63(x, name);
  return BigInt(x as number | bigint);
}

/**
 * Checks two sizes/indices like _u63 but keeps numbers: they come back as
 * two numbers when both are numbers (hot paths then avoid BigInt), else as
 * two bigints.
 */
export function _u63pair(a: unknown, aName: string, b: unknown, bName: string): [number, number] | [bigint, bigint] {
  checkU63(a, aName);
  checkU63(b, bName);
  if (typeof a === 'number' && typeof b === 'number') return [a, b];
  return [BigInt(a as number | bigint), BigInt(b as number | bigint)];
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
  for (let i = 0; i < x.length; i++) {
    // The element's name is built only on failure: this runs on every proof element.
    const h: unknown = x[i];
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) _hash(h, `${name}[${i}]`);
  }
  return x as readonly Hash[];
}

/** Checks that x is a function. */
export function _fn(x: unknown, name: string): void {
  if (typeof x !== 'function') throw new TypeError(`${name}: expected a function`);
}

/** 2^0 .. 2^64 as bigints. */
const POW2: readonly bigint[] = Array.from({ length: 65 }, (_, k) => 2n ** BigInt(k));

/** 2^k as a bigint, 0 ≤ k ≤ 64. */
export function _pow2(k: number): bigint {
  return POW2[k]!;
}
