/**
 * The CBOR layer of Vitrine entries (docs/formats.md §4): RFC 8949 §4.2.1 "core
 * deterministic encoding" — shortest-form integers, lengths and arguments,
 * definite lengths only, map keys sorted by their encoded bytes — produced by
 * a pinned cbor-x configuration, and checked on input by a strict scanner of
 * our own that runs *before* cbor-x ever sees untrusted bytes.
 *
 * Why a scanner: cbor-x is a fast, permissive decoder (it accepts
 * indefinite lengths, non-shortest heads, duplicate keys, tags, its own
 * record/bundle extensions, and recurses without a depth limit). The scanner
 * walks the data items iteratively in bounded depth, never allocates from a
 * declared length, and throws typed errors: MalformedError when the bytes
 * are not well-formed CBOR (truncated, reserved values, stray "break"),
 * InvalidError when they are well-formed but not deterministic (code
 * `non-canonical`) or use a type entries never contain (tags, floats,
 * simple values, text that is not UTF-8). Only input that passes it is
 * handed to cbor-x, which then cannot hit any of its own edge cases.
 *
 * Internal to src/entry: not re-exported from the package.
 */
import { Encoder, type Options } from 'cbor-x';
import { InvalidError, MalformedError } from '../errors.js';

/**
 * The one cbor-x instance entries are encoded and decoded with. Every option
 * that changes the bytes is pinned here, not left to defaults (which differ
 * between cbor-x's Node and browser entry points):
 * - `tagUint8Array: false`: in Node, cbor-x otherwise prefixes every plain
 *   Uint8Array with tag 64; we need bare byte strings (major type 2).
 * - `mapsAsObjects: false` and `useTag259ForMaps: false`: a Map is encoded as
 *   a bare major-type-5 map (with `mapsAsObjects: true` cbor-x wraps Maps in
 *   tag 259) and maps decode to Maps, so integer keys stay numbers.
 * - `useRecords: false`, `pack: false`, `bundleStrings: false`,
 *   `structuredClone: false`, `useSelfDescribedHeader: false`: none of
 *   cbor-x's extensions (tags 105, 51/6, 0xdff9, 28/29, 55799) may appear.
 * - `variableMapSize: true`: only affects plain objects (exact-size map head
 *   instead of a fixed 16-bit one); we never pass plain objects, but if one
 *   slipped through its head would at least be shortest-form.
 * - `alwaysUseFloat: false`: integers stay major type 0.
 * The test suite checks each of these against the spec vectors and an
 * independent encoder-free reading of the bytes (test/entry/cbor.test.ts).
 */
export const cborx = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
  bundleStrings: false,
  structuredClone: false,
  useSelfDescribedHeader: false,
  alwaysUseFloat: false,
  sequential: false,
} as Options & { useTag259ForMaps: boolean });

/** Encodes a value (Maps of numbers, strings, Uint8Arrays, nested Maps) into fresh, plain Uint8Array bytes. */
export function encodeCbor(value: Map<unknown, unknown>): Uint8Array {
  // cbor-x returns a Buffer view into a shared scratch buffer; copy into an
  // owned plain Uint8Array so callers never alias cbor-x's memory.
  return new Uint8Array(cborx.encode(value));
}

/**
 * Encodes like `encodeCbor` but returns cbor-x's own view, valid only until
 * the next encode: for comparing, never for keeping. Saves a copy per
 * strict decode.
 */
export function encodeCborTransient(value: Map<unknown, unknown>): Uint8Array {
  return cborx.encode(value);
}

const MAJOR = [
  'unsigned integer',
  'negative integer',
  'byte string',
  'text string',
  'array',
  'map',
  'tag',
  'float or simple value',
] as const;

export interface ScanOptions {
  /** Name of the whole item in messages, e.g. "entry". */
  label: string;
  /** Deepest container nesting allowed (a top-level map holding a map is 2 levels). */
  maxDepth: number;
  /** Names of the top-level map's unsigned-integer keys, for messages. */
  keyNames?: ReadonlyMap<number, string>;
}

/**
 * Checks that `bytes` hold exactly one well-formed data item in core
 * deterministic encoding, made only of integers, byte and text strings,
 * arrays and maps, nested at most `maxDepth` deep. Returns the major type of
 * that item. Throws MalformedError or InvalidError naming the place.
 */
export function scanDeterministic(bytes: Uint8Array, opts: ScanOptions): number {
  const scanner = new Scanner(bytes, opts);
  const major = scanner.item();
  if (scanner.pos !== bytes.length) {
    throw new InvalidError(`${opts.label}: ${bytes.length - scanner.pos} trailing byte(s) after the data item at offset ${scanner.pos}`, 'non-canonical');
  }
  return major;
}

// What is being read inside each open container, for error paths.
const ELEMENT = 0;
const KEY = 1;
const VALUE = 2;

/** One pass over one input. A class rather than closures: nothing is allocated per call but the instance. */
class Scanner {
  pos = 0;
  // Where the scan is, kept as numbers and turned into a path string only
  // when an error is thrown: per open container, what is being read in it
  // (an array element, a map key, or the value of the key starting at an
  // offset) and which one.
  private readonly kinds: number[] = [];
  private readonly refs: number[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly opts: ScanOptions,
  ) {}

  /**
   * Reads one data item. Recursion is bounded by maxDepth (callers pass
   * small values), so a nesting bomb costs at most maxDepth frames before
   * it is refused.
   */
  item(): number {
    const bytes = this.bytes;
    const end = bytes.length;
    const start = this.pos;
    if (start >= end) throw this.truncated('a data item');
    const ib = bytes[start]!;
    let pos = start + 1;
    const major = ib >> 5;
    const ai = ib & 31;
    if (ai >= 28 && ai <= 30) {
      throw new MalformedError(`${this.path()}: not well-formed CBOR: reserved additional information ${ai} at offset ${start} (RFC 8949 §3)`);
    }
    if (ai === 31) {
      if (major === 7) throw new MalformedError(`${this.path()}: not well-formed CBOR: "break" (0xff) outside an indefinite-length item at offset ${start}`);
      if (major <= 1 || major === 6) {
        throw new MalformedError(`${this.path()}: not well-formed CBOR: ${MAJOR[major]} cannot have indefinite length (offset ${start})`);
      }
      throw new InvalidError(
        `${this.path()}: indefinite-length ${MAJOR[major]} at offset ${start}; deterministic CBOR requires definite lengths (RFC 8949 §4.2.1)`,
        'non-canonical',
      );
    }
    // The argument: a number, exact below 2^53 and otherwise only ever
    // compared against the remaining input length, where rounding is harmless.
    let arg = ai;
    let minimal = true;
    if (ai >= 24) {
      const n = 1 << (ai - 24);
      if (end - pos < n) {
        this.pos = pos;
        throw this.truncated(`the ${n}-byte argument of ${an(MAJOR[major]!)}`);
      }
      if (n === 1) {
        arg = bytes[pos]!;
        minimal = arg >= 24;
      } else if (n === 2) {
        arg = (bytes[pos]! << 8) | bytes[pos + 1]!;
        minimal = arg >= 0x100;
      } else if (n === 4) {
        arg = bytes[pos]! * 0x1000000 + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
        minimal = arg >= 0x10000;
      } else {
        const hi = bytes[pos]! * 0x1000000 + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
        const lo = bytes[pos + 4]! * 0x1000000 + ((bytes[pos + 5]! << 16) | (bytes[pos + 6]! << 8) | bytes[pos + 7]!);
        arg = hi * 0x100000000 + lo;
        minimal = hi !== 0;
      }
      pos += n;
    }
    this.pos = pos;
    if (major === 7) {
      if (ai === 24 && arg < 32) {
        throw new MalformedError(`${this.path()}: not well-formed CBOR: two-byte simple value ${arg} < 32 at offset ${start} (RFC 8949 §3.3)`);
      }
      const what = ai >= 25 ? 'floating-point number' : `simple value ${arg}`;
      throw new InvalidError(`${this.path()}: ${what} at offset ${start}; entries contain only integers, strings and maps`);
    }
    if (!minimal) {
      throw new InvalidError(
        `${this.path()}: ${MAJOR[major]} at offset ${start} does not use the shortest-form head; deterministic CBOR requires it (RFC 8949 §4.2.1)`,
        'non-canonical',
      );
    }
    switch (major) {
      case 0:
      case 1:
        return major;
      case 2:
      case 3:
        if (arg > end - pos) throw this.truncated(`the ${arg}-byte content of ${an(MAJOR[major]!)}`);
        if (major === 3 && !isUtf8(bytes, pos, pos + arg)) {
          throw new InvalidError(`${this.path()}: text string at offset ${start} is not valid UTF-8 (RFC 8949 §3.1)`);
        }
        this.pos = pos + arg;
        return major;
      case 4: {
        // Every element takes at least one byte: a count beyond the rest of
        // the input can never be satisfied, whatever its declared size.
        if (arg > end - pos) throw this.truncated(`an array of ${arg} elements`);
        const level = this.enter(start);
        for (let i = 0; i < arg; i++) {
          this.refs[level] = i;
          this.item();
        }
        this.leave();
        return major;
      }
      case 5: {
        if (arg > (end - pos) / 2) throw this.truncated(`a map of ${arg} pairs`);
        const level = this.enter(start);
        let prevStart = -1;
        let prevEnd = -1;
        for (let i = 0; i < arg; i++) {
          const keyStart = this.pos;
          this.kinds[level] = KEY;
          this.refs[level] = i;
          this.item();
          const keyEnd = this.pos;
          this.kinds[level] = VALUE;
          this.refs[level] = keyStart;
          if (prevStart >= 0) {
            const order = compareBytes(bytes, prevStart, prevEnd, keyStart, keyEnd);
            if (order === 0) {
              throw new InvalidError(`${this.path()}: duplicate map key at offset ${keyStart} (RFC 8949 §5.6)`, 'non-canonical');
            }
            if (order > 0) {
              throw new InvalidError(
                `${this.path()}: map key at offset ${keyStart} is out of order; deterministic CBOR sorts keys by their encoded bytes (RFC 8949 §4.2.1)`,
                'non-canonical',
              );
            }
          }
          prevStart = keyStart;
          prevEnd = keyEnd;
          this.item();
        }
        this.leave();
        return major;
      }
      default:
        // major 6
        throw new InvalidError(`${this.path()}: tag ${arg} at offset ${start}; entries contain no CBOR tags`);
    }
  }

  private enter(start: number): number {
    const level = this.kinds.length;
    if (level >= this.opts.maxDepth) {
      throw new InvalidError(`${this.path()}: container at offset ${start} nests deeper than ${this.opts.maxDepth} levels`);
    }
    this.kinds.push(ELEMENT);
    this.refs.push(0);
    return level;
  }

  private leave(): void {
    this.kinds.pop();
    this.refs.pop();
  }

  private truncated(what: string): MalformedError {
    return new MalformedError(`${this.path()}: truncated CBOR: ${what} at offset ${this.pos} runs past the end of the ${this.bytes.length} input bytes`);
  }

  private path(): string {
    let out = this.opts.label;
    for (let level = 0; level < this.kinds.length; level++) {
      const ref = this.refs[level]!;
      if (this.kinds[level] === ELEMENT) out += `[${ref}]`;
      else if (this.kinds[level] === KEY) out += ` (key #${ref})`;
      else out += this.describeKey(level, ref);
    }
    return out;
  }

  /** A map key (already scanned, so well-formed) as a path step: `.name`, `[7]` or `["text"]`. */
  private describeKey(level: number, start: number): string {
    const bytes = this.bytes;
    const ib = bytes[start]!;
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 0 && ai <= 24) {
      const value = ai < 24 ? ai : bytes[start + 1]!;
      const name = level === 0 ? this.opts.keyNames?.get(value) : undefined;
      return name !== undefined ? `.${name}` : `[${value}]`;
    }
    if (major === 3 && ai <= 25) {
      const headLen = ai < 24 ? 1 : ai === 24 ? 2 : 3;
      const len = ai < 24 ? ai : ai === 24 ? bytes[start + 1]! : (bytes[start + 1]! << 8) | bytes[start + 2]!;
      const text = new TextDecoder().decode(bytes.subarray(start + headLen, start + headLen + Math.min(len, 160)));
      return `[${JSON.stringify(text.length > 40 ? text.slice(0, 40) + '…' : text)}]`;
    }
    return `[key at offset ${start}]`;
  }
}

/**
 * Strict UTF-8 validation of bytes[from..to) (RFC 3629): no overlong forms,
 * no surrogates (U+D800–DFFF), nothing above U+10FFFF, no truncated
 * sequences. ASCII runs take the fast path; a hand loop avoids the cost of
 * a TextDecoder call on every short string.
 */
export function isUtf8(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  let i = from;
  while (i < to) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // no overlong 3-byte forms
      else if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // no overlong 4-byte forms
      else if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return false;
    if (i + need >= to) return false; // truncated sequence
    const c1 = bytes[i + 1]!;
    if (c1 < lo || c1 > hi) return false;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

/** Lexicographic comparison of bytes[a0..a1) and bytes[b0..b1). */
function compareBytes(bytes: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = bytes[a0 + i]! - bytes[b0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/** Names a major type, for messages. */
export function majorName(major: number): string {
  return MAJOR[major] ?? 'unknown';
}

function an(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
