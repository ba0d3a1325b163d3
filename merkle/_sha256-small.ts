/**
 * Internal: the same five word-level functions as ./_sha256.ts, written
 * small instead of fast. The browser build (scripts/build-web.mjs) puts this
 * module in place of ./_sha256.ts to keep `vitrine/browser` within its size
 * budget: the unrolled rounds of the fast one weigh about 28 KB minified,
 * while a browser verifies a proof with a few dozen node hashes, where speed
 * does not matter. Node keeps the fast one. Both are held to the same
 * results by test/merkle/hash.test.ts. RFC 9162 §2.1.1 interior node:
 * SHA-256(0x01 || left || right).
 */
import { sha256 } from '@noble/hashes/sha2.js';

const MSG = new Uint8Array(65);

/** SHA-256(0x01 || left || right) on words; out may alias l or r. */
export function _nodeWords(l: Int32Array, lo: number, r: Int32Array, ro: number, out: Int32Array, oo: number): void {
  MSG[0] = 0x01;
  for (let i = 0; i < 8; i++) {
    put(MSG, 1 + 4 * i, l[lo + i]!);
    put(MSG, 33 + 4 * i, r[ro + i]!);
  }
  _loadWords(sha256(MSG), out, oo);
}

function put(b: Uint8Array, at: number, w: number): void {
  b[at] = w >>> 24;
  b[at + 1] = w >>> 16;
  b[at + 2] = w >>> 8;
  b[at + 3] = w;
}

function word(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** Reads a 32-byte hash as eight big-endian words into out[oo..oo+7]. */
export function _loadWords(bytes: Uint8Array, out: Int32Array, oo: number): void {
  for (let i = 0; i < 8; i++) out[oo + i] = word(bytes, 4 * i);
}

/** Writes words[wo..wo+7] as a new 32-byte hash. */
export function _storeWords(words: Int32Array, wo: number): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) put(out, 4 * i, words[wo + i]!);
  return out;
}

/** Whether words[wo..wo+7] equal a 32-byte hash. Not constant time: Merkle hashes are public. */
export function _wordsEqual(words: Int32Array, wo: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (words[wo + i] !== word(bytes, 4 * i)) return false;
  return true;
}

/** SHA-256(0x01 || left || right) of two 32-byte hashes (lengths checked by the caller). */
export function _nodeBytes(left: Uint8Array, right: Uint8Array): Uint8Array {
  const w = new Int32Array(16);
  _loadWords(left, w, 0);
  _loadWords(right, w, 8);
  _nodeWords(w, 0, w, 8, w, 0);
  return _storeWords(w, 0);
}
