/**
 * Signer keys on the command line, and the one name each signer is shown
 * by (docs/formats.md §4.4, docs/cli.md "One name per key").
 *
 * `--signer KEY` means the same in `verify`, `get` and `search`: only
 * entries signed by one of these keys are accepted, and the keys given are
 * known by name. A version-1 entry carries its signer's raw Ed25519 key and
 * no name, so its signer can be called `name+keyID` (as in its vkey) only
 * when the command was given that vkey; otherwise it is shown by its key
 * hash, the API's `keyHash`. Keys in other formats are always named by
 * their native fingerprint, which the entry itself determines.
 * `vitrine key info VKEY` prints both forms, so any message can be matched.
 */
import { hexEncode } from '../src/encoding.js';
import { keyHash, type Signer } from '../src/entry/index.js';
import { formatKeyId, type Verifier } from '../src/note/index.js';
import type { NativeKey } from '../src/sig/native-key.js';
import { p256SpkiForms } from '../src/sig/spki.js';
import { sha256 } from '../merkle/hash.js';
import { readNativeKey } from './key.js';
import { UsageError } from './common.js';
import { readVerifier } from './verify.js';

/** The --signer keys of a command: vkeys, and keys in their native formats (SSH, minisign, PEM). */
export interface SignerPins {
  signers: Verifier[];
  signerKeys: NativeKey[];
}

/** One --signer: a vkey, or a public key in a native format; text or file. */
export async function readSignerPin(value: string, flag = '--signer'): Promise<Verifier | NativeKey> {
  try {
    return await readVerifier(value, flag);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    try {
      return await readNativeKey(value, flag);
    } catch {
      throw new UsageError(`${flag}: ${JSON.stringify(value.slice(0, 100))} is neither a valid vkey nor a public key (OpenSSH line, minisign, PEM), as text or in a file`);
    }
  }
}

/** Every --signer of a command, sorted into vkeys and native keys. */
export async function readSignerPins(values: readonly string[], flag = '--signer'): Promise<SignerPins> {
  const pins = await Promise.all(values.map((v) => readSignerPin(v, flag)));
  return {
    signers: pins.filter((p): p is Verifier => !('format' in p)),
    signerKeys: pins.filter((p): p is NativeKey => 'format' in p).flatMap(bothSpellings),
  };
}

/**
 * Entries are pinned by key hash, SHA-256 of the key's DER as submitted; a
 * P-256 PEM key has two DER spellings (docs/formats.md §14), and an entry
 * may carry either, so the pin holds both.
 */
function bothSpellings(k: NativeKey): NativeKey[] {
  if (k.format !== 'pem' || k.algorithm !== 'ecdsa-p256') return [k];
  const forms = p256SpkiForms(k.key);
  return [forms.uncompressed, forms.compressed].map((der) => ({ ...k, keyHash: sha256(der) }));
}

/**
 * The namer of signers for one command: a version-1 signer whose vkey is
 * among `known` is `name+keyID`; every other signer is its fingerprint.
 */
export function signerNamer(known: readonly Verifier[]): (s: Signer) => string {
  const names = new Map(known.map((v) => [keyHash(v.publicKey), `${v.name}+${formatKeyId(v.keyId)}`]));
  return (s) => (s.format === 'vitrine' ? names.get(hexEncode(s.keyHash)) : undefined) ?? s.fingerprint;
}
