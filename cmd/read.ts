/**
 * `vitrine log`, `vitrine get`, `vitrine search` and `vitrine proof`: read a
 * log from the command line (issue 14 §2). Nothing is shown that was not
 * checked first: the checkpoint must verify with the pinned --log-key, and
 * every entry is proved included in it and verified offline, as `vitrine
 * verify` would (src/client/read.ts). Encodings are the API's (docs/api.md):
 * hashes and keys in base64, digests and key hashes in hex. --json prints
 * the schema of docs/cli.md.
 */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { b64encode, hexEncode } from '../src/encoding.js';
import { decodeAnyEntry, entryDigest, entryLeafHash, keyHash, type Signer } from '../src/entry/index.js';
import { digestFile, digestStream } from '../src/entry/digest.js';
import { LogClient } from '../src/client/log-client.js';
import { proveEntry, searchEntries, verifiedCheckpoint, verifiedEntry, type SearchField, type SearchPage, type VerifiedCheckpoint, type VerifiedEntry } from '../src/client/read.js';
import { p256SpkiForms } from '../src/sig/spki.js';
import { sha256 } from '../merkle/hash.js';
import { formatKeyId, TYPE_ED25519, verifyCosignatures, type Cosignature, type Verifier } from '../src/note/index.js';
import { readVerifier } from './verify.js';
import { CliError, collect, intOption, UsageError } from './common.js';
import { writeAll, type Io } from './io.js';
import { readSignerPin, readSignerPins, signerNamer } from './signers.js';

interface LogOptions {
  log: string;
  logKey: string;
  json?: boolean;
}

function logOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--log <url>', 'the log URL').env('VITRINE_LOG').makeOptionMandatory())
    .addOption(new Option('--log-key <vkey>', "the log's verifier key, or a file holding it").env('VITRINE_LOG_KEY').makeOptionMandatory())
    .option('--json', 'print one JSON document (docs/cli.md) instead of text');
}

async function open_(o: LogOptions): Promise<{ client: LogClient; logKey: Verifier; cp: VerifiedCheckpoint }> {
  const logKey = await readVerifier(o.logKey, '--log-key');
  if (logKey.type !== TYPE_ED25519) throw new UsageError('--log-key: must be an Ed25519 (type 0x01) vkey, not a cosigner (type 0x04) key');
  let client: LogClient;
  try {
    client = new LogClient(o.log);
  } catch (err) {
    throw new UsageError(`--log: ${(err as Error).message}`);
  }
  return { client, logKey, cp: await verifiedCheckpoint(client, logKey, nodeEd25519) };
}

/** The checkpoint's identity in JSON output. */
function checkpointJson(cp: VerifiedCheckpoint): { origin: string; size: number; rootHash: string } {
  return { origin: cp.origin, size: Number(cp.size), rootHash: b64encode(cp.rootHash) };
}

/** One name per key (cmd/signers.ts): how this command names an entry's signers. */
type Namer = (s: Signer) => string;

function entryJson(e: VerifiedEntry, signerName: Namer): Record<string, unknown> {
  return { ...e.view, signers: e.verified.signers.map(signerName) };
}

function entryText(e: VerifiedEntry, signerName: Namer): string {
  const v = e.view;
  const lines = [
    `index ${v.index}`,
    `name ${String(v['name'])}`,
    `digest ${hexEncode(entryDigest(decodeAnyEntry(e.bytes)))}`,
    ...e.verified.signers.map((s) => `signer ${signerName(s)}`),
    `leafHash ${b64encode(entryLeafHash(e.bytes))}`,
  ];
  const ann = v['annotations'];
  if (ann && typeof ann === 'object') for (const [k, val] of Object.entries(ann)) lines.push(`annotation ${k}=${String(val)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * One page of the union of several lookups, in index order: each lookup
 * returns its first `limit` entries after the same index, so the first
 * `limit` of their union are the union's first `limit`.
 */
async function searchAll(lookups: Array<() => Promise<SearchPage>>, limit: number): Promise<SearchPage> {
  const pages = await Promise.all(lookups.map((l) => l()));
  if (pages.length === 1) return pages[0]!;
  const byIndex = new Map(pages.flatMap((p) => p.entries).map((e) => [e.view.index, e]));
  const all = [...byIndex.values()].sort((a, b) => a.view.index - b.view.index);
  const entries = all.slice(0, limit);
  const nexts = pages.map((p) => p.next).filter((n): n is number => n !== null);
  const more = all.length > limit || nexts.length > 0;
  return { entries, next: !more ? null : entries.length > 0 ? entries[entries.length - 1]!.view.index : Math.min(...nexts) };
}

const SIGNER_HELP = 'accept only entries signed by this key, as in vitrine verify: a vkey (a version-1 signer is then named name+keyID), an OpenSSH, minisign or PEM public key; text or file (repeatable)';

function print(out: Writable, json: boolean | undefined, doc: unknown, text: string): void {
  out.write(json ? `${JSON.stringify(doc)}\n` : text);
}

export function register(program: Command, io: Io): void {
  logOptions(
    program
      .command('log')
      .description("show the log's checkpoint (size, root hash, cosignatures) after verifying it with --log-key, and the cosignatures of the --witness-key witnesses")
      .option('--witness-key <vkey>', 'a witness verifier key (type 0x04 or 0x01), or a file holding it: its cosignature on the checkpoint is verified (repeatable)', collect, [])
      .option('--quorum <k>', 'how many of the --witness-key witnesses must have cosigned (default: all of them)', intOption('--quorum', 0))
      .addHelpText(
        'after',
        '\nExamples:\n  vitrine log --log https://log.example.com/vitrine --log-key log.vkey --json\n  vitrine log --log-key log.vkey --witness-key w1.vkey --witness-key w2.vkey --quorum 1\n\n' +
          'With --witness-key, fewer valid cosignatures than the quorum fail (exit 1).',
      ),
  ).action(
    async (o: LogOptions & { witnessKey: string[]; quorum?: number }) => {
      const witnesses = await Promise.all(o.witnessKey.map((w) => readVerifier(w, '--witness-key', true)));
      const quorum = o.quorum ?? witnesses.length;
      if (quorum > witnesses.length) throw new UsageError(`--quorum: ${quorum} can never be met with ${witnesses.length} --witness-key key(s)`);
      const { cp } = await open_(o);
      let cosigs: Cosignature[];
      try {
        // A line of a given witness that fails to verify rejects the checkpoint, as c2sp.org/signed-note asks.
        cosigs = verifyCosignatures(cp.served, witnesses, nodeEd25519);
      } catch (err) {
        throw new CliError(`the checkpoint's cosignature by a --witness-key witness does not verify: ${(err as Error).message}`);
      }
      const oneName = (name: string, keyId: number) => `${name}+${formatKeyId(keyId)}`;
      const checked = new Set(witnesses.map((w) => oneName(w.name, w.keyId)));
      const cosigned = cp.note.unverified.map((sig) => ({ name: sig.name, keyId: formatKeyId(sig.keyId), verified: cosigs.some((c) => c.witness.name === sig.name && c.witness.keyId === sig.keyId) }));
      const report = witnesses.map((w) => {
        const c = cosigs.find((x) => x.witness.name === w.name && x.witness.keyId === w.keyId);
        return { witness: oneName(w.name, w.keyId), cosigned: c !== undefined, timestamp: c === undefined ? null : Number(c.timestamp) };
      });
      const met = report.filter((r) => r.cosigned).length;
      const doc: Record<string, unknown> = { ...checkpointJson(cp), checkpoint: cp.served, cosignatures: cosigned };
      if (witnesses.length > 0) Object.assign(doc, { witnesses: report, quorum, quorumMet: met >= quorum });
      print(io.stdout, o.json, doc, [
        `origin ${cp.origin}`,
        `size ${cp.size}`,
        `rootHash ${b64encode(cp.rootHash)}`,
        `verified with ${cp.origin}+${formatKeyId(cp.note.signatures[0]!.keyId)}`,
        ...report.map((r) => (r.cosigned ? `cosigned by ${r.witness} at ${new Date(r.timestamp! * 1000).toISOString()} (verified)` : `NOT cosigned by ${r.witness}`)),
        ...cosigned.filter((c) => !checked.has(`${c.name}+${c.keyId}`)).map((c) => `cosigned by ${c.name}+${c.keyId} (not checked: give its key with --witness-key)`),
        ...(witnesses.length > 0 ? [`witnesses: ${met} of ${witnesses.length} cosigned, quorum ${quorum}${met >= quorum ? '' : ' NOT met'}`] : []),
      ].join('\n') + '\n');
      if (met < quorum) {
        const missing = report.filter((r) => !r.cosigned).map((r) => r.witness);
        throw new CliError(`the checkpoint has ${met} valid cosignature(s) from the --witness-key witnesses, fewer than the quorum of ${quorum}; not cosigned by ${missing.join(', ')}`);
      }
    },
  );

  logOptions(
    program
      .command('get')
      .description('get one entry, proved included in the checkpoint signed by --log-key')
      .argument('<index>', 'the entry index')
      .option('--signer <key>', SIGNER_HELP, collect, [])
      .addHelpText('after', '\nExamples:\n  vitrine get 42 --log https://log.example.com/vitrine --log-key log.vkey\n  vitrine get 42 --signer release.vkey --json     # fails unless release.vkey signed it; names it name+keyID'),
  ).action(
    async (indexText: string, o: LogOptions & { signer: string[] }) => {
      const index = intOption('INDEX', 0)(indexText);
      const pins = await readSignerPins(o.signer);
      const { client, logKey, cp } = await open_(o);
      if (BigInt(index) >= cp.size) throw new CliError(`no entry ${index} in the checkpoint of size ${cp.size}`);
      const e = await verifiedEntry(client, cp, logKey, index, nodeEd25519, pins);
      const name = signerNamer(pins.signers);
      print(io.stdout, o.json, { checkpoint: checkpointJson(cp), entry: entryJson(e, name) }, entryText(e, name) + `verified in the checkpoint of size ${cp.size}\n`);
    },
  );

  logOptions(
    program
      .command('search')
      .description('find entries by name, artifact digest or signer key; each is proved included before it is shown')
      .option('--name <name>', 'the exact artifact name')
      .option('--digest <hex>', "the artifact's SHA-256, 64 hex digits")
      .option('--key <key|hash>', "the signer: a vkey, or an OpenSSH, minisign or PEM public key (text or file), or its key hash (64 hex digits, the API's keyHash)")
      .option('--after <index>', 'only entries after this index (the `next` of the previous page)', intOption('--after', 0))
      .option('--limit <n>', 'entries per page (1-1000)', intOption('--limit', 1, 1000), 100)
      .option('--signer <key>', `${SIGNER_HELP}; an entry found that none of them signed fails the command`, collect, [])
      .addHelpText('after', '\nExamples:\n  vitrine search --name pkg:npm/my-lib@1.2.3\n  vitrine search --key release.vkey --limit 10 --after 41 --json\n  vitrine search --name pkg:npm/my-lib@1.2.3 --signer release.vkey   # every release of it signed by that key'),
  ).action(
    async (o: LogOptions & { name?: string; digest?: string; key?: string; after?: number; limit: number; signer: string[] }) => {
      const given = (['name', 'digest', 'key'] as const).filter((f) => o[f] !== undefined);
      if (given.length !== 1) throw new UsageError('give exactly one of --name, --digest or --key');
      const field: SearchField = given[0]!;
      let value = o[field]!;
      const pins = await readSignerPins(o.signer);
      // The vkeys this command knows: a version-1 signer among them is named name+keyID.
      const known = [...pins.signers];
      if (field === 'digest' && !/^[0-9a-f]{64}$/.test(value)) throw new UsageError('--digest: must be 64 lowercase hex digits (SHA-256)');
      // Usually one key hash; a P-256 PEM key has two (compressed and uncompressed DER), both looked up.
      let values = [value];
      if (field === 'key' && !/^[0-9a-f]{64}$/.test(value)) {
        // Any signer key format: the log indexes each by its key hash (docs/formats.md §4.4).
        const k = await readSignerPin(value, '--key');
        if ('format' in k) {
          value = hexEncode(k.keyHash);
          values = [value];
          if (k.format === 'pem' && k.algorithm === 'ecdsa-p256') {
            const forms = p256SpkiForms(k.key);
            values = [forms.uncompressed, forms.compressed].map((der) => hexEncode(sha256(der)));
          }
        } else {
          if (k.type !== TYPE_ED25519 || k.publicKey.length !== 32) throw new UsageError('--key: must be a signer key (a vkey, or an OpenSSH, minisign or PEM public key), or a key hash');
          value = keyHash(k.publicKey);
          values = [value];
          known.push(k);
        }
      }
      const { client, logKey, cp } = await open_(o);
      const page = await searchAll(values.map((v) => () => searchEntries(client, cp, logKey, { field, value: v, after: o.after, limit: o.limit }, nodeEd25519, pins)), o.limit);
      const signerName = signerNamer(known);
      const text =
        page.entries.map((e) => `${e.view.index} ${String(e.view['name'])} ${hexEncode(entryDigest(decodeAnyEntry(e.bytes)))} ${e.verified.signers.map(signerName).join(',')}\n`).join('') +
        (page.next === null ? '' : `more: --after ${page.next}\n`);
      print(io.stdout, o.json, { checkpoint: checkpointJson(cp), entries: page.entries.map((e) => entryJson(e, signerName)), next: page.next }, text);
    },
  );

  logOptions(
    program
      .command('proof')
      .description('write the .tlog-proof of an entry that is already logged (never submits anything)')
      .argument('<file>', 'the artifact (or - for stdin), or an entry file ending in .entry')
      .option('-o, --out <file>', 'where to write the bundle (default: ARTIFACT.tlog-proof; - for stdout)')
      .option('--name <name>', 'with an artifact logged under several names, the one to prove')
      .option('--force', 'overwrite the output file if it exists')
      .addHelpText('after', '\nExamples:\n  vitrine proof my-lib-1.2.3.tgz --log https://log.example.com/vitrine --log-key log.vkey\n  cat my-lib-1.2.3.tgz | vitrine proof - -o - > my-lib-1.2.3.tgz.tlog-proof'),
  ).action(
    async (file: string, o: LogOptions & { out?: string; name?: string; force?: boolean }) => {
      const isEntry = file.endsWith('.entry');
      const out = o.out ?? (file === '-' ? '-' : `${isEntry ? file.slice(0, -'.entry'.length) : file}.tlog-proof`);
      const { client, logKey, cp } = await open_(o);
      let bytes: Uint8Array;
      let index: number | undefined;
      if (isEntry) {
        bytes = new Uint8Array(await readFile(file));
      } else {
        const digest = hexEncode(file === '-' ? await digestStream(io.stdin) : await digestFile(file));
        const found = [];
        let after: number | undefined;
        for (;;) {
          const page = await searchEntries(client, cp, logKey, { field: 'digest', value: digest, after, limit: 1000 }, nodeEd25519);
          found.push(...page.entries.filter((e) => o.name === undefined || e.view['name'] === o.name));
          if (page.next === null) break;
          after = page.next;
        }
        if (found.length === 0) throw new CliError(`no entry for this artifact (sha256 ${digest}${o.name === undefined ? '' : `, name ${o.name}`}) in the checkpoint of size ${cp.size}`);
        const names = new Set(found.map((e) => e.view['name']));
        if (names.size > 1) throw new UsageError(`the artifact is logged under several names (${[...names].map((n) => JSON.stringify(n)).join(', ')}): give --name`);
        bytes = found[0]!.bytes;
        index = found[0]!.view.index;
      }
      const { bundle, verified } = await proveEntry(client, cp, logKey, bytes, nodeEd25519, index);
      if (out === '-') {
        await writeAll(io.stdout, bundle);
      } else {
        let handle;
        try {
          handle = await open(out, o.force ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${out} already exists (use --force to replace it)`);
          throw err;
        }
        try {
          await handle.writeFile(bundle);
        } finally {
          await handle.close();
        }
      }
      const doc = { checkpoint: checkpointJson(cp), index: Number(verified.index), out, bundle };
      // With -o -, stdout carries the bundle alone; the JSON document then goes to stderr.
      if (o.json) (out === '-' ? io.stderr : io.stdout).write(`${JSON.stringify(doc)}\n`);
      else io.stderr.write(`vitrine: entry ${verified.index} proved in the checkpoint of size ${cp.size}; wrote ${out === '-' ? 'the bundle to stdout' : out}\n`);
    },
  );
}
