/**
 * `vitrine key info KEY`: a public key in every form it can be written in
 * (OpenSSH line, PEM, minisign, vkey: whichever apply) with its one name,
 * the fingerprint the CLI, the API, alerts and policies use for it
 * (docs/formats.md, "Signer keys"). KEY is a file or the key text itself.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { hexEncode } from '../src/encoding.js';
import { VitrineError } from '../src/errors.js';
import { keyForms, parseNativeKey, type NativeKey, type NativeKeyFormat } from '../src/sig/native-key.js';
import { p256SpkiForms } from '../src/sig/spki.js';
import { sha256 } from '../merkle/hash.js';
import type { Readable } from 'node:stream';
import { UsageError } from './common.js';
import type { Io } from './io.js';
import { readStdin } from './verify.js';

const MAX_KEY_FILE = 16 * 1024;

/** A public key given as text or as the path of a file holding it (or `-`, read from `stdin` when given); mistakes are usage errors (exit 2). */
export async function readNativeKey(value: string, flag: string, format?: NativeKeyFormat, stdin?: Readable): Promise<NativeKey> {
  let text = value;
  if (stdin !== undefined && value === '-') {
    const bytes = await readStdin(stdin, MAX_KEY_FILE, undefined);
    if (bytes.length > MAX_KEY_FILE) throw new UsageError(`${flag}: stdin holds more than ${MAX_KEY_FILE} bytes; not a public key`);
    text = new TextDecoder().decode(bytes);
  }
  try {
    const info = stdin !== undefined && value === '-' ? undefined : await stat(value);
    if (info?.isFile()) {
      if (info.size > MAX_KEY_FILE) throw new UsageError(`${flag}: file ${value} is larger than ${MAX_KEY_FILE} bytes; not a public key`);
      text = await readFile(value, 'utf8');
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Not a file: the value is the key itself.
  }
  if (/-----BEGIN (OPENSSH|EC|RSA|ENCRYPTED)? ?PRIVATE KEY-----|^-----BEGIN PRIVATE KEY-----/m.test(text) || /^untrusted comment: minisign encrypted secret key/m.test(text)) {
    throw new UsageError(`${flag}: ${value} holds a PRIVATE key; give the public key (.pub)`);
  }
  try {
    return parseNativeKey(text, flag, format);
  } catch (err) {
    throw new UsageError(err instanceof VitrineError ? err.message : String(err));
  }
}

/**
 * The key hash an entry carrying this key has, for each format an entry can
 * carry it in (docs/formats.md §4.4): the API's `keyHash`, lookups and
 * alerts name a signer by it, so any of them can be matched to the key.
 * `vitrine` is a version-1 entry's (the raw Ed25519 key); a P-256 PEM key
 * has two, one per DER spelling (§14).
 */
export function keyHashes(k: NativeKey, forms: ReturnType<typeof keyForms>): Record<string, string> {
  const out: Record<string, string> = {};
  if (k.algorithm === 'ed25519') out['vitrine'] = hexEncode(sha256(k.key));
  if (forms.ssh !== undefined) out['ssh'] = hexEncode(parseNativeKey(forms.ssh, 'key').keyHash);
  if (k.format === 'minisign') out['minisign'] = hexEncode(k.keyHash);
  if (k.algorithm === 'ecdsa-p256') {
    const both = p256SpkiForms(k.key);
    out['pem'] = hexEncode(sha256(both.uncompressed));
    out['pemCompressed'] = hexEncode(sha256(both.compressed));
  } else {
    out['pem'] = hexEncode(parseNativeKey(forms.pem, 'key').keyHash);
  }
  return out;
}

export function register(program: Command, io: Io): void {
  const key = program.command('key').description('inspect public keys: every form of a key and its fingerprint');
  key
    .command('info')
    .description('print a public key in every form it can be written in, with its fingerprint')
    .argument('<key>', 'an OpenSSH public key line, a minisign public key, a PEM "PUBLIC KEY" block or a vkey; a file, the text, or - for stdin')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  vitrine key info ~/.ssh/id_ed25519.pub
  vitrine key info minisign.pub
  vitrine key info cosign.pub
  vitrine key info "release.example.com+1a2b3c4d+AU…"

The fingerprint is the key's one name everywhere in Vitrine: SHA256:… for
SSH and PEM keys (as ssh-keygen -l prints it), the minisign key ID, and
name+keyID for vkeys.`,
    )
    .action(
      async (value: string, opts: { json?: boolean }) => {
        const k = await readNativeKey(value, 'key', undefined, io.stdin);
        const forms = keyForms(k);
        const hashes = keyHashes(k, forms);
        const info = { format: k.format, algorithm: k.algorithm, fingerprint: k.fingerprint, keyHash: hexEncode(k.keyHash), keyHashes: hashes, ...forms };
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(info)}\n`);
          return;
        }
        const lines = [
          `format:      ${k.format}`,
          `algorithm:   ${k.algorithm}`,
          `fingerprint: ${k.fingerprint}`,
          `key hash:    ${info.keyHash}`,
          ...Object.entries(hashes).map(([form, h]) => `key hash as ${form}: ${h}`),
        ];
        if (forms.vkey) lines.push(`vkey:        ${forms.vkey}`);
        if (forms.minisign) lines.push(`minisign:    ${forms.minisign}`);
        if (forms.ssh) lines.push(`ssh:         ${forms.ssh}`, `ssh fingerprint: ${forms.sshFingerprint}`);
        lines.push(`pem fingerprint: ${forms.pemFingerprint}`, forms.pem);
        io.stdout.write(`${lines.join('\n')}\n`);
      },
    );
}
