/**
 * `vitrine verify-evidence`: checks a split-view evidence document
 * (docs/formats.md §9) with the log's verifier key alone, offline. Exit 0 when
 * the document proves that the log signed two trees where one is not a
 * prefix of the other; 1 when it proves nothing (or cannot be read); 2 on a
 * usage error.
 */
import type { Command } from 'commander';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { evidenceTypeOf, MAX_EVIDENCE_BYTES, ROLLBACK_TYPE, verifyEvidence, verifyRollbackEvidence } from '../src/proof/index.js';
import { CliError, EXIT_FAIL, UsageError } from './common.js';
import type { Io } from './io.js';
import { ioFailure, printJson, readBounded, readStdin, readVerifier } from './verify.js';
import { TYPE_ED25519, type Verifier } from '../src/note/index.js';

interface VerifyEvidenceOptions {
  logKey: string;
  json?: boolean;
}

export function register(program: Command, io: Io): void {
  program
    .command('verify-evidence')
    .description("Check whether a split-view or rollback evidence document proves that a log misbehaved, with the log's key alone.")
    .argument('<file>', 'the evidence document (JSON: docs/formats.md §9 split view, or vitrine-rollback/v1); "-" reads stdin')
    .requiredOption('--log-key <vkey>', "the log's verifier key, or a file holding it")
    .option('--json', 'print the result as one JSON object on stdout')
    .addHelpText(
      'after',
      `
Examples:
  # a document a monitor raised (alerts.jsonl "split-view" alert, or GET /v1/evidence)
  $ vitrine verify-evidence --log-key log.vkey evidence.json

  $ curl -s https://monitor.example.com/v1/evidence | jq '.[0]' | vitrine verify-evidence --log-key log.vkey --json -

A split-view document proves misbehaviour when both checkpoints carry valid
signatures of the log key and either have the same size but different roots,
or the larger tree's own hashes show it does not extend the smaller one. The
"observed" field is unauthenticated and ignored.

A rollback document (a monitor's "rollback" alert) holds two checkpoints
signed by the log key, the larger first: the log committed to the larger
tree, and was observed serving the smaller one afterwards ("observed", which
no signature can prove: check the log's /checkpoint).

Exit status: 0 it proves misbehaviour; 1 it does not (the reason is on
stderr) or the file cannot be read; 2 usage error.`,
    )
    .action((file: string, opts: VerifyEvidenceOptions) => verifyEvidenceCommand(file, opts, io));
}

async function verifyEvidenceCommand(file: string, opts: VerifyEvidenceOptions, io: Io): Promise<void> {
  const logKey = await readVerifier(opts.logKey, '--log-key');
  if (logKey.type !== TYPE_ED25519) throw new UsageError('--log-key: must be an Ed25519 (type 0x01) vkey, not a cosigner (type 0x04) key');
  const json = opts.json === true;
  const bytes = file === '-' ? await readStdin(io.stdin, MAX_EVIDENCE_BYTES, json ? io.stdout : undefined) : await readBounded(file, MAX_EVIDENCE_BYTES, 'evidence file', json ? io.stdout : undefined);
  if (evidenceTypeOf(bytes) === ROLLBACK_TYPE) return rollback(file, bytes, logKey, json, io);
  const result = verifyEvidence(bytes, logKey, nodeEd25519);
  if (!result.ok) {
    if (json) printJson(io.stdout, { ok: false, message: result.message });
    throw new CliError(`${file === '-' ? 'the document' : file} does not prove misbehaviour: ${result.message}`, EXIT_FAIL);
  }
  const [m, n] = result.sizes;
  if (json) {
    printJson(io.stdout, { ok: true, kind: result.kind, origin: result.origin, sizes: [m.toString(), n.toString()] });
    return;
  }
  const what =
    result.kind === 'same-size'
      ? `signed two different trees of the same size ${m}`
      : `signed a tree of size ${n} that does not extend its tree of size ${m}`;
  io.stdout.write(`proves misbehaviour: the log ${result.origin} ${what} (split view, ${result.kind})\n`);
}

/** A rollback document (src/proof/rollback.ts): what the signatures prove, and what rests on the observer's word. */
function rollback(file: string, bytes: Uint8Array, logKey: Verifier, json: boolean, io: Io): void {
  const result = verifyRollbackEvidence(bytes, logKey, nodeEd25519);
  if (!result.ok) {
    if (json) printJson(io.stdout, { ok: false, message: result.message });
    throw new CliError(`${file === '-' ? 'the document' : file} does not prove misbehaviour: ${result.message}`, EXIT_FAIL);
  }
  const [n, m] = result.sizes;
  const seen = result.observed.map((o) => `${o.from} at ${o.at}`).join('; ');
  if (json) {
    printJson(io.stdout, { ok: true, kind: 'rollback', origin: result.origin, sizes: [n.toString(), m.toString()], observed: result.observed });
    return;
  }
  io.stdout.write(
    `proves misbehaviour: the log ${result.origin} signed a tree of size ${n}, so it must never serve less, ` +
      `and it signed a tree of size ${m} that it was observed serving as its newest afterwards (rollback` +
      `${seen === '' ? '' : `; observed: ${seen}`}). The order rests on the observation: check the log's /checkpoint, which must not be smaller than ${n}.\n`,
  );
}
