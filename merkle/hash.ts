/**
 * RFC 6962 / RFC 9162 §2.1.1 hashing: SHA-256 with a 0x00 prefix for leaves
 * and 0x01 for interior nodes. Pure JavaScript, so it runs in browsers.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** A Merkle tree hash: always 32 bytes. */
export type Hash = Uint8Array;

export const HASH_SIZE = 32;

/** SHA-256 of arbitrary bytes. */
export function sha256(data: Uint8Array): Hash {
  return nobleSha256(data);
}

/** RFC 9162 §2.1.1: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Hash {
  const buf = new Uint8Array(data.length + 1);
  buf.set(data, 1);
  return nobleSha256(buf);
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return nobleSha256(buf);
}

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = nobleSha256(new Uint8Array(0));
