/**
 * The monitor's policy (docs/monitoring.md "Policy", docs/formats.md §11), a
 * JSON file:
 *
 *     {"rules":   [{"names": ["pkg:npm/my-lib@*"], "signers": ["<key or its one name>"],
 *                   "predicateTypes": ["https://slsa.dev/provenance/v1"], "builders": ["https://github.com/..."]}],
 *      "keys":    [{"signer": "<key or its one name>", "releases": "releases.txt"}],
 *      "revoked": ["<key or its one name>"]}
 *
 * A signer is named by its public key in any native format (an OpenSSH
 * line, a minisign public key, a PEM "PUBLIC KEY" block, a Vitrine vkey, or
 * `{"file": "<path>"}` holding one of those), or by the key's one name
 * (`SHA256:…` of an SSH key or SPKI, a minisign key ID, `name+keyID` of a
 * vkey, the hex key hash of a version-1 key). A key matches an entry's
 * signer whatever format either is written in: the raw key decides (P-256
 * points compared uncompressed). A one name matches a signer whose key has
 * that name in any of its formats.
 *
 * - rules: an entry one of whose names (its own, and for an attestation
 *   every subject's) matches a pattern of a rule (`*` any run, `?` one
 *   character, whole-name match) raises `unexpected-signer` if the rule
 *   lists signers and none of the entry's signers is one of them, and
 *   `unexpected-attestation` if it is an attestation whose predicateType the
 *   rule's `predicateTypes` do not allow, or SLSA provenance whose builder id
 *   its `builders` do not allow;
 * - keys: an entry by that signer whose (name, digest) is not a line
 *   `<name> <sha256 hex>` of the releases file (relative to the policy
 *   file; blank lines and `#` comments ignored) raises `unexpected-entry`.
 *   A signer listed in several items may log what any of their files lists;
 * - revoked: every entry by a revoked key raises `revoked-key`.
 *
 * Parsing is strict and fails closed: unknown fields, a rule that checks
 * nothing, a malformed key or name, a missing or malformed releases or key
 * file all throw PolicyError, which stops the monitor. `PolicyFile` re-reads
 * the policy and every file it names when their content changes (checked at
 * each poll). The compiled form is plain data (`PolicySpec`) so it can be
 * sent to the audit worker threads.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { VitrineError } from '../errors.js';
import { checkKeyName, computeKeyId, formatKeyId, TYPE_ED25519 } from '../note/index.js';
import { SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from '../sig/intoto.js';
import { detectKeyFormat, parseNativeKey } from '../sig/native-key.js';

export class PolicyError extends VitrineError {
  constructor(message: string) {
    super('bad-policy', message);
  }
}

/**
 * A signer as the policy names it, compiled to one token:
 * `key:<algorithm>:<hex raw key>` for a key, `fp:<one name>` for a
 * `SHA256:`, minisign key ID or hex key hash name, `vkid:<name>+<keyID>`
 * for a vkey's name and key ID without its key.
 */
export type SignerToken = string;

export interface RuleSpec {
  /** Name patterns (`*`, `?`), as written. */
  readonly names: readonly string[];
  /** Allowed signers; absent: any signer. */
  readonly signers?: readonly SignerToken[];
  /** Allowed attestation predicateTypes (patterns); absent: any. */
  readonly predicateTypes?: readonly string[];
  /** Allowed SLSA provenance builder ids (patterns); absent: any. */
  readonly builders?: readonly string[];
}

/** A compiled policy: plain data, structured-clone safe. */
export interface PolicySpec {
  readonly rules: readonly RuleSpec[];
  /** Signer → its releases files, each a list of "name\ndigest" lines allowed. */
  readonly keys: ReadonlyArray<{ readonly signer: SignerToken; readonly file: string; readonly releases: readonly string[] }>;
  readonly revoked: readonly SignerToken[];
  /** Key token → the vkey `name+keyID` the policy gives it: a version-1 key's one name in messages. */
  readonly names: Readonly<Record<string, string>>;
}

export const EMPTY_POLICY: PolicySpec = { rules: [], keys: [], revoked: [], names: {} };

/** One policy violation by one entry. */
export interface PolicyFinding {
  readonly kind: 'unexpected-signer' | 'unexpected-entry' | 'revoked-key' | 'unexpected-attestation';
  readonly message: string;
}

/** An entry's signer, as the audit knows it once the signature verified. */
export interface PolicySigner {
  readonly algorithm: 'ed25519' | 'ecdsa-p256';
  /** Raw key: 32 bytes (Ed25519) or a SEC 1 point (P-256); when absent the signer is matched by its fingerprint only. */
  readonly key?: Uint8Array | undefined;
  /** The signer's one name in its entry's format (docs/formats.md §4.4). */
  readonly fingerprint: string;
}

/** What the policy reads from an attestation (an entry of kind dsse). */
export interface PolicyAttestation {
  readonly predicateType: string;
  /** SLSA provenance builder id, undefined when the predicate has none. */
  readonly builderId: string | undefined;
  /** Every subject's name (the entry is found by each). */
  readonly subjectNames: readonly string[];
}

/** `*` matches any run of characters (including none), `?` exactly one; everything else itself; whole name. */
export function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[\\^$.*+?()[\]{}|/]/g, (c) => `\\${c}`);
  }
  // `s`: a character is any code point; `u`: `?` matches a whole code point, not half a surrogate pair.
  return new RegExp(`^${src}$`, 'su');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The raw key in the one form tokens use: Ed25519 as is, P-256 as the uncompressed point. */
function keyToken(algorithm: 'ed25519' | 'ecdsa-p256', key: Uint8Array): SignerToken {
  if (algorithm === 'ecdsa-p256' && key.length === 33) return `key:ecdsa-p256:${hex(p256.Point.fromBytes(key).toBytes(false))}`;
  return `key:${algorithm}:${hex(key)}`;
}

const SHA256_NAME = /^SHA256:[A-Za-z0-9+/]{43}$/;
// minisign prints its key IDs with C's PRIX64: uppercase, no leading zeros.
const MINISIGN_ID = /^[1-9A-F][0-9A-F]{0,15}$/;
const KEY_HASH = /^[0-9a-f]{64}$/;
const VKEY_NAME = /^([^+\s]+)\+([0-9a-f]{8})$/;
const SIGNER_FORMS = 'a public key (an OpenSSH line, a minisign public key, a PEM "PUBLIC KEY" block, a Vitrine vkey, or {"file": "<path>"}) or a key\'s one name (SHA256:… of an SSH or PEM key, a minisign key ID as minisign prints it, name+keyID of a vkey, the hex key hash of a version-1 key)';

interface SignerContext {
  readonly names: Record<string, string>;
  readonly base: string;
  readonly readFile: (path: string) => string;
}

function signerToken(value: unknown, where: string, ctx: SignerContext): SignerToken {
  let text: string;
  let from = '';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    onlyFields(o, ['file'], where);
    const rel = o['file'];
    if (typeof rel !== 'string' || rel.length === 0) throw new PolicyError(`${where}.file: must be a file path`);
    const file = resolve(ctx.base, rel);
    try {
      text = ctx.readFile(file);
    } catch (err) {
      throw new PolicyError(`${where}.file: cannot read ${file}: ${(err as Error).message}`);
    }
    from = ` (in ${file})`;
    if (detectKeyFormat(text) === undefined) throw new PolicyError(`${where}.file: ${file} holds no public key in a known format (an OpenSSH line, a minisign public key, a PEM "PUBLIC KEY" block or a Vitrine vkey)`);
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw new PolicyError(`${where}: must be ${SIGNER_FORMS}`);
  }
  const t = text.trim();
  const format = detectKeyFormat(t);
  if (format !== undefined) {
    let k;
    try {
      k = parseNativeKey(t, where, format);
    } catch (err) {
      const what = { ssh: 'OpenSSH public key', minisign: 'minisign public key', pem: 'PEM public key', vitrine: 'vkey' }[format];
      throw new PolicyError(`${where}: malformed ${what}${from}: ${(err as Error).message.replace(`${where}: `, '')}`);
    }
    const token = keyToken(k.algorithm, k.key);
    if (k.format === 'vitrine') ctx.names[token] ??= k.fingerprint;
    return token;
  }
  if (SHA256_NAME.test(t) || MINISIGN_ID.test(t) || KEY_HASH.test(t)) return `fp:${t}`;
  const vk = VKEY_NAME.exec(t);
  if (vk !== null) {
    try {
      checkKeyName(vk[1]!);
    } catch (err) {
      throw new PolicyError(`${where}: ${JSON.stringify(t.slice(0, 80))} is not name+keyID: ${(err as Error).message}`);
    }
    return `vkid:${t}`;
  }
  if (/^[^+\s]+\+/.test(t)) throw new PolicyError(`${where}: ${JSON.stringify(t.slice(0, 80))} is a malformed vkey (want name+<8 hex digits>+<base64 key>, or name+<8 hex digits> for its one name)`);
  if (/^[0-9a-f]{1,16}$/i.test(t)) throw new PolicyError(`${where}: a minisign key ID is uppercase hex without leading zeros, as minisign prints it`);
  throw new PolicyError(`${where}: ${JSON.stringify(t.slice(0, 80))} is not ${SIGNER_FORMS}`);
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new PolicyError(`${where}: unknown field ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PolicyError(`${where}: must be a JSON object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string, nonEmpty: boolean): unknown[] {
  if (!Array.isArray(value)) throw new PolicyError(`${where}: must be an array`);
  if (nonEmpty && value.length === 0) throw new PolicyError(`${where}: must not be empty`);
  return value;
}

function patterns(value: unknown, where: string): string[] {
  return array(value, where, true).map((p, j) => {
    if (typeof p !== 'string' || p.length === 0) throw new PolicyError(`${where}[${j}]: must be a non-empty string`);
    return p;
  });
}

const DIGEST = /^[0-9a-f]{64}$/;

/** Parses a releases file: `<name> <sha256 hex>` per line; the name is everything before the last space. */
export function parseReleases(text: string, file: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const sp = line.lastIndexOf(' ');
    const name = sp < 0 ? '' : line.slice(0, sp).trimEnd();
    const digest = sp < 0 ? line : line.slice(sp + 1);
    if (name === '') throw new PolicyError(`${file} line ${i + 1}: want "<name> <sha256 hex>"`);
    if (!DIGEST.test(digest)) throw new PolicyError(`${file} line ${i + 1}: ${JSON.stringify(digest.slice(0, 80))} is not 64 lowercase hex digits`);
    out.push(`${name}\n${digest}`);
  });
  return out;
}

const RULE_CHECKS = ['signers', 'predicateTypes', 'builders'];

/** Parses policy JSON text. `readFile(path)` returns a releases or key file's text (paths are already resolved). */
export function parsePolicy(text: string, policyPath: string, readFile: (path: string) => string): PolicySpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`policy ${policyPath}: not valid JSON: ${(err as Error).message}`);
  }
  const top = object(value, `policy ${policyPath}`);
  onlyFields(top, ['rules', 'keys', 'revoked'], `policy ${policyPath}`);
  const names: Record<string, string> = {};
  const ctx: SignerContext = { names, base: dirname(resolve(policyPath)), readFile };
  const rules = array(top['rules'] ?? [], 'policy rules', false).map((r, i): RuleSpec => {
    const where = `policy rules[${i}]`;
    const rule = object(r, where);
    onlyFields(rule, ['names', ...RULE_CHECKS], where);
    if (!RULE_CHECKS.some((k) => rule[k] !== undefined)) throw new PolicyError(`${where}: checks nothing (give signers, predicateTypes or builders)`);
    const out: { -readonly [K in keyof RuleSpec]: RuleSpec[K] } = { names: patterns(rule['names'], `${where}.names`) };
    if (rule['signers'] !== undefined) out.signers = array(rule['signers'], `${where}.signers`, true).map((s, j) => signerToken(s, `${where}.signers[${j}]`, ctx));
    if (rule['predicateTypes'] !== undefined) out.predicateTypes = patterns(rule['predicateTypes'], `${where}.predicateTypes`);
    if (rule['builders'] !== undefined) out.builders = patterns(rule['builders'], `${where}.builders`);
    return out;
  });
  const keys = array(top['keys'] ?? [], 'policy keys', false).map((k, i) => {
    const where = `policy keys[${i}]`;
    const item = object(k, where);
    onlyFields(item, ['signer', 'releases'], where);
    const signer = signerToken(item['signer'], `${where}.signer`, ctx);
    const rel = item['releases'];
    if (typeof rel !== 'string' || rel.length === 0) throw new PolicyError(`${where}.releases: must be a file path`);
    const file = resolve(ctx.base, rel);
    let body: string;
    try {
      body = readFile(file);
    } catch (err) {
      throw new PolicyError(`${where}.releases: cannot read ${file}: ${(err as Error).message}`);
    }
    return { signer, file, releases: parseReleases(body, file) };
  });
  const revoked = array(top['revoked'] ?? [], 'policy revoked', false).map((s, i) => signerToken(s, `policy revoked[${i}]`, ctx));
  return { rules, keys, revoked, names };
}

interface CompiledRule {
  readonly names: RegExp[];
  readonly signers: Set<string> | undefined;
  readonly predicateTypes: { readonly text: readonly string[]; readonly re: RegExp[] } | undefined;
  readonly builders: { readonly text: readonly string[]; readonly re: RegExp[] } | undefined;
}

/** At most this many signers' name sets are remembered (a hostile log can sign with a new key per entry). */
const IDENTITY_CACHE = 4096;

const list = (items: readonly string[]): string => items.map((x) => JSON.stringify(x)).join(', ');

/** A policy ready to check entries. */
export class CompiledPolicy {
  readonly #rules: CompiledRule[];
  readonly #keys = new Map<string, { files: string[]; releases: Set<string> }>();
  readonly #revoked: Set<string>;
  readonly #names: Readonly<Record<string, string>>;
  /** Whether any token is a one name, so signers' names in every format must be derived. */
  readonly #byName: boolean;
  /** The vkey names of `vkid:` tokens: a key ID is derived from a name and a key. */
  readonly #vkeyNames: string[];
  readonly #identities = new Map<string, Set<string>>();
  readonly empty: boolean;

  constructor(spec: PolicySpec) {
    const compile = (p: readonly string[] | undefined) => (p === undefined ? undefined : { text: p, re: p.map(globToRegExp) });
    this.#rules = spec.rules.map((r) => ({
      names: r.names.map(globToRegExp),
      signers: r.signers === undefined ? undefined : new Set(r.signers),
      predicateTypes: compile(r.predicateTypes),
      builders: compile(r.builders),
    }));
    for (const k of spec.keys) {
      let e = this.#keys.get(k.signer);
      if (e === undefined) this.#keys.set(k.signer, (e = { files: [], releases: new Set() }));
      e.files.push(k.file);
      for (const r of k.releases) e.releases.add(r);
    }
    this.#revoked = new Set(spec.revoked);
    this.#names = spec.names;
    const all = [...spec.rules.flatMap((r) => r.signers ?? []), ...spec.keys.map((k) => k.signer), ...spec.revoked];
    this.#byName = all.some((t) => t.startsWith('fp:'));
    this.#vkeyNames = [...new Set(all.filter((t) => t.startsWith('vkid:')).map((t) => VKEY_NAME.exec(t.slice(5))![1]!))];
    this.empty = spec.rules.length === 0 && spec.keys.length === 0 && spec.revoked.length === 0;
  }

  /** Every token that names this signer: its key, and (when the policy names keys by name) its one name in each format. */
  #identity(s: PolicySigner): Set<string> {
    if (s.key === undefined) return new Set([`fp:${s.fingerprint}`]);
    const token = keyToken(s.algorithm, s.key);
    const cached = this.#identities.get(token);
    if (cached !== undefined && cached.has(`fp:${s.fingerprint}`)) return cached;
    const ids = new Set<string>([token, `fp:${s.fingerprint}`]);
    const raw = Buffer.from(token.slice(token.lastIndexOf(':') + 1), 'hex');
    if (this.#byName) {
      for (const blob of sshBlobs(s.algorithm, raw)) ids.add(`fp:SHA256:${b64(sha256(blob))}`);
      for (const der of spkis(s.algorithm, raw)) ids.add(`fp:SHA256:${b64(sha256(der))}`);
      if (s.algorithm === 'ed25519') ids.add(`fp:${hex(sha256(raw))}`);
    }
    if (s.algorithm === 'ed25519') for (const n of this.#vkeyNames) ids.add(`vkid:${n}+${formatKeyId(computeKeyId(n, TYPE_ED25519, raw))}`);
    if (this.#identities.size >= IDENTITY_CACHE) this.#identities.clear();
    this.#identities.set(token, ids);
    return ids;
  }

  /** The signer's one name: the vkey name+keyID the policy gives its key, else its fingerprint. */
  #who(s: PolicySigner): string {
    return (s.key === undefined ? undefined : this.#names[keyToken(s.algorithm, s.key)]) ?? s.fingerprint;
  }

  /**
   * The violations of one valid, correctly signed entry: its index, name,
   * lowercase hex SHA-256 digest, signers (at least one) and, for an
   * attestation, what it attests.
   */
  check(index: number, name: string, digest: string, signers: readonly PolicySigner[], attestation?: PolicyAttestation): PolicyFinding[] {
    if (this.empty) return [];
    const ids = signers.map((s) => this.#identity(s));
    const by = signers.map((s) => this.#who(s)).join(' and ');
    const names = attestation === undefined ? [name] : [name, ...attestation.subjectNames.filter((n) => n !== name && n !== '')];
    const what = (n: string) => (n === name ? JSON.stringify(name) : `${JSON.stringify(name)} (an attestation also about ${JSON.stringify(n)})`);
    const out: PolicyFinding[] = [];
    let signerFound = false;
    let attestationFound = false;
    for (let i = 0; i < this.#rules.length && !(signerFound && attestationFound); i++) {
      const rule = this.#rules[i]!;
      const matched = names.find((n) => rule.names.some((p) => p.test(n)));
      if (matched === undefined) continue;
      if (!signerFound && rule.signers !== undefined && !ids.some((set) => [...set].some((t) => rule.signers!.has(t)))) {
        signerFound = true;
        out.push({
          kind: 'unexpected-signer',
          message: `Entry ${index} is ${what(matched)}, a name policy rule ${i + 1} allows only for other signers, signed by ${by}.`,
        });
      }
      if (!attestationFound && attestation !== undefined) {
        const reason = attestationReason(rule, attestation);
        if (reason !== undefined) {
          attestationFound = true;
          out.push({ kind: 'unexpected-attestation', message: `Entry ${index} is ${what(matched)}, signed by ${by}: ${reason} policy rule ${i + 1} does not allow.` });
        }
      }
    }
    for (let j = 0; j < signers.length; j++) {
      const listed = [...ids[j]!].map((t) => this.#keys.get(t)).filter((k) => k !== undefined);
      if (listed.length === 0) continue;
      if (listed.some((k) => k.releases.has(`${name}\n${digest}`))) continue;
      out.push({
        kind: 'unexpected-entry',
        message: `Entry ${index} is ${JSON.stringify(name)} with digest ${digest}, signed by ${this.#who(signers[j]!)}, but that release is not listed in ${[...new Set(listed.flatMap((k) => k.files))].join(' or ')}.`,
      });
      break;
    }
    const revoked = signers.filter((_, j) => [...ids[j]!].some((t) => this.#revoked.has(t)));
    if (revoked.length > 0) {
      out.push({ kind: 'revoked-key', message: `Entry ${index} (${JSON.stringify(name)}) is signed by revoked key ${revoked.map((s) => this.#who(s)).join(' and ')}.` });
    }
    return out;
  }
}

/** Why an attestation breaks a rule's allow-lists (a phrase ending before "policy rule N does not allow"), or undefined. */
function attestationReason(rule: CompiledRule, a: PolicyAttestation): string | undefined {
  if (rule.predicateTypes !== undefined && !rule.predicateTypes.re.some((p) => p.test(a.predicateType))) {
    return `an attestation with predicateType ${JSON.stringify(a.predicateType)}, which (allowed: ${list(rule.predicateTypes.text)})`;
  }
  const slsa = a.predicateType === SLSA_PROVENANCE_V1 || a.predicateType === SLSA_PROVENANCE_V02;
  if (rule.builders !== undefined && slsa) {
    if (a.builderId === undefined) return `SLSA provenance (${a.predicateType}) naming no builder id, which (allowed builders: ${list(rule.builders.text)})`;
    if (!rule.builders.re.some((p) => p.test(a.builderId!))) {
      return `SLSA provenance (${a.predicateType}) from builder ${JSON.stringify(a.builderId)}, which (allowed builders: ${list(rule.builders.text)})`;
    }
  }
  return undefined;
}

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const P256_SPKI = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const P256_SPKI_COMPRESSED = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');

/** The SubjectPublicKeyInfo DER forms of a key (docs/formats.md §14): P-256 has an uncompressed and a compressed one. */
function spkis(algorithm: 'ed25519' | 'ecdsa-p256', raw: Uint8Array): Uint8Array[] {
  if (algorithm === 'ed25519') return [Buffer.concat([ED25519_SPKI, raw])];
  return [Buffer.concat([P256_SPKI, raw]), Buffer.concat([P256_SPKI_COMPRESSED, p256.Point.fromBytes(raw).toBytes(true)])];
}

/** The OpenSSH public key blob of a key (RFC 4253 §6.6, RFC 5656 §3.1). */
function sshBlobs(algorithm: 'ed25519' | 'ecdsa-p256', raw: Uint8Array): Uint8Array[] {
  const str = (b: Uint8Array): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  if (algorithm === 'ed25519') return [Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)])];
  return [Buffer.concat([str(Buffer.from('ecdsa-sha2-nistp256')), str(Buffer.from('nistp256')), str(raw)])];
}

interface Stamp {
  path: string;
  mtimeMs: number;
  size: number;
  ino: number;
}

function stamp(path: string): Stamp {
  const s = statSync(path);
  return { path, mtimeMs: s.mtimeMs, size: s.size, ino: s.ino };
}

/**
 * A policy file and its releases files, re-read when any of them changes.
 * The stat check is cheap; on a change the content hash decides whether the
 * policy really differs (a `touch` does not count).
 */
export class PolicyFile {
  readonly path: string;
  #stamps: Stamp[] = [];
  #hash = '';
  #spec: PolicySpec = EMPTY_POLICY;
  #version = 0;

  constructor(path: string) {
    this.path = resolve(path);
  }

  get spec(): PolicySpec {
    return this.#spec;
  }

  /** Increases each time the content changes. */
  get version(): number {
    return this.#version;
  }

  /** Loads the policy if it is new or changed. Returns true when the content changed. Throws PolicyError. */
  refresh(): boolean {
    if (this.#stamps.length > 0) {
      let same = true;
      try {
        same = this.#stamps.every((s) => {
          const now = stamp(s.path);
          return now.mtimeMs === s.mtimeMs && now.size === s.size && now.ino === s.ino;
        });
      } catch {
        same = false;
      }
      if (same) return false;
    }
    const files: Array<[string, string]> = [];
    const read = (path: string): string => {
      const text = readFileSync(path, 'utf8');
      files.push([path, text]);
      return text;
    };
    const stamps: Stamp[] = [];
    let text: string;
    try {
      stamps.push(stamp(this.path));
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new PolicyError(`cannot read policy ${this.path}: ${(err as Error).message}`);
    }
    const spec = parsePolicy(text, this.path, (p) => {
      stamps.push(stamp(p));
      return read(p);
    });
    const h = createHash('sha256').update(text);
    for (const [p, t] of files) h.update(`\0${p}\0${t}`);
    const digest = h.digest('hex');
    this.#stamps = stamps;
    if (digest === this.#hash) return false;
    this.#hash = digest;
    this.#spec = spec;
    this.#version++;
    return true;
  }
}
