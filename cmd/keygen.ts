/**
 * `vitrine keygen`: creates an Ed25519 signed-note key pair
 * (c2sp.org/signed-note; docs/formats.md §2). The private key is written in the
 * skey format of Go's golang.org/x/mod/sumdb/note, with mode 0600, to a file
 * that must not exist yet; the verifier key (vkey) goes to stdout. With
 * `--cosigner` the vkey is the type-0x04 form used by witnesses
 * (c2sp.org/tlog-cosignature). The secret is never printed.
 */
import { open, unlink } from 'node:fs/promises';
import type { Command } from 'commander';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { VitrineError } from '../src/errors.js';
import { checkKeyName, cosignerVerifier, formatKeyId, formatSigner, formatVerifier, generateSigner, verifierFromSigner } from '../src/note/index.js';
import { CliError, EXIT_FAIL, UsageError } from './common.js';
import type { Io } from './io.js';

interface KeygenOptions {
  name: string;
  out: string;
  cosigner?: boolean;
  json?: boolean;
}

export function register(program: Command, io: Io): void {
  program
    .command('keygen')
    .description('Create a signing key: write the private key (skey) to --out with mode 0600 and print the verifier key (vkey).')
    .requiredOption('--name <name>', 'key name: a schema-less URL such as log.example.com/vitrine (no spaces, no "+"); a log key is named after its origin')
    .requiredOption('--out <file>', 'where to write the private key; the file must not exist')
    .option('--cosigner', 'print the witness/cosigner vkey (signature type 0x04, c2sp.org/tlog-cosignature) instead of the Ed25519 one')
    .option('--json', 'print {"name", "keyId", "vkey", "type", "out"} instead of the bare vkey (docs/cli.md)')
    .addHelpText(
      'after',
      `
Examples:
  # a log key; its name must equal the log's origin
  $ vitrine keygen --name log.example.com/vitrine --out log.key > log.vkey

  # a witness or monitor key; prints the type-0x04 vkey to give to logs
  $ vitrine keygen --name witness.example.com/w1 --out witness.key --cosigner

The private key file holds one line, PRIVATE+KEY+<name>+<key ID>+<base64>,
the format of Go's golang.org/x/mod/sumdb/note. Keep it secret. An existing
file is never overwritten.`,
    )
    .action((opts: KeygenOptions) => keygen(opts, io));
}

async function keygen(opts: KeygenOptions, io: Io): Promise<void> {
  try {
    checkKeyName(opts.name, '--name');
  } catch (err) {
    if (err instanceof VitrineError) throw new UsageError(err.message);
    throw err;
  }
  if (opts.out.length === 0) throw new UsageError('--out: must not be empty');
  // Elsewhere "-" is stdout; a private key never goes there (stdout is the vkey's, and often a log).
  if (opts.out === '-') throw new UsageError('--out: a private key is written to a file (mode 0600), never to stdout; name a file');

  const signer = generateSigner(opts.name, nodeEd25519);
  let handle;
  try {
    // 'wx' creates exclusively: an existing key is never replaced, even in a race.
    handle = await open(opts.out, 'wx', 0o600);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EEXIST') {
      throw new CliError(`${opts.out} already exists; refusing to overwrite a key file (choose another --out)`, EXIT_FAIL);
    }
    throw err;
  }
  try {
    // The umask may have cleared bits but never adds any; make the mode exact.
    await handle.chmod(0o600);
    await handle.writeFile(`${formatSigner(signer)}\n`);
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(opts.out).catch(() => undefined);
    throw err;
  }
  const verifier = opts.cosigner ? cosignerVerifier(signer) : verifierFromSigner(signer);
  const vkey = formatVerifier(verifier);
  if (opts.json) {
    const out = { name: verifier.name, keyId: formatKeyId(verifier.keyId), vkey, type: opts.cosigner ? 'cosignature' : 'ed25519', out: opts.out };
    io.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    io.stdout.write(`${vkey}\n`);
  }
  io.stderr.write(`vitrine: wrote the private key to ${opts.out} (mode 0600); the verifier key is on stdout\n`);
}
