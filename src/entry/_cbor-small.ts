/**
 * Internal: the part of cbor-x's `Encoder` that ./cbor.ts uses, written
 * small. The browser build (scripts/build-web.mjs) puts this module in
 * place of `cbor-x` to keep `vitrine/browser` within its 150 KB budget:
 * cbor-x's encoder and decoder weigh about 30 KB minified, most of it for
 * extensions entries never use (records, bundled strings, tags, floats).
 * Node keeps cbor-x. test/entry/cbor-small.test.ts holds both to the same
 * bytes and values on the spec vectors and on generated entries.
 *
 * It covers exactly what entries are made of (RFC 8949: unsigned and
 * negative integers, byte and text strings, arrays, maps), with the options
 * ./cbor.ts pins: maps decode to `Map`, byte strings to plain `Uint8Array`,
 * a Map encodes as a bare map in insertion order, heads in shortest form,
 * 64-bit integers decode to `bigint` as cbor-x does (and only a bigint
 * encodes to one: a number beyond 32 bits, which cbor-x would write as a
 * float and no entry holds, is refused). Decoding only ever
 * sees bytes that ./cbor.ts's strict scanner has already accepted, so it
 * throws plainly on anything else.
 */

export type Options = Record<string, unknown>;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class Encoder {
  // The options are those of cbor-x; this codec has the pinned behaviour built in.
  constructor(_options?: Options) {}

  encode(value: unknown): Uint8Array {
    const out: number[] = [];
    write(value, out);
    return Uint8Array.from(out);
  }

  decode(bytes: Uint8Array): unknown {
    const r = { b: bytes, p: 0 };
    const v = read(r);
    if (r.p !== bytes.length) throw new Error(`trailing bytes at ${r.p}`);
    return v;
  }
}

function head(major: number, n: number | bigint, out: number[]): void {
  const m = major << 5;
  if (typeof n === 'bigint' || n > 0xffffffff) {
    const v = BigInt(n);
    out.push(m | 27);
    for (let s = 56n; s >= 0n; s -= 8n) out.push(Number((v >> s) & 0xffn));
  } else if (n < 24) out.push(m | n);
  else if (n < 0x100) out.push(m | 24, n);
  else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff);
  else out.push(m | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function write(v: unknown, out: number[]): void {
  if (typeof v === 'number' || typeof v === 'bigint') {
    // cbor-x writes a number beyond 32 bits as a float; no entry field holds
    // one, so rather than differ, refuse it (a bigint is written as an integer by both).
    if (typeof v === 'number' && !(Number.isInteger(v) && v <= 0xffffffff && v >= -0x100000000)) throw new Error(`cannot encode the number ${v}`);
    if (v >= 0) head(0, v, out);
    else head(1, typeof v === 'bigint' ? -1n - v : -1 - v, out);
  } else if (typeof v === 'string') {
    const b = utf8Encoder.encode(v);
    head(3, b.length, out);
    for (const x of b) out.push(x);
  } else if (v instanceof Uint8Array) {
    head(2, v.length, out);
    for (const x of v) out.push(x);
  } else if (Array.isArray(v)) {
    head(4, v.length, out);
    for (const x of v) write(x, out);
  } else if (v instanceof Map) {
    head(5, v.size, out);
    for (const [k, x] of v) {
      write(k, out);
      write(x, out);
    }
  } else {
    throw new Error(`cannot encode a ${typeof v}`);
  }
}

function read(r: { b: Uint8Array; p: number }): unknown {
  const b = r.b;
  if (r.p >= b.length) throw new Error('unexpected end of CBOR data');
  const first = b[r.p++]!;
  const major = first >> 5;
  const info = first & 31;
  let n: number | bigint;
  if (info < 24) n = info;
  else if (info <= 27) {
    const len = 1 << (info - 24);
    if (r.p + len > b.length) throw new Error('unexpected end of CBOR data');
    let big = 0n;
    for (let i = 0; i < len; i++) big = (big << 8n) | BigInt(b[r.p + i]!);
    r.p += len;
    n = info === 27 && major <= 1 ? big : Number(big);
  } else throw new Error(`unsupported CBOR head 0x${first.toString(16)}`);
  switch (major) {
    case 0:
      return n;
    case 1:
      return typeof n === 'bigint' ? -1n - n : -1 - n;
    case 2:
    case 3: {
      const len = Number(n);
      if (r.p + len > b.length) throw new Error('unexpected end of CBOR data');
      const s = b.slice(r.p, r.p + len);
      r.p += len;
      return major === 2 ? s : utf8Decoder.decode(s);
    }
    case 4: {
      const a: unknown[] = [];
      for (let i = 0; i < Number(n); i++) a.push(read(r));
      return a;
    }
    case 5: {
      const m = new Map<unknown, unknown>();
      for (let i = 0; i < Number(n); i++) {
        const k = read(r);
        m.set(k, read(r));
      }
      return m;
    }
    default:
      throw new Error(`unsupported CBOR major type ${major}`);
  }
}
