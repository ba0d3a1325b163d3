/**
 * The monitor's signer policy (docs/formats.md §11), a JSON file:
 *
 *     {"rules":   [{"names": ["pkg:npm/my-lib@*"], "signers": ["<vkey>"]}],
 *      "keys":    [{"signer": "<vkey>", "releases": "releases.txt"}],
 *      "revoked": ["<vkey>"]}
 *
 * - rules: an entry whose name matches a pattern of a rule (`*` any run,
 *   `?` one character, whole-name match) but whose key is none of that
 *   rule's signers raises `unexpected-signer`;
 * - keys: an entry by that signer whose (name, digest) is not a line
 *   `<name> <sha256 hex>` of the releases file (relative to the policy
 *   file; blank lines and `#` comments ignored) raises `unexpected-entry`.
 *   A signer listed in several items may log what any of their files lists;
 * - revoked: every entry by a revoked key raises `revoked-key`.
 *
 * Parsing is strict and fails closed: unknown fields, a malformed vkey, a
 * missing or malformed releases file all throw PolicyError, which stops the
 * monitor. `PolicyFile` re-reads the policy and every releases file when
 * their content changes (checked at each poll). The compiled form is plain
 * data (`PolicySpec`) so it can be sent to the audit worker threads.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { VitrineError } from '../errors.js';
import { parseVerifier, TYPE_ED25519 } from '../note/index.js';

export class PolicyError extends VitrineError {
  constructor(message: string) {
    super('bad-policy', message);
  }
}

/** A compiled policy: plain data, structured-clone safe. Keys are lowercase hex of the 32-byte public key. */
export interface PolicySpec {
  readonly rules: ReadonlyArray<{ readonly patterns: readonly string[]; readonly signers: readonly string[] }>;
  /** Signer key → its releases files, each a list of "name\ndigest" lines allowed. */
  readonly keys: ReadonlyArray<{ readonly signer: string; readonly file: string; readonly releases: readonly string[] }>;
  readonly revoked: readonly string[];
  /** Signer key → the vkey name the policy gives it, for messages. */
  readonly names: Readonly<Record<string, string>>;
}

export const EMPTY_POLICY: PolicySpec = { rules: [], keys: [], revoked: [], names: {} };

/** One policy violation by one entry. */
export interface PolicyFinding {
  readonly kind: 'unexpected-signer' | 'unexpected-entry' | 'revoked-key';
  readonly message: string;
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

function signerKey(value: unknown, where: string, names: Record<string, string>): string {
  if (typeof value !== 'string') throw new PolicyError(`${where}: must be a signer vkey string`);
  let v;
  try {
    v = parseVerifier(value);
  } catch (err) {
    throw new PolicyError(`${where}: malformed vkey: ${(err as Error).message}`);
  }
  if (v.type !== TYPE_ED25519) throw new PolicyError(`${where}: must be an Ed25519 (type 0x01) signer vkey`);
  const key = hex(v.publicKey);
  names[key] ??= v.name;
  return key;
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

/** Parses policy JSON text. `readRelease(path)` returns a releases file's text (paths are already resolved). */
export function parsePolicy(text: string, policyPath: string, readRelease: (path: string) => string): PolicySpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`policy ${policyPath}: not valid JSON: ${(err as Error).message}`);
  }
  const top = object(value, `policy ${policyPath}`);
  onlyFields(top, ['rules', 'keys', 'revoked'], `policy ${policyPath}`);
  const names: Record<string, string> = {};
  const rules = array(top['rules'] ?? [], 'policy rules', false).map((r, i) => {
    const where = `policy rules[${i}]`;
    const rule = object(r, where);
    onlyFields(rule, ['names', 'signers'], where);
    const patterns = array(rule['names'], `${where}.names`, true).map((p, j) => {
      if (typeof p !== 'string' || p.length === 0) throw new PolicyError(`${where}.names[${j}]: must be a non-empty string`);
      return globToRegExp(p).source;
    });
    const signers = array(rule['signers'], `${where}.signers`, true).map((s, j) => signerKey(s, `${where}.signers[${j}]`, names));
    return { patterns, signers };
  });
  const base = dirname(resolve(policyPath));
  const keys = array(top['keys'] ?? [], 'policy keys', false).map((k, i) => {
    const where = `policy keys[${i}]`;
    const item = object(k, where);
    onlyFields(item, ['signer', 'releases'], where);
    const signer = signerKey(item['signer'], `${where}.signer`, names);
    const rel = item['releases'];
    if (typeof rel !== 'string' || rel.length === 0) throw new PolicyError(`${where}.releases: must be a file path`);
    const file = resolve(base, rel);
    let body: string;
    try {
      body = readRelease(file);
    } catch (err) {
      throw new PolicyError(`${where}.releases: cannot read ${file}: ${(err as Error).message}`);
    }
    return { signer, file, releases: parseReleases(body, file) };
  });
  const revoked = array(top['revoked'] ?? [], 'policy revoked', false).map((s, i) => signerKey(s, `policy revoked[${i}]`, names));
  return { rules, keys, revoked, names };
}

/** A policy ready to check entries. */
export class CompiledPolicy {
  readonly #rules: Array<{ patterns: RegExp[]; signers: Set<string> }>;
  readonly #keys = new Map<string, { files: string[]; releases: Set<string> }>();
  readonly #revoked: Set<string>;
  readonly #names: Readonly<Record<string, string>>;
  readonly empty: boolean;

  constructor(spec: PolicySpec) {
    this.#rules = spec.rules.map((r) => ({ patterns: r.patterns.map((p) => new RegExp(p, 'su')), signers: new Set(r.signers) }));
    for (const k of spec.keys) {
      let e = this.#keys.get(k.signer);
      if (e === undefined) this.#keys.set(k.signer, (e = { files: [], releases: new Set() }));
      e.files.push(k.file);
      for (const r of k.releases) e.releases.add(r);
    }
    this.#revoked = new Set(spec.revoked);
    this.#names = spec.names;
    this.empty = spec.rules.length === 0 && spec.keys.length === 0 && spec.revoked.length === 0;
  }

  #who(key: string): string {
    const name = this.#names[key];
    return name === undefined ? `key ${key.slice(0, 16)}…` : `${name} (key ${key.slice(0, 16)}…)`;
  }

  /** The violations of one valid, correctly signed entry. `key` and `digest` are lowercase hex. */
  check(index: number, name: string, digest: string, key: string): PolicyFinding[] {
    if (this.empty) return [];
    const out: PolicyFinding[] = [];
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i]!;
      if (rule.signers.has(key)) continue;
      if (rule.patterns.some((p) => p.test(name))) {
        out.push({
          kind: 'unexpected-signer',
          message: `Entry ${index} is ${JSON.stringify(name)}, a name policy rule ${i + 1} allows only for other signers, signed by ${this.#who(key)}.`,
        });
        break;
      }
    }
    const k = this.#keys.get(key);
    if (k !== undefined && !k.releases.has(`${name}\n${digest}`)) {
      out.push({
        kind: 'unexpected-entry',
        message: `Entry ${index} is ${JSON.stringify(name)} with digest ${digest}, signed by ${this.#who(key)}, but that release is not listed in ${k.files.join(' or ')}.`,
      });
    }
    if (this.#revoked.has(key)) {
      out.push({ kind: 'revoked-key', message: `Entry ${index} (${JSON.stringify(name)}) is signed by revoked ${this.#who(key)}.` });
    }
    return out;
  }
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
