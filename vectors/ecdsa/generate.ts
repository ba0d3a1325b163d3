/**
 * Records vectors/ecdsa/vectors.json: entries of kind `ecdsa-p256`
 * (docs/formats.md §4.3, §16.1) whose keys and signatures come from the real
 * `openssl` and whose bytes are written out here by hand from the spec, byte
 * by byte: nothing in this file uses Vitrine's encoder, parser or verifier.
 * Digests and leaf hashes come from node:crypto. ECDSA signatures are
 * randomised, so re-running gives new, equally valid bytes.
 *
 *     npx tsx vectors/ecdsa/generate.ts
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'vitrine-ecdsa-vectors-'));
const openssl = (args: string[]): Buffer => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

const COMMANDS = {
  key: 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem',
  spki: 'openssl pkey -in key.pem -pubout -outform DER',
  spkiCompressed: 'openssl pkey -in key.pem -pubout -outform DER -ec_conv_form compressed',
  sign: 'openssl dgst -sha256 -sign key.pem -out artifact.sig ARTIFACT',
  ed25519: 'openssl genpkey -algorithm ed25519 -out ed.pem; openssl pkey -in ed.pem -pubout -outform DER',
  rsa: 'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem; openssl pkey -in rsa.pem -pubout -outform DER',
  p384: 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem; openssl pkey -in p384.pem -pubout -outform DER',
};

let n = 0;
function key(args: string[], pubArgs: string[] = []): { priv: string; spki: Buffer } {
  const priv = join(dir, `key${n++}.pem`);
  openssl(['genpkey', ...args, '-out', priv]);
  return { priv, spki: openssl(['pkey', '-in', priv, '-pubout', '-outform', 'DER', ...pubArgs]) };
}
function sign(priv: string, artifact: Uint8Array): Buffer {
  const file = join(dir, `artifact${n++}`);
  writeFileSync(file, artifact);
  return openssl(['dgst', '-sha256', '-sign', priv, file]);
}

// CBOR heads (RFC 8949 §3), shortest form, written out by hand.
function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) return Buffer.from([(major << 5) | 25, value >> 8, value & 0xff]);
  throw new Error('value too large for these vectors');
}
const bstr = (b: Uint8Array): Buffer => Buffer.concat([head(2, b.length), b]);
const tstr = (s: string): Buffer => Buffer.concat([head(3, utf8(s).length), utf8(s)]);
const uint = (v: number): Buffer => head(0, v);

interface Parts {
  name: string;
  digest: Uint8Array;
  /** Body pairs (key, raw bytes) in the order to write them; canonical order is key 1, then 2. */
  body: Array<[number, Buffer]>;
  annotations?: Array<[string, string]>;
}
/** The version-2 entry map of docs/formats.md §4.3: keys 1 to 5 (and 6), in this order. */
function entryBytes(p: Parts): Buffer {
  const pairs = [
    uint(1), uint(2),
    uint(2), tstr('ecdsa-p256'),
    uint(3), tstr(p.name),
    uint(4), bstr(p.digest),
    uint(5), Buffer.concat([head(5, p.body.length), ...p.body.flatMap(([k, v]) => [uint(k), bstr(v)])]),
  ];
  if (p.annotations) pairs.push(uint(6), Buffer.concat([head(5, p.annotations.length), ...p.annotations.flatMap(([k, v]) => [tstr(k), tstr(v)])]));
  return Buffer.concat([head(5, p.annotations ? 6 : 5), ...pairs]);
}

// DER INTEGER/SEQUENCE of an ECDSA signature (SEC 1), by hand, for the high-S and non-strict cases.
function derParts(sig: Uint8Array): [bigint, bigint] {
  let o = 2;
  const read = (): bigint => {
    const len = sig[o + 1]!;
    const v = BigInt(`0x${hex(sig.subarray(o + 2, o + 2 + len))}`);
    o += 2 + len;
    return v;
  };
  return [read(), read()];
}
function derInt(v: bigint, extraZero = false): Buffer {
  let h = v.toString(16);
  if (h.length % 2) h = `0${h}`;
  let b = Buffer.from(h, 'hex');
  if (b[0]! >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  if (extraZero) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}
const derSig = (r: bigint, s: bigint, extraZeroR = false): Buffer => {
  const body = Buffer.concat([derInt(r, extraZeroR), derInt(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
};
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const a = key(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
const aCompressed = openssl(['pkey', '-in', a.priv, '-pubout', '-outform', 'DER', '-ec_conv_form', 'compressed']);
const b = key(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
const ed = key(['-algorithm', 'ed25519']);
const rsa = key(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
const p384 = key(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']);

const artifact = utf8('vitrine release 1.0.0\n');
const other = utf8('another file\n');
const digest = sha256(artifact);
// A signature whose r has its top bit clear, so that the non-strict case below
// (one superfluous zero byte before r) stays within 33 bytes: a well-formed
// integer that only the strict-DER rule refuses.
let sig = sign(a.priv, artifact);
while (derParts(sig)[0] >= 1n << 255n) sig = sign(a.priv, artifact);
const [r, s] = derParts(sig);
const highS = s > N / 2n ? sig : derSig(r, N - s);
const lowS = s > N / 2n ? derSig(r, N - s) : sig;
const name = 'pkg:generic/vitrine@1.0.0';

interface GoodCase {
  description: string;
  artifact: string;
  entry: string;
  leafHash: string;
  json: unknown;
  fingerprint: string;
  keyHash: string;
}
interface BadCase {
  description: string;
  entry: string;
  /** `decode`: decoding refuses it; `verify`: it decodes, and its signature does not verify. */
  stage: 'decode' | 'verify';
  error: string;
  code: string;
}

/** `spki` is the key as the entry holds it; `named` the SPKI its fingerprint is taken of (formats.md §14: the uncompressed form). */
function good(description: string, p: Parts, spki: Buffer, named: Buffer = spki): GoodCase {
  const entry = entryBytes(p);
  const body: Record<string, string> = {};
  for (const [k, v] of p.body) body[k === 1 ? 'key' : 'sig'] = b64(v);
  const json: Record<string, unknown> = { version: 2, kind: 'ecdsa-p256', name: p.name, digest: hex(p.digest), body };
  if (p.annotations) json.annotations = Object.fromEntries(p.annotations);
  return {
    description,
    artifact: artifact.toString('utf8'),
    entry: hex(entry),
    leafHash: hex(sha256(Buffer.concat([Buffer.from([0]), entry]))),
    json,
    fingerprint: `SHA256:${b64(sha256(named)).replace(/=+$/, '')}`,
    keyHash: hex(sha256(spki)),
  };
}
const bad = (description: string, p: Parts, stage: BadCase['stage'], error: string, code: string): BadCase => ({ description, entry: hex(entryBytes(p)), stage, error, code });

const base: Parts = { name, digest, body: [[1, a.spki], [2, sig]] };
const cases = {
  description:
    'Entries of kind ecdsa-p256 (docs/formats.md §4.3, §16.1). Keys and signatures by openssl (`commands`), entry bytes written by hand from the spec (generate.ts), hashes by node:crypto. `artifact` is UTF-8 text; hex everywhere else except `json`, the JSON form. Every good entry decodes, re-encodes to the same bytes, verifies and names its signer; every bad one is refused at `stage` with `error` and `code`.',
  commands: COMMANDS,
  keys: {
    a: { spki: hex(a.spki), spkiCompressed: hex(aCompressed) },
    b: { spki: hex(b.spki) },
  },
  good: [
    good('openssl dgst -sha256 -sign, uncompressed SPKI', { ...base, body: [[1, a.spki], [2, lowS]] }, a.spki),
    good('the same signature in its high-S form (accepted: OpenSSL does not normalise S)', { ...base, body: [[1, a.spki], [2, highS]] }, a.spki),
    good('compressed SPKI of the same key: another key hash, the same fingerprint', { ...base, body: [[1, aCompressed], [2, sig]] }, aCompressed, a.spki),
    good('with annotations', { ...base, annotations: [['commit', '0123abc'], ['version', '1.0.0']] }, a.spki),
  ],
  bad: [
    bad('the digest of another file', { ...base, digest: sha256(other) }, 'verify', 'InvalidError', 'bad-signature'),
    bad('a swapped key (another P-256 key)', { ...base, body: [[1, b.spki], [2, sig]] }, 'verify', 'InvalidError', 'bad-signature'),
    bad('an Ed25519 key', { ...base, body: [[1, ed.spki], [2, sig]] }, 'decode', 'InvalidError', 'invalid'),
    bad('an RSA key', { ...base, body: [[1, rsa.spki], [2, sig]] }, 'decode', 'InvalidError', 'invalid'),
    bad('a P-384 key', { ...base, body: [[1, p384.spki], [2, sig]] }, 'decode', 'InvalidError', 'invalid'),
    bad('the signature as raw r||s (64 bytes) instead of DER', { ...base, body: [[1, a.spki], [2, Buffer.from(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), 'hex')]] }, 'decode', 'InvalidError', 'invalid'),
    bad('non-strict DER: r with a superfluous leading zero byte', { ...base, body: [[1, a.spki], [2, derSig(r, s, true)]] }, 'decode', 'InvalidError', 'invalid'),
    bad('body keys out of order (2 before 1)', { ...base, body: [[2, sig], [1, a.spki]] }, 'decode', 'InvalidError', 'non-canonical'),
    bad('an unknown body key 3', { ...base, body: [[1, a.spki], [2, sig], [3, Buffer.from([1])]] }, 'decode', 'InvalidError', 'invalid'),
    bad('no signature (body key 2 missing)', { ...base, body: [[1, a.spki]] }, 'decode', 'InvalidError', 'invalid'),
  ],
};

rmSync(dir, { recursive: true, force: true });
const out = join(dirname(fileURLToPath(import.meta.url)), 'vectors.json');
writeFileSync(out, `${JSON.stringify(cases, null, 1)}\n`);
console.log(`wrote ${out}: ${cases.good.length} good, ${cases.bad.length} bad`);
