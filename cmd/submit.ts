/**
 * `vitrine submit`: sign (if needed) and submit an entry to a log, verify
 * the answer offline with the same code as `vitrine verify`, and only then
 * write ARTIFACT.tlog-proof.
 */
import { constants } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { b64encode, hexEncode } from '../src/encoding.js';
import { MAX_ENTRY_SIZE, decodeEntry, encodeEntry, entryLeafHash, signEntry } from '../src/entry/index.js';
import { digestFile, digestStream } from '../src/entry/digest.js';
import { submitEntry } from '../src/client/submit.js';
import { TYPE_ED25519 } from '../src/note/index.js';
import { readStdin, readVerifier } from './verify.js';
import { attestationSubmission } from './submit-attestation.js';
import { parseAnnotations, readSigner } from './sign.js';
import { nativeLeaf } from './submit-native.js';
import { CliError, collect, intOption, UsageError } from './common.js';
import { writeAll, type Io } from './io.js';

async function readSmallFile(path: string, max: number, what: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (data.length > max) throw new CliError(`${what} ${path} is larger than ${max} bytes`);
  return new Uint8Array(data);
}

/** Writes a file atomically (temp file + rename), refusing to replace one unless `force`. */
export async function writeNew(path: string, data: string | Uint8Array, force: boolean): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (force) {
      await rename(tmp, path);
      return;
    }
    // link() fails atomically with EEXIST if the file appeared meanwhile.
    try {
      await link(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${path} already exists; use --force to replace it`);
      throw err;
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

export function register(program: Command, io: Io): void {
  program
    .command('submit')
    .description('submit an entry to a log, verify the answer offline, and write the .tlog-proof bundle')
    .argument('[file]', 'an entry file (from `vitrine sign`), or with --key or --signature, the artifact (none with --attestation); - for stdin (an entry, or with --key the artifact), with -o')
    .addOption(new Option('--log <url>', 'the log URL').env('VITRINE_LOG').makeOptionMandatory())
    .addOption(new Option('--log-key <vkey>', "the log's verifier key, or a file holding it").env('VITRINE_LOG_KEY').makeOptionMandatory())
    .option('--key <file>', 'sign FILE (an artifact) with this skey first (default with --name: $VITRINE_KEY)')
    .option('--signature <file>', 'log FILE (an artifact) with this existing signature: ssh-keygen -Y sign, minisign -S, or ECDSA P-256 (openssl, cosign)')
    .option('--format <kind>', 'with --signature: ssh, minisign or ecdsa (default: detected from the files)')
    .option('--namespace <ns>', 'with an SSH --signature: the namespace it must have been made in (ssh-keygen -n)')
    .option('--name <name>', 'artifact name (with --key or --signature), e.g. pkg:npm/my-lib@1.2.3')
    .option('--annotate <k=v>', 'annotation (with --key, --signature or --attestation); repeatable', collect, [])
    .option('--attestation <envelope.json>', 'submit this DSSE envelope holding an in-toto Statement (entry kind dsse)')
    .option('--public-key <file>', "with --signature: the signer's public key (OpenSSH line, minisign .pub, PEM; required for minisign and ECDSA); with --attestation: a PEM public key (Ed25519 or ECDSA P-256) that signed it, repeatable", collect, [])
    .option('--subject <name|sha256>', 'with --attestation: the subject whose digest the entry carries (default: the first with a sha256)')
    .option('--witness <vkey>', 'require a cosignature from this witness; repeatable', collect, [])
    .option('--quorum <k>', 'how many of the witnesses must cosign', intOption('--quorum', 0, 64))
    .option('-o, --out <file>', 'where to write the bundle (default: ARTIFACT.tlog-proof; - for stdout, the report then on stderr)')
    .option('--force', 'replace an existing bundle file')
    .option('--json', 'print {index, fresh, leafHash, out} as one JSON object (docs/cli.md)')
    .option('--tries <n>', 'attempts when the log pushes back (503/429)', intOption('--tries', 1, 100), 5)
    .addHelpText(
      'after',
      `
Examples:
  # sign and submit in one step
  vitrine submit --log https://log.example.com --log-key "$LOG_VKEY" \\
      --key release.key --name pkg:npm/my-lib@1.2.3 my-lib-1.2.3.tgz
  # submit an entry signed earlier on an offline machine (vitrine sign)
  vitrine submit --log https://log.example.com --log-key "$LOG_VKEY" my-lib-1.2.3.tgz.entry
  # log a signature made by ssh-keygen -Y sign -n file (or minisign, openssl, cosign)
  vitrine submit --log https://log.example.com --log-key "$LOG_VKEY" \\
      --signature my-lib-1.2.3.tgz.sig --namespace file \\
      --name pkg:npm/my-lib@1.2.3 my-lib-1.2.3.tgz
  # log an in-toto attestation (DSSE envelope) with the key that signed it
  vitrine submit --log https://log.example.com --log-key "$LOG_VKEY" \\
      --attestation build.intoto.json --public-key builder.pub.pem

Before sending anything, the log's checkpoint must verify with --log-key.
Writes my-lib-1.2.3.tgz.tlog-proof (build.intoto.json.tlog-proof for an
attestation) only after the log's answer verified; if
the answer does not verify, the error says at which index the entry is logged.
--log, --log-key and --key default to $VITRINE_LOG, $VITRINE_LOG_KEY and
$VITRINE_KEY (the key only when --name is given).
Retries when the log answers 503 or 429, honouring Retry-After.
Logging ssh-keygen, minisign, openssl/cosign signatures and in-toto
attestations: docs/signing.md, "Logging existing signatures" and
"In-toto attestations".`,
    )
    .action(
      async (file: string | undefined, opts: {
        log: string; logKey: string; key?: string; signature?: string; format?: string; namespace?: string; name?: string; annotate: string[]; witness: string[];
        quorum?: number; out?: string; force?: boolean; tries: number; json?: boolean; attestation?: string; publicKey: string[]; subject?: string;
      }) => {
        const logKey = await readVerifier(opts.logKey, '--log-key');
        if (logKey.type !== TYPE_ED25519) throw new UsageError('--log-key: must be an Ed25519 (type 0x01) vkey, not a cosigner (type 0x04) key');
        const witnesses = await Promise.all(opts.witness.map((w) => readVerifier(w, '--witness', true)));
        // VITRINE_KEY signs only when asked to sign (--name): an entry file is never re-signed by accident.
        if (opts.key === undefined && opts.signature === undefined && opts.name !== undefined && io.env['VITRINE_KEY']) opts.key = io.env['VITRINE_KEY'];
        const quorum = opts.quorum ?? witnesses.length;
        if (quorum > witnesses.length) throw new UsageError(`--quorum ${quorum} is more than the ${witnesses.length} --witness keys given`);
        let entry: Uint8Array;
        let artifactPath: string;
        if (opts.signature === undefined && (opts.format !== undefined || opts.namespace !== undefined)) {
          throw new UsageError('--format and --namespace need --signature');
        }
        if (opts.attestation !== undefined) {
          if (file !== undefined || opts.key !== undefined || opts.signature !== undefined) throw new UsageError('--attestation takes no FILE, no --key and no --signature: the envelope is already signed');
          const a = await attestationSubmission(opts.attestation, {
            publicKeys: opts.publicKey, name: opts.name, subject: opts.subject, annotations: parseAnnotations(opts.annotate) as Record<string, string> | undefined,
          });
          entry = a.entry;
          artifactPath = opts.attestation;
          io.stderr.write(`vitrine: attestation for ${JSON.stringify(a.name)} (sha256 ${hexEncode(a.digest)})\n`);
        } else if (file === undefined) {
          throw new UsageError('missing FILE (an entry file, or with --key or --signature the artifact), or --attestation ENVELOPE');
        } else if (opts.signature !== undefined) {
          if (file === '-') throw new UsageError('--signature needs the artifact as a file, not stdin (-)');
          if (opts.key !== undefined) throw new UsageError('--signature and --key exclude each other (log an existing signature, or sign with a vitrine key)');
          if (opts.subject !== undefined) throw new UsageError('--subject goes with --attestation');
          if (opts.publicKey.length > 1) throw new UsageError('--signature takes one --public-key');
          entry = await nativeLeaf(file, { signature: opts.signature, publicKey: opts.publicKey[0], format: opts.format, namespace: opts.namespace, name: opts.name }, parseAnnotations(opts.annotate));
          artifactPath = file;
        } else if (opts.publicKey.length > 0 || opts.subject !== undefined) {
          throw new UsageError('--public-key goes with --signature or --attestation, --subject with --attestation');
        } else if (opts.key !== undefined) {
          if (opts.name === undefined) throw new UsageError('--name is required with --key');
          if (file === '-' && opts.out === undefined) throw new UsageError('with the artifact on stdin (-), give -o FILE or -o - for the bundle');
          const signer = await readSigner(opts.key);
          const digest = file === '-' ? await digestStream(io.stdin) : await digestFile(file);
          entry = encodeEntry(signEntry({ name: opts.name, digest, annotations: parseAnnotations(opts.annotate) }, signer.seed, nodeEd25519));
          artifactPath = file;
        } else {
          if (opts.name !== undefined || opts.annotate.length > 0) throw new UsageError('--name and --annotate need --key (to sign an artifact)');
          if (file === '-' && opts.out === undefined) throw new UsageError('with the entry on stdin (-), give -o FILE or -o - for the bundle');
          entry = file === '-' ? await readStdin(io.stdin, MAX_ENTRY_SIZE, undefined) : await readSmallFile(file, MAX_ENTRY_SIZE, 'entry file');
          if (entry.length > MAX_ENTRY_SIZE) throw new CliError(`the entry on stdin is larger than ${MAX_ENTRY_SIZE} bytes`);
          decodeEntry(entry);
          artifactPath = file.endsWith('.entry') ? file.slice(0, -'.entry'.length) : file;
        }
        const out = opts.out ?? `${artifactPath}.tlog-proof`;
        const result = await submitEntry(entry, {
          log: opts.log,
          policy: { logKey, witnesses, quorum },
          ed: nodeEd25519,
          client: {
            maxTries: opts.tries,
            onRetry: (status, wait, attempt) => io.stderr.write(`vitrine: the log answered ${status}; retrying in ${wait}s (attempt ${attempt + 1} of ${opts.tries})\n`),
          },
        });
        const leaf = b64encode(entryLeafHash(entry));
        // With -o -, stdout carries the bundle alone; the report goes to stderr.
        const report = out === '-' ? io.stderr : io.stdout;
        if (out === '-') await writeAll(io.stdout, result.bundle);
        else await writeNew(out, result.bundle, opts.force ?? false);
        if (opts.json) {
          report.write(`${JSON.stringify({ index: result.index, fresh: result.fresh, leafHash: leaf, out })}\n`);
          return;
        }
        report.write(`${result.fresh ? 'logged' : 'already logged'} at index ${result.index} (leaf ${leaf}); wrote ${out === '-' ? 'the bundle to stdout' : out}\n`);
      },
    );
}
