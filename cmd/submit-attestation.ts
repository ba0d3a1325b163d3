/**
 * The `--attestation` path of `vitrine submit` (docs/signing.md, "In-toto
 * attestations"): reads a DSSE envelope and the PEM public keys that signed
 * it, builds the entry of kind dsse (docs/formats.md, kind dsse) and checks
 * it fully here, signatures included, so a bad envelope or a key that
 * signed nothing is refused before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { nodeP256 } from '../src/crypto/p256-node.js';
import { decodeAnyEntry, encodeEntryV2, verifyAnyEntry } from '../src/entry/index.js';
import { attestationEntry } from '../src/entry/kinds/dsse.js';
import { MAX_ENVELOPE_BYTES } from '../src/sig/dsse.js';
import { MAX_PEM_LENGTH } from '../src/sig/spki.js';
import { CliError, UsageError } from './common.js';

async function readBounded(path: string, max: number, what: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (data.length > max) throw new CliError(`${what} ${path} is ${data.length} bytes, larger than the limit of ${max}`);
  return data;
}

export interface AttestationOptions {
  readonly publicKeys: readonly string[];
  readonly name?: string;
  readonly subject?: string;
  readonly annotations?: Record<string, string>;
}

/** The canonical entry bytes for the envelope at `path`; throws a CliError or a typed error with the reason. */
export async function attestationSubmission(path: string, o: AttestationOptions): Promise<{ entry: Uint8Array; name: string; digest: Uint8Array }> {
  if (o.publicKeys.length === 0) throw new UsageError('--attestation needs --public-key (the PEM public key that signed the envelope; repeatable)');
  const envelope = await readBounded(path, MAX_ENVELOPE_BYTES, 'attestation');
  const pems = await Promise.all(o.publicKeys.map(async (k) => (await readBounded(k, MAX_PEM_LENGTH, 'public key')).toString('utf8')));
  const e = attestationEntry(new Uint8Array(envelope), pems, {
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.subject === undefined ? {} : { subject: o.subject }),
    ...(o.annotations === undefined || Object.keys(o.annotations).length === 0 ? {} : { annotations: o.annotations }),
  });
  const entry = encodeEntryV2(e);
  verifyAnyEntry(decodeAnyEntry(entry), { ed: nodeEd25519, p256: nodeP256 });
  return { entry, name: e.name, digest: e.digest };
}
