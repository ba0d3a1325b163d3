/**
 * Generates vectors/entry/negative.json and vectors/entry/extra-good.json:
 * Vitrine entry v1 (docs/formats.md §4) cases beyond the shared reference set.
 *
 *     npx tsx test/entry/gen-vectors.ts --write   # rewrite both files
 *     npx tsx test/entry/gen-vectors.ts           # only check they are current
 *
 * Deliberately independent of src/entry: every entry is assembled here from
 * raw CBOR heads (RFC 8949 §3) and signed with @noble/ed25519 directly, so
 * the vectors check the codec rather than echo it. Output is deterministic
 * (fixed seeds, no randomness); test/entry/vectors.test.ts fails if the
 * committed files drift from what this script produces.
 *
 * Each negative case is named after its mutation and states the stage that
 * must refuse it ("decode": decodeEntry; "verify": decodeEntry accepts and
 * the signature check refuses), the error class and code, and a substring
 * (`field`) that the error message must contain.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { rootPath } from '../_root.js';

ed.hashes.sha512 = sha512;

type Bytes = Uint8Array;
type Pair = [Bytes, Bytes];

const cat = (...parts: Bytes[]): Bytes => Uint8Array.from(Buffer.concat(parts));
const hex = (b: Bytes): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Bytes => Uint8Array.from(Buffer.from(s, 'hex'));
const sha256 = (b: Bytes): Bytes => Uint8Array.from(createHash('sha256').update(b).digest());
const enc = (s: string): Bytes => Uint8Array.from(Buffer.from(s, 'utf8'));

/** A CBOR head; `width` forces a (possibly non-shortest) argument size in bytes. */
function head(major: number, n: number | bigint, width?: 0 | 1 | 2 | 4 | 8): Bytes {
  const v = BigInt(n);
  const w = width ?? (v < 24n ? 0 : v < 0x100n ? 1 : v < 0x10000n ? 2 : v < 0x100000000n ? 4 : 8);
  if (w === 0) return Uint8Array.of((major << 5) | Number(v));
  const out = new Uint8Array(1 + w);
  out[0] = (major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[w];
  for (let i = 0; i < w; i++) out[w - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
const uint = (n: number | bigint, width?: 0 | 1 | 2 | 4 | 8): Bytes => head(0, n, width);
const bstr = (b: Bytes): Bytes => cat(head(2, b.length), b);
const tstr = (s: string): Bytes => rawText(enc(s));
const rawText = (b: Bytes): Bytes => cat(head(3, b.length), b);
const map = (pairs: Pair[]): Bytes => cat(head(5, pairs.length), ...pairs.flat());
const cmp = (a: Bytes, b: Bytes): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
/** Annotations map with keys sorted by their encoded bytes (RFC 8949 §4.2.1). */
const annotations = (o: Record<string, string>): Bytes =>
  map(Object.entries(o).map(([k, v]): Pair => [tstr(k), tstr(v)]).sort((x, y) => cmp(x[0], y[0])));

// The reference signer of vectors/entry/entries.json, and a second one.
const SEED = unhex('3300000000000000000000000000000000000000000000000000000000000000');
const OTHER_SEED = unhex('4400000000000000000000000000000000000000000000000000000000000000');
const KEY = ed.getPublicKey(SEED);
const OTHER_KEY = ed.getPublicKey(OTHER_SEED);
const DIGEST = sha256(enc('left-pad tarball bytes'));
const PREFIX = cat(enc('vitrine/entry/v1'), Uint8Array.of(0));
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

const le32 = (n: bigint): Bytes => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLe = (b: Bytes): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);

/** Pairs for keys 1–4 (and 6) in canonical order; values are raw CBOR items. */
function basePairs(o: { name?: Bytes; digest?: Bytes; key?: Bytes; annotations?: Bytes; version?: Bytes } = {}): Pair[] {
  const pairs: Pair[] = [
    [uint(1), o.version ?? uint(1)],
    [uint(2), o.name ?? tstr('pkg:npm/left-pad@1.3.0')],
    [uint(3), o.digest ?? bstr(DIGEST)],
    [uint(4), o.key ?? bstr(KEY)],
  ];
  if (o.annotations) pairs.push([uint(6), o.annotations]);
  return pairs;
}

/** Inserts the key-5 pair at its canonical place (before any key that sorts after it). */
function withSig(pairs: Pair[], sigItem: Bytes): Pair[] {
  const five = uint(5);
  const i = pairs.findIndex(([k]) => cmp(k, five) > 0);
  const out = pairs.slice();
  out.splice(i < 0 ? out.length : i, 0, [five, sigItem]);
  return out;
}

const messageOf = (pairs: Pair[]): Bytes => cat(PREFIX, map(pairs));
const signPairs = (pairs: Pair[], seed = SEED): Bytes => ed.sign(messageOf(pairs), seed);
/** A validly signed entry from unsigned pairs (whatever they contain). */
const signed = (pairs: Pair[], seed = SEED): Bytes => map(withSig(pairs, bstr(signPairs(pairs, seed))));

interface Negative {
  name: string;
  entry: string;
  stage: 'decode' | 'verify';
  error: 'MalformedError' | 'InvalidError';
  code: string;
  field: string;
  note?: string;
  /** Present when the two Ed25519 backends are expected to disagree. */
  nobleAccepts?: boolean;
}

interface Good {
  desc: string;
  name: string;
  digest: string;
  annotations?: Record<string, string>;
  signedMessage: string;
  sig: string;
  entry: string;
  leafHash: string;
}

export function generate(): { negative: object; extraGood: object } {
  const cases: Negative[] = [];
  const bad = (name: string, entry: Bytes, error: Negative['error'], code: string, field: string, note?: string): void => {
    cases.push({ name, entry: hex(entry), stage: 'decode', error, code, field, ...(note ? { note } : {}) });
  };
  const badSig = (name: string, entry: Bytes, note?: string, nobleAccepts?: boolean): void => {
    cases.push({
      name,
      entry: hex(entry),
      stage: 'verify',
      error: 'InvalidError',
      code: 'bad-signature',
      field: 'entry.sig',
      ...(note ? { note } : {}),
      ...(nobleAccepts ? { nobleAccepts } : {}),
    });
  };
  const good = signed(basePairs());
  const goodSig = signPairs(basePairs());

  // --- deterministic encoding (RFC 8949 §4.2.1) --------------------------
  {
    const ann: Pair[] = [
      [tstr('version'), tstr('1.0.0')],
      [tstr('ci'), tstr('github-actions')],
    ];
    bad('annotation-keys-out-of-order (longer key first)', signed(basePairs({ annotations: map(ann) })), 'InvalidError', 'non-canonical', 'entry.annotations');
    const ann2: Pair[] = [
      [tstr('b'), tstr('1')],
      [tstr('a'), tstr('2')],
    ];
    bad('annotation-keys-out-of-order (same length, bytewise)', signed(basePairs({ annotations: map(ann2) })), 'InvalidError', 'non-canonical', 'entry.annotations');
    const dupAnn: Pair[] = [
      [tstr('ci'), tstr('a')],
      [tstr('ci'), tstr('b')],
    ];
    bad('duplicate-annotation-key', signed(basePairs({ annotations: map(dupAnn) })), 'InvalidError', 'non-canonical', 'duplicate');
    const dup = withSig(basePairs(), bstr(goodSig));
    dup.splice(2, 0, [uint(2), tstr('pkg:npm/evil@1.0.0')]);
    bad('duplicate-map-key (key 2 twice)', map(dup), 'InvalidError', 'non-canonical', 'duplicate');
    const dupSame = withSig(basePairs(), bstr(goodSig));
    dupSame.splice(2, 0, dupSame[1]!);
    bad('duplicate-map-key (identical pair repeated)', map(dupSame), 'InvalidError', 'non-canonical', 'duplicate');
    bad('map-head-not-shortest (0xb8 0x05)', cat(Uint8Array.of(0xb8, 5), good.subarray(1)), 'InvalidError', 'non-canonical', 'shortest');
    const name22 = 'pkg:npm/left-pad@1.3.0';
    bad('name-length-not-shortest (0x78 0x16)', signed(basePairs({ name: cat(head(3, 22, 1), enc(name22)) })), 'InvalidError', 'non-canonical', 'entry.name');
    bad('digest-length-not-shortest (0x59 0x00 0x20)', signed(basePairs({ digest: cat(head(2, 32, 2), DIGEST) })), 'InvalidError', 'non-canonical', 'entry.digest');
    bad('version-as-8-byte-uint', signed(basePairs({ version: uint(1, 8) })), 'InvalidError', 'non-canonical', 'entry.version');
    bad('indefinite-length-name (0x7f chunks 0xff)', signed(basePairs({ name: cat(Uint8Array.of(0x7f), tstr('pkg:'), tstr('x'), Uint8Array.of(0xff)) })), 'InvalidError', 'non-canonical', 'indefinite');
    bad('indefinite-length-annotations-map', signed(basePairs({ annotations: cat(Uint8Array.of(0xbf), tstr('ci'), tstr('x'), Uint8Array.of(0xff)) })), 'InvalidError', 'non-canonical', 'indefinite');
    bad('indefinite-length-digest-bytes', signed(basePairs({ digest: cat(Uint8Array.of(0x5f), bstr(DIGEST.subarray(0, 16)), bstr(DIGEST.subarray(16)), Uint8Array.of(0xff)) })), 'InvalidError', 'non-canonical', 'indefinite');
    bad('trailing-bytes (a second copy of the entry)', cat(good, good), 'InvalidError', 'non-canonical', 'trailing');
    bad('trailing-bytes (one 0xff)', cat(good, Uint8Array.of(0xff)), 'InvalidError', 'non-canonical', 'trailing');
  }

  // --- not CBOR at all: MalformedError -----------------------------------
  {
    bad('empty-input', new Uint8Array(0), 'MalformedError', 'malformed', 'empty');
    bad('truncated-to-head (0xa5)', Uint8Array.of(0xa5), 'MalformedError', 'malformed', 'truncated');
    bad('truncated-mid-argument (0x19 0x01)', Uint8Array.of(0x19, 0x01), 'MalformedError', 'malformed', 'truncated');
    bad('declared-length-2^32 (name text)', cat(Uint8Array.of(0xa5, 0x01, 0x01, 0x02), head(3, 2n ** 32n), enc('pkg')), 'MalformedError', 'malformed', 'entry.name');
    bad('declared-length-2^32-1 (digest bytes)', cat(Uint8Array.of(0xa5, 0x01, 0x01, 0x02, 0x61, 0x61, 0x03), head(2, 2n ** 32n - 1n), DIGEST), 'MalformedError', 'malformed', 'entry.digest');
    bad('declared-length-2^64-1 (array)', cat(Uint8Array.of(0xa1, 0x07), head(4, 2n ** 64n - 1n), Uint8Array.of(0)), 'MalformedError', 'malformed', 'truncated');
    bad('declared-map-of-2^32-pairs', cat(head(5, 2n ** 32n), Uint8Array.of(1, 1)), 'MalformedError', 'malformed', 'truncated');
    bad('declared-map-of-23-pairs-with-5', good.map((b, i) => (i === 0 ? 0xb7 : b)), 'MalformedError', 'malformed', 'truncated');
    bad('reserved-additional-info-28', Uint8Array.of(0x1c), 'MalformedError', 'malformed', 'reserved');
    bad('reserved-additional-info-30-in-map', cat(Uint8Array.of(0xa1, 0x01), Uint8Array.of(0x5e)), 'MalformedError', 'malformed', 'reserved');
    bad('lone-break-byte (0xff)', Uint8Array.of(0xff), 'MalformedError', 'malformed', 'break');
    bad('break-as-map-value', cat(Uint8Array.of(0xa1, 0x01, 0xff)), 'MalformedError', 'malformed', 'break');
    bad('two-byte-simple-value-below-32 (0xf8 0x10)', cat(Uint8Array.of(0xa1, 0x01, 0xf8, 0x10)), 'MalformedError', 'malformed', 'simple value');
    bad('indefinite-length-uint (0x1f)', cat(Uint8Array.of(0xa1, 0x01, 0x1f)), 'MalformedError', 'malformed', 'indefinite');
    bad('indefinite-length-tag (0xdf)', cat(Uint8Array.of(0xa1, 0x01, 0xdf)), 'MalformedError', 'malformed', 'indefinite');
  }

  // --- types entries never contain ----------------------------------------
  {
    bad('tagged-byte-string (tag 64 on digest)', signed(basePairs({ digest: cat(Uint8Array.of(0xd8, 0x40), bstr(DIGEST)) })), 'InvalidError', 'invalid', 'tag 64');
    bad('tagged-entry (self-describe tag 55799)', cat(Uint8Array.of(0xd9, 0xd9, 0xf7), good), 'InvalidError', 'invalid', 'tag 55799');
    bad('tagged-map (cbor-x tag 259)', cat(Uint8Array.of(0xd9, 0x01, 0x03), good), 'InvalidError', 'invalid', 'tag 259');
    bad('float-version (half 1.0)', signed(basePairs({ version: Uint8Array.of(0xf9, 0x3c, 0x00) })), 'InvalidError', 'invalid', 'entry.version');
    bad('float-version (double 1.0)', signed(basePairs({ version: Uint8Array.of(0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0) })), 'InvalidError', 'invalid', 'entry.version');
    bad('version-true', signed(basePairs({ version: Uint8Array.of(0xf5) })), 'InvalidError', 'invalid', 'entry.version');
    bad('version-0', signed(basePairs({ version: uint(0) })), 'InvalidError', 'invalid', 'entry.version');
    bad('version-negative (-1)', signed(basePairs({ version: Uint8Array.of(0x20) })), 'InvalidError', 'invalid', 'entry.version');
    bad('version-2^64-1', signed(basePairs({ version: uint(2n ** 64n - 1n) })), 'InvalidError', 'invalid', 'entry.version');
    bad('top-level-array', cat(head(4, 5), uint(1), tstr('x'), bstr(DIGEST), bstr(KEY), bstr(goodSig)), 'InvalidError', 'invalid', 'must be a CBOR map');
    bad('top-level-text', tstr('pkg:npm/left-pad@1.3.0'), 'InvalidError', 'invalid', 'must be a CBOR map');
    bad('top-level-uint', uint(1), 'InvalidError', 'invalid', 'must be a CBOR map');
    bad('name-as-byte-string', signed(basePairs({ name: bstr(enc('pkg:npm/left-pad@1.3.0')) })), 'InvalidError', 'invalid', 'entry.name');
    bad('digest-as-text', signed(basePairs({ digest: tstr('996a6efcfc45a500932eb0fbb577fbc4') })), 'InvalidError', 'invalid', 'entry.digest');
    bad('annotations-as-array', signed(basePairs({ annotations: cat(head(4, 1), tstr('x')) })), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-uint', signed(basePairs({ annotations: map([[uint(1), tstr('x')]]) })), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-value-bytes', signed(basePairs({ annotations: map([[tstr('ci'), bstr(enc('x'))]]) })), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    bad('annotation-value-map', signed(basePairs({ annotations: map([[tstr('ci'), map([[tstr('a'), tstr('b')]])]]) })), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    const bomb = cat(new Uint8Array(8000).fill(0x81), Uint8Array.of(0));
    bad('nested-depth-bomb (8000 nested arrays under key 7)', cat(Uint8Array.of(0xa1, 0x07), bomb), 'InvalidError', 'invalid', 'nests deeper');
    const maps: Bytes[] = [];
    for (let i = 0; i < 4000; i++) maps.push(Uint8Array.of(0xa1, 0x01));
    bad('nested-map-bomb (4000 nested maps)', cat(...maps, Uint8Array.of(0)), 'InvalidError', 'invalid', 'nests deeper');
    bad('nested-depth-bomb-truncated (8192 x 0x81)', new Uint8Array(8192).fill(0x81), 'InvalidError', 'invalid', 'nests deeper', 'refused for depth before the missing end is reached');
  }

  // --- structure and size -----------------------------------------------
  {
    bad('unknown-key-0', signed([[uint(0), uint(0)], ...basePairs()]), 'InvalidError', 'invalid', 'unknown key 0');
    bad('unknown-key-negative (-1)', signed([...basePairs(), [Uint8Array.of(0x20), uint(0)]]), 'InvalidError', 'invalid', 'unknown key -1');
    bad('unknown-key-text ("name")', signed([...basePairs(), [tstr('name'), tstr('x')]]), 'InvalidError', 'invalid', 'unknown key "name"');
    bad('missing-key-5 (sig)', map(basePairs()), 'InvalidError', 'invalid', 'entry.sig');
    bad('missing-key-1 (version)', map(withSig(basePairs().slice(1), bstr(goodSig))), 'InvalidError', 'invalid', 'entry.version');
    bad('missing-key-4 (key)', map(withSig(basePairs().slice(0, 3), bstr(goodSig))), 'InvalidError', 'invalid', 'entry.key');
    // The reference name takes 1 + 22 bytes; a name of 256+ bytes has a 3-byte head.
    const big = 'n'.repeat(8193 - (good.length - 23 + 3));
    const e8193 = map(withSig(basePairs({ name: tstr(big) }), bstr(goodSig)));
    if (e8193.length !== 8193) throw new Error(`8193 case is ${e8193.length} bytes`);
    bad('entry-8193-bytes', e8193, 'InvalidError', 'invalid', '8193 bytes');
    const e8192 = map(withSig(basePairs({ name: tstr(big.slice(1)) }), bstr(goodSig)));
    if (e8192.length !== 8192) throw new Error(`8192 case is ${e8192.length} bytes`);
    bad('entry-8192-bytes (name too long, not too large)', e8192, 'InvalidError', 'invalid', 'entry.name');
  }

  // --- field rules, validly signed ----------------------------------------
  {
    const withName = (s: string): Bytes => signed(basePairs({ name: tstr(s) }));
    const withNameBytes = (b: Bytes): Bytes => signed(basePairs({ name: rawText(b) }));
    bad('name-with-C1-U+0085', withName('pkg:npm/a\u0085b'), 'InvalidError', 'invalid', 'U+0085');
    bad('name-with-C1-U+009F', withName('a\u009fb'), 'InvalidError', 'invalid', 'U+009f');
    bad('name-with-NUL', withName('a\u0000b'), 'InvalidError', 'invalid', 'U+0000');
    bad('name-trailing-tab', withName('pkg:npm/a\t'), 'InvalidError', 'invalid', 'entry.name');
    bad('name-trailing-NBSP-U+00A0', withName('pkg:npm/a\u00a0'), 'InvalidError', 'invalid', 'white space');
    bad('name-leading-ideographic-space-U+3000', withName('\u3000pkg:npm/a'), 'InvalidError', 'invalid', 'white space');
    bad('name-trailing-space', withName('pkg:npm/a '), 'InvalidError', 'invalid', 'white space');
    bad('name-only-space', withName(' '), 'InvalidError', 'invalid', 'white space');
    bad('name-256-bytes-multibyte (128 x U+00E9)', withName('é'.repeat(128)), 'InvalidError', 'invalid', 'entry.name');
    bad('name-invalid-utf8 (ff fe fd)', withNameBytes(Uint8Array.of(0xff, 0xfe, 0xfd)), 'InvalidError', 'invalid', 'UTF-8');
    bad('name-overlong-utf8 (c0 af)', withNameBytes(Uint8Array.of(0x61, 0xc0, 0xaf)), 'InvalidError', 'invalid', 'UTF-8');
    bad('name-utf8-encoded-surrogate (ed a0 80)', withNameBytes(Uint8Array.of(0x61, 0xed, 0xa0, 0x80)), 'InvalidError', 'invalid', 'UTF-8');
    bad('name-truncated-utf8-sequence (e6 bc)', withNameBytes(Uint8Array.of(0x61, 0xe6, 0xbc)), 'InvalidError', 'invalid', 'UTF-8');
    bad('digest-33-bytes', signed(basePairs({ digest: bstr(cat(DIGEST, Uint8Array.of(0))) })), 'InvalidError', 'invalid', 'entry.digest');
    bad('digest-empty', signed(basePairs({ digest: bstr(new Uint8Array(0)) })), 'InvalidError', 'invalid', 'entry.digest');

    const withAnn = (o: Record<string, string>): Bytes => signed(basePairs({ annotations: annotations(o) }));
    const seventeen: Record<string, string> = {};
    for (let i = 0; i < 17; i++) seventeen[`k${String(i).padStart(2, '0')}`] = 'v';
    bad('annotations-17-pairs', withAnn(seventeen), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-value-with-tab', withAnn({ ci: 'a\tb' }), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    bad('annotation-value-with-newline', withAnn({ ci: 'a\n' }), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    bad('annotation-value-with-C1-U+0085', withAnn({ ci: 'a\u0085' }), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    bad('annotation-value-with-DEL', withAnn({ ci: '\u007f' }), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    bad('annotation-value-256-bytes', withAnn({ ci: 'v'.repeat(256) }), 'InvalidError', 'invalid', 'entry.annotations["ci"]');
    bad('annotation-value-invalid-utf8', signed(basePairs({ annotations: map([[tstr('ci'), rawText(Uint8Array.of(0x80))]]) })), 'InvalidError', 'invalid', 'UTF-8');
    bad('annotation-key-65-chars', withAnn({ ['a'.repeat(65)]: 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-empty', withAnn({ '': 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-leading-dot', withAnn({ '.ci': 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-leading-dash', withAnn({ '-ci': 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-upper-case', withAnn({ Ci: 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-trailing-newline', withAnn({ 'ci\n': 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-non-ascii', withAnn({ 'caf\u00e9': 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
    bad('annotation-key-__proto__', withAnn({ ['__proto__']: 'x' }), 'InvalidError', 'invalid', 'entry.annotations');
  }

  // --- public keys and signature lengths ------------------------------------
  {
    const withKey = (k: Bytes): Bytes => map(withSig(basePairs({ key: bstr(k) }), bstr(goodSig)));
    bad('key-31-bytes', withKey(KEY.subarray(0, 31)), 'InvalidError', 'invalid', 'entry.key');
    bad('key-33-bytes', withKey(cat(KEY, Uint8Array.of(0))), 'InvalidError', 'invalid', 'entry.key');
    // A point of large order with y < 19, written non-canonically as y + p (< 2^255).
    let nonCanonical: Bytes | undefined;
    for (let y = 2n; y < 19n && !nonCanonical; y++) {
      for (const sign of [0n, 1n]) {
        try {
          const point = ed.Point.fromBytes(le32(y | (sign << 255n)), false);
          if (point.isSmallOrder()) continue;
          nonCanonical = le32((y + P) | (sign << 255n));
          ed.Point.fromBytes(nonCanonical, true); // zip215 (lenient) decoding accepts it
          break;
        } catch {
          continue;
        }
      }
    }
    if (!nonCanonical) throw new Error('no large-order point with small y found');
    bad('key-non-canonical-y-ge-p (large-order point, y + p)', withKey(nonCanonical), 'InvalidError', 'invalid', 'entry.key');
    bad('key-y-equal-p (non-canonical encoding of y = 0)', withKey(le32(P)), 'InvalidError', 'invalid', 'entry.key');
    bad('key-negative-zero-x (y = 1 with sign bit)', withKey(le32(1n | (1n << 255n))), 'InvalidError', 'invalid', 'entry.key');
    bad('key-small-order-identity', withKey(le32(1n)), 'InvalidError', 'invalid', 'entry.key');
    bad('key-small-order-2 (y = p - 1)', withKey(le32(P - 1n)), 'InvalidError', 'invalid', 'entry.key');
    bad('key-small-order-8', withKey(unhex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')), 'InvalidError', 'invalid', 'entry.key');
    // The smallest y for which (y^2 - 1) / (d y^2 + 1) is not a square mod p: no point has it.
    let offCurve = 2n;
    for (; ; offCurve++) {
      try {
        ed.Point.fromBytes(le32(offCurve), true);
      } catch {
        break;
      }
    }
    bad(`key-not-on-curve (y = ${offCurve})`, withKey(le32(offCurve)), 'InvalidError', 'invalid', 'entry.key');
    const withSigBytes = (s: Bytes): Bytes => map(withSig(basePairs(), bstr(s)));
    bad('sig-63-bytes', withSigBytes(goodSig.subarray(0, 63)), 'InvalidError', 'invalid', 'entry.sig');
    bad('sig-65-bytes', withSigBytes(cat(goodSig, Uint8Array.of(0))), 'InvalidError', 'invalid', 'entry.sig');
    bad('sig-empty', withSigBytes(new Uint8Array(0)), 'InvalidError', 'invalid', 'entry.sig');
  }

  // --- well-formed entries whose signature must fail ------------------------
  {
    const base = basePairs();
    badSig('name-changed-after-signing', map(withSig(basePairs({ name: tstr('pkg:npm/left-pad@1.3.1') }), bstr(goodSig))));
    const annPairs = basePairs({ annotations: annotations({ ci: 'x' }) });
    const annSig = signPairs(annPairs);
    badSig('annotation-added-after-signing', map(withSig(annPairs, bstr(goodSig))));
    badSig('annotation-removed-after-signing', map(withSig(base, bstr(annSig))));
    badSig('annotation-value-changed-after-signing', map(withSig(basePairs({ annotations: annotations({ ci: 'y' }) }), bstr(annSig))));
    badSig('key-replaced-by-another-signer', map(withSig(basePairs({ key: bstr(OTHER_KEY) }), bstr(goodSig))));
    badSig('signed-by-another-signer', map(withSig(base, bstr(signPairs(base, OTHER_SEED)))));
    badSig('signed-without-domain-prefix', map(withSig(base, bstr(ed.sign(map(base), SEED)))));
    badSig('signed-over-map-including-key-5-placeholder', map(withSig(base, bstr(ed.sign(cat(PREFIX, map(withSig(base, bstr(new Uint8Array(64))))), SEED)))));
    badSig('signed-with-domain-v2', map(withSig(base, bstr(ed.sign(cat(enc('vitrine/entry/v2'), Uint8Array.of(0), map(base)), SEED)))));
    const sPlusL = cat(goodSig.subarray(0, 32), le32(fromLe(goodSig.subarray(32)) + L));
    badSig('sig-S-plus-L (non-canonical S)', map(withSig(base, bstr(sPlusL))), 'RFC 8032 §5.1.7: S must be < L; both backends refuse it');
    badSig('sig-all-zero', map(withSig(base, bstr(new Uint8Array(64)))));
    badSig('sig-R-is-identity', map(withSig(base, bstr(cat(le32(1n), goodSig.subarray(32))))));

    // R = rB + T with T of order 8: valid under the cofactored equation
    // [8]SB = [8]R + [8]kA (noble) but not the cofactorless SB = R + kA
    // (OpenSSL). Only a signer holding the secret key can make one.
    const ext = ed.utils.getExtendedPublicKey(SEED);
    const t8 = ed.Point.fromBytes(unhex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'), false);
    const r = fromLe(sha256(enc('vitrine torsion nonce'))) % L;
    const R = ed.Point.BASE.multiply(r).add(t8).toBytes();
    const msg = messageOf(base);
    const k = fromLe(sha512(cat(R, KEY, msg))) % L;
    const S = (r + k * ext.scalar) % L;
    badSig(
      'sig-R-with-order-8-component (valid only under the cofactored equation)',
      map(withSig(base, bstr(cat(R, le32(S))))),
      'node:crypto (cofactorless) refuses it; noble (cofactored, zip215=false) accepts it. Harmless: the log and monitors verify with node:crypto, and verifiers accept a superset of what the log accepts.',
      true,
    );
  }

  // --- extra good cases --------------------------------------------------------
  const goods: Good[] = [];
  const addGood = (desc: string, name: string, ann?: Record<string, string>): void => {
    const digest = sha256(enc(desc));
    const pairs = basePairs({ name: tstr(name), digest: bstr(digest), ...(ann ? { annotations: annotations(ann) } : {}) });
    const sig = signPairs(pairs);
    const entry = map(withSig(pairs, bstr(sig)));
    goods.push({
      desc,
      name,
      digest: hex(digest),
      ...(ann ? { annotations: ann } : {}),
      signedMessage: hex(messageOf(pairs)),
      sig: hex(sig),
      entry: hex(entry),
      leafHash: hex(sha256(cat(Uint8Array.of(0), entry))),
    });
  };
  const maxAnn: Record<string, string> = {};
  for (let i = 0; i < 16; i++) maxAnn[String.fromCharCode(97 + i).repeat(64)] = 'é'.repeat(127) + 'v';
  addGood('largest entry: 255-byte name, 16 pairs of 64-byte keys and 255-byte values', '漢'.repeat(85), maxAnn);
  addGood('name of 23 bytes (1-byte text head)', 'n'.repeat(23));
  addGood('name of 24 bytes (2-byte text head)', 'n'.repeat(24));
  addGood('name of 1 byte', 'x');
  addGood('name with interior spaces and a 4-byte code point', 'my tool 🚀 v1.0');
  addGood('annotation keys sorted length-first, then bytewise', 'pkg:npm/x@1', { z9: '1', b: '2', a: '3', aa: '4', '0': '5', 'a.b-c_d': '6' });
  addGood('annotation key "constructor" and an empty value', 'pkg:npm/x@1', { constructor: '', tostring: 'x' });
  addGood('annotation values may have edge white space and any non-control text', 'pkg:npm/x@1', { note: '  spaced  ', emoji: '🚀', nbsp: '\u00a0' });
  addGood('name ending in U+200B (a format character, not White_Space: allowed)', 'pkg:npm/x@1\u200b');

  return {
    negative: {
      description:
        'Vitrine entry v1 (docs/formats.md §4) negative cases, generated by test/entry/gen-vectors.ts from raw CBOR. Each must be refused at `stage` ("decode": decodeEntry; "verify": decodes, then the signature fails) with `error` class and `code`, and the message must contain `field`. Signer seed as in entries.json. Cases marked nobleAccepts are refused by node:crypto but accepted by the cofactored noble verifier.',
      signerSeed: hex(SEED),
      cases,
    },
    extraGood: {
      description:
        'Vitrine entry v1 good cases beyond entries.json, generated by test/entry/gen-vectors.ts from raw CBOR and @noble/ed25519, same shape as entries.json `good` (digest = SHA-256 of desc). Signer seed as in entries.json.',
      signerSeed: hex(SEED),
      good: goods,
    },
  };
}

export const NEGATIVE_PATH = rootPath('vectors/entry/negative.json');
export const EXTRA_GOOD_PATH = rootPath('vectors/entry/extra-good.json');

export const render = (o: object): string => JSON.stringify(o, null, 1) + '\n';

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Writing needs --write, so that a test runner that happens to execute
  // this file (`npx tap test/entry/`) never touches the committed vectors.
  const { negative, extraGood } = generate();
  const files: Array<[string, object]> = [
    [NEGATIVE_PATH, negative],
    [EXTRA_GOOD_PATH, extraGood],
  ];
  if (process.argv.includes('--write')) {
    for (const [path, data] of files) writeFileSync(path, render(data));
    console.log(`wrote ${files.map(([p]) => p).join(' and ')}`);
  } else {
    const stale = files.filter(([path, data]) => {
      try {
        return readFileSync(path, 'utf8') !== render(data);
      } catch {
        return true;
      }
    });
    for (const [path] of stale) console.error(`stale: ${path} (run with --write)`);
    if (stale.length === 0) console.log('vectors/entry/negative.json and extra-good.json are up to date');
    process.exitCode = stale.length === 0 ? 0 : 1;
  }
}
