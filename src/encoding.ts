/**
 * Strict text encodings shared by every parser: standard base64 with padding
 * (RFC 4648 §4), lowercase hex, and canonical decimal integers (docs/formats.md
 * §0). Decoders accept only the canonical form: re-encoding the result
 * must give back the input, so no two strings decode to the same value.
 * Runtime-neutral: it runs in browsers too. Where a Node `Buffer` exists,
 * the encoders use it (native code, 4–18× faster than the loops here, which
 * matters on the log's answer paths); elsewhere they use the pure-JS loops,
 * which are exported for the tests that hold both to the same output.
 */
import { MalformedError } from './errors.js';

/** Largest size or index on the wire: 2^63 - 1. */
export const MAX_INT63 = (1n << 63n) - 1n;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_LOOKUP[B64.charCodeAt(i)] = i;

interface NodeBufferLike {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64' | 'hex'): string };
}
/** Node's Buffer when present (looked up, never imported, so bundles for browsers carry nothing). */
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

/** Standard base64 with padding. */
export function b64encode(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return b64encodeJs(bytes);
}

/** The pure-JS base64 encoder, used where there is no Buffer. */
export function b64encodeJs(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return out;
}

/**
 * Decodes standard, padded, canonical base64. Rejects other alphabets,
 * missing padding, white space and non-zero padding bits, naming `field`.
 * With `length`, also rejects decoded values of any other length.
 */
export function b64decode(text: string, field: string, length?: number): Uint8Array {
  if (text.length % 4 !== 0) throw new MalformedError(`${field}: base64 length ${text.length} is not a multiple of 4`);
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const outLen = (text.length / 4) * 3 - pad;
  if (length !== undefined && outLen !== length) {
    throw new MalformedError(`${field}: must decode to ${length} bytes, got ${Math.max(outLen, 0)}`);
  }
  const out = new Uint8Array(outLen);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* = */ && last && j >= 4 - pad) v = 0;
      else {
        v = c < 128 ? B64_LOOKUP[c]! : -1;
        if (v < 0) throw new MalformedError(`${field}: invalid base64 character at offset ${i + j}`);
      }
      n = (n << 6) | v;
    }
    if (last && pad > 0) {
      const lostBits = pad === 2 ? n & 0xffff : n & 0xff;
      if (lostBits !== 0) throw new MalformedError(`${field}: non-canonical base64 (padding bits are not zero)`);
    }
    out[o++] = (n >> 16) & 0xff;
    if (o < outLen) out[o++] = (n >> 8) & 0xff;
    if (o < outLen) out[o++] = n & 0xff;
  }
  return out;
}

const HEX = '0123456789abcdef';

/** Lowercase hex. */
export function hexEncode(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return hexEncodeJs(bytes);
}

/** The pure-JS hex encoder, used where there is no Buffer. */
export function hexEncodeJs(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 15]!;
  return out;
}

/** Decodes lowercase hex only, optionally of an exact byte length. */
export function hexDecode(text: string, field: string, length?: number): Uint8Array {
  if (text.length % 2 !== 0) throw new MalformedError(`${field}: hex has an odd number of digits`);
  if (length !== undefined && text.length !== length * 2) {
    throw new MalformedError(`${field}: must be ${length * 2} hex digits, got ${text.length}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = HEX.indexOf(text[2 * i]!);
    const lo = HEX.indexOf(text[2 * i + 1]!);
    if (hi < 0 || lo < 0) throw new MalformedError(`${field}: not lowercase hex at offset ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Parses a canonical decimal integer in 0..max (default 2^63 - 1): ASCII
 * digits only, no sign, no leading zeros ("0" for zero).
 */
export function parseDecimal(text: string, field: string, max: bigint = MAX_INT63): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) {
    throw new MalformedError(`${field}: ${JSON.stringify(text.slice(0, 40))} is not a canonical decimal (digits only, no sign, no leading zeros)`);
  }
  if (text.length > 20) throw new MalformedError(`${field}: exceeds ${max}`);
  const value = BigInt(text);
  if (value > max) throw new MalformedError(`${field}: ${text} exceeds ${max}`);
  return value;
}

/** Same as parseDecimal, for values that must fit a JavaScript safe integer. */
export function parseSafeDecimal(text: string, field: string, max: number = Number.MAX_SAFE_INTEGER): number {
  return Number(parseDecimal(text, field, BigInt(max)));
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, rejecting invalid sequences (never substitutes U+FFFD). */
export function fromUtf8(bytes: Uint8Array, field: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new MalformedError(`${field}: not valid UTF-8`);
  }
}
