/**
 * Internal: exact integer arithmetic on tree sizes and indices, as plain
 * numbers when every value involved is at most 2^53-1 (the common case, and
 * much faster) or as bigints up to 2^63-1. Planners are written once against
 * this interface. No bitwise operator is used: JavaScript's truncate to 32
 * bits.
 */

export interface Arith<T extends number | bigint> {
  readonly zero: T;
  readonly one: T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  /** a / b for a b that divides a. */
  div(a: T, b: T): T;
  /** a mod b. */
  mod(a: T, b: T): T;
  /** 2^k. */
  pow2(k: number): T;
  /** Number of binary digits of x (0 for 0). */
  bitLen(x: T): number;
  big(x: T): bigint;
}

const POW2N: readonly number[] = Array.from({ length: 65 }, (_, k) => 2 ** k);
const POW2B: readonly bigint[] = Array.from({ length: 65 }, (_, k) => 2n ** BigInt(k));

/** Binary search for the first power of two above x: its exponent is x's bit length. */
function bitLen<T>(x: T, table: readonly T[]): number {
  let lo = 0;
  let hi = 64;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (table[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const NUM: Arith<number> = {
  zero: 0,
  one: 1,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  div: (a, b) => a / b,
  mod: (a, b) => a % b,
  pow2: (k) => POW2N[k]!,
  bitLen: (x) => bitLen(x, POW2N),
  big: (x) => BigInt(x),
};

export const BIG: Arith<bigint> = {
  zero: 0n,
  one: 1n,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  div: (a, b) => a / b,
  mod: (a, b) => a % b,
  pow2: (k) => POW2B[k]!,
  bitLen: (x) => bitLen(x, POW2B),
  big: (x) => x,
};

/** Largest size the number arithmetic handles exactly. */
export const SAFE = Number.MAX_SAFE_INTEGER;
