/**
 * `vitrine sign`, `vitrine verify` and `vitrine verify-evidence`, run in a
 * temporary directory: the first case of each kind (success, failure, usage
 * error, stdin) as the real built binary (dist/cmd/vitrine.js; build it with
 * `npx tsc -p tsconfig.json`, which `npm test` runs first), the other cases
 * of the same command in this process (test/_cli.ts vitrineIn), which runs
 * the same program without a process's start-up cost. The bundle is made here: a small in-memory log holding the
 * entry `sign` wrote, its checkpoint signed by a test log key and cosigned
 * by one of two test witnesses. Every failure mode has its own exit code and
 * message, and each is asserted.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { b64encode, hexEncode } from '../src/encoding.js';
import { encodeEntry, entryLeafHash, parseAndVerifyEntry, signEntry } from '../src/entry/index.js';
import { cosignerVerifier, formatVerifier, parseSigner, signerFromSeed, verifierFromSigner } from '../src/note/index.js';
import { logOfEntries, proofVectors, noteVectors, seedOf } from './proof/_helpers.js';
import { BIN as bin, helpOf, vitrine, vitrineIn } from './_cli.js';

const built = ['vitrine.js', 'sign.js', 'verify.js', 'verify-evidence.js'].every((f) => existsSync(join(dirname(bin), f)));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `vitrine ARGS` in `cwd`: in this process, or as the binary when `spawned`. */
async function run(cwd: string, args: string[], input?: string, spawned = false): Promise<Run> {
  const r = await (spawned ? vitrine : vitrineIn)(cwd, args, { input });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

const sha256hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const NO_STACK = /\n\s+at /;

t.test('sign, verify, verify-evidence', async (t) => {
  // Fail, never skip: a missing build must not pass silently.
  if (!built) {
    t.fail('dist/cmd/{vitrine,sign,verify,verify-evidence}.js missing: run npx tsc -p tsconfig.json first');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-sign-verify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = (f: string) => join(dir, f);

  // 5 MiB plus a bit: several 1 MiB read chunks, and not a multiple of one.
  const artifact = new Uint8Array(5 * 1024 * 1024 + 123).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
  writeFileSync(path('app.bin'), artifact);

  const kg = await run(dir, ['keygen', '--name', 'release.example.com/signer', '--out', 'signer.key'], undefined, true);
  t.equal(kg.status, 0, `keygen exits 0 (${kg.stderr})`);
  writeFileSync(path('signer.vkey'), kg.stdout);
  const signer = parseSigner(readFileSync(path('signer.key'), 'utf8'));

  let entryBytes = new Uint8Array();
  await t.test('sign writes the entry and prints its leaf hash', async (t) => {
    const r = await run(dir, ['sign', '--key', 'signer.key', '--name', 'pkg:generic/app@1.0', '--annotate', 'version=1.0', '--annotate', 'source=https://x.example/a=b', 'app.bin'], undefined, true);
    t.equal(r.status, 0, `exit 0 (stderr: ${r.stderr})`);
    entryBytes = new Uint8Array(readFileSync(path('app.bin.entry')));
    const entry = parseAndVerifyEntry(entryBytes);
    t.equal(entry.name, 'pkg:generic/app@1.0', 'the entry names the artifact');
    t.equal(hexEncode(entry.digest), sha256hex(artifact), "the entry's digest is the artifact's SHA-256");
    t.equal(hexEncode(entry.key), hexEncode(signer.publicKey), "the entry's key is the signer's");
    t.same(entry.annotations, { version: '1.0', source: 'https://x.example/a=b' }, 'annotations, split at the first "="');
    t.equal(r.stdout, `${Buffer.from(entryLeafHash(entryBytes)).toString('base64')}\n`, 'stdout is exactly the leaf hash in base64, as the API answers it');
    t.equal(hexEncode(entryBytes), hexEncode(encodeEntry(signEntry({ name: entry.name, digest: entry.digest, annotations: entry.annotations! }, signer.seed))), 'the bytes are the canonical entry');
    t.match(r.stderr, /wrote the entry to app\.bin\.entry/, 'stderr says where the entry went');
    t.notOk(r.stdout.includes(readFileSync(path('signer.key'), 'utf8').trim().split('+')[4]!), 'the secret is not printed');
  });

  await t.test('sign refuses to overwrite; --force replaces with the same bytes; -o', async (t) => {
    const before = readFileSync(path('app.bin.entry'));
    const again = await run(dir, ['sign', '--key', 'signer.key', '--name', 'pkg:generic/app@1.0', 'app.bin']);
    t.equal(again.status, 1, 'exit 1 when the entry exists');
    t.match(again.stderr, /app\.bin\.entry already exists; refusing to overwrite it \(use --force/, 'says so and names --force');
    t.equal(again.stdout, '', 'nothing on stdout');
    t.same(readFileSync(path('app.bin.entry')), before, 'the entry is unchanged');
    const forced = await run(dir, ['sign', '--key', 'signer.key', '--name', 'pkg:generic/app@1.0', '--annotate', 'version=1.0', '--annotate', 'source=https://x.example/a=b', '--force', 'app.bin']);
    t.equal(forced.status, 0, `--force exits 0 (${forced.stderr})`);
    t.same(readFileSync(path('app.bin.entry')), before, 'signing is deterministic: the same bytes');
    const out = await run(dir, ['sign', '--key', 'signer.key', '--name', 'other', 'app.bin', '-o', 'other.entry']);
    t.equal(out.status, 0, `-o exits 0 (${out.stderr})`);
    t.equal(parseAndVerifyEntry(new Uint8Array(readFileSync(path('other.entry')))).name, 'other', '-o writes there');
  });

  await t.test('sign: usage errors exit 2, missing files exit 1', async (t) => {
    const base = ['sign', '--key', 'signer.key'];
    const usage: [string, string[], RegExp][] = [
      ['duplicate annotation key', [...base, '--name', 'n', '--annotate', 'a=1', '--annotate', 'a=2', 'app.bin', '-o', 'u1'], /--annotate: key "a" is given more than once/],
      ['annotation without "="', [...base, '--name', 'n', '--annotate', 'novalue', 'app.bin', '-o', 'u2'], /--annotate: "novalue" is not key=value/],
      ['annotation key with capitals', [...base, '--name', 'n', '--annotate', 'Version=1', 'app.bin', '-o', 'u3'], /--annotate: key "Version" does not match/],
      ['name with leading space', [...base, '--name', ' n', 'app.bin', '-o', 'u4'], /--name: must not start or end with white space/],
      ['missing --name', [...base, 'app.bin', '-o', 'u5'], /required option '--name <name>' not specified/],
      ['missing artifact argument', [...base, '--name', 'n'], /missing required argument 'artifact'/],
      ['a vkey given as --key', ['sign', '--key', 'signer.vkey', '--name', 'n', 'app.bin', '-o', 'u6'], /--key: signer\.vkey: skey: must start with "PRIVATE\+KEY\+"/],
      ['output is the artifact', [...base, '--name', 'n', 'app.bin', '-o', 'app.bin', '--force'], /--out: must not be the artifact itself/],
    ];
    for (const [i, [label, args, message]] of usage.entries()) {
      const r = await run(dir, args, undefined, i === 0);
      t.equal(r.status, 2, `${label}: exit 2`);
      t.match(r.stderr, message, `${label}: message (${r.stderr.trim()})`);
      t.notMatch(r.stderr, NO_STACK, `${label}: no stack trace`);
      t.equal(r.stdout, '', `${label}: nothing on stdout`);
    }
    for (const f of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) t.notOk(existsSync(path(f)), `${f} not created`);
    t.equal(statSync(path('app.bin')).size, artifact.length, 'the artifact is untouched');
    const noKey = await run(dir, ['sign', '--key', 'missing.key', '--name', 'n', 'app.bin', '-o', 'u7']);
    t.equal(noKey.status, 1, 'missing key file: exit 1');
    t.match(noKey.stderr, /key file missing\.key: no such file/, 'missing key file: message');
    const noArtifact = await run(dir, [...base, '--name', 'n', 'missing.bin']);
    t.equal(noArtifact.status, 1, 'missing artifact: exit 1');
    t.match(noArtifact.stderr, /artifact file missing\.bin: no such file/, 'missing artifact: message');
  });

  // The log: two entries by someone else, ours at index 2, one more after it.
  const logSigner = signerFromSeed('log.example.com/cli', seedOf('cli log'));
  const w1 = signerFromSeed('witness.example.com/w1', seedOf('cli w1'));
  const w2 = signerFromSeed('witness.example.com/w2', seedOf('cli w2'));
  const otherSeed = seedOf('someone else');
  const otherEntry = (n: number) => encodeEntry(signEntry({ name: `pkg:generic/other@${n}`, digest: new Uint8Array(32).fill(n) }, otherSeed));
  const log = logOfEntries([otherEntry(1), otherEntry(2), entryBytes, otherEntry(3)], logSigner, [w1]);
  const bundle = log.bundle(2);
  writeFileSync(path('app.bin.tlog-proof'), bundle);
  const logVkey = formatVerifier(verifierFromSigner(logSigner));
  writeFileSync(path('log.vkey'), `${logVkey}\n`);
  writeFileSync(path('w1.vkey'), `${formatVerifier(cosignerVerifier(w1))}\n`);
  writeFileSync(path('w2.vkey'), `${formatVerifier(cosignerVerifier(w2))}\n`);
  const otherSignerVkey = formatVerifier(verifierFromSigner(signerFromSeed('release.example.com/other', otherSeed)));

  await t.test('verify: valid bundles exit 0 with a one-line confirmation', async (t) => {
    const ok: [string, string[], RegExp][] = [
      ['log key file', ['--log-key', 'log.vkey'], /witnesses: none required/],
      ['log key string', ['--log-key', logVkey], /witnesses: none required/],
      ['witness w1, default quorum (all)', ['--log-key', 'log.vkey', '--witness', 'w1.vkey'], /witnesses: witness\.example\.com\/w1 \(1 of 1, quorum 1\)/],
      ['witness w1 as its 0x01 vkey', ['--log-key', 'log.vkey', '--witness', formatVerifier(verifierFromSigner(w1))], /witness\.example\.com\/w1 \(1 of 1, quorum 1\)/],
      ['2 witnesses, quorum 1', ['--log-key', 'log.vkey', '--witness', 'w1.vkey', '--witness', 'w2.vkey', '--quorum', '1'], /witness\.example\.com\/w1 \(1 of 2, quorum 1\)/],
      // One name per key: the pinned vkey names the signer name+keyID, as the vkey file itself writes it.
      ['pinned signer', ['--log-key', 'log.vkey', '--signer', 'signer.vkey', '--signer', otherSignerVkey], new RegExp(`; signed by ${readFileSync(path('signer.vkey'), 'utf8').trim().split('+').slice(0, 2).join('+').replace(/[.+]/g, '\\$&')}; witnesses: none required`)],
      ['signer not pinned', ['--log-key', 'log.vkey'], new RegExp(`; signed by ${createHash('sha256').update(signer.publicKey).digest('hex')}; witnesses: none required`)],
      ['explicit bundle path', ['--log-key', 'log.vkey', 'app.bin', 'app.bin.tlog-proof'], /none required/],
    ];
    for (const [i, [label, flags, extra]] of ok.entries()) {
      const args = flags.includes('app.bin') ? ['verify', ...flags] : ['verify', ...flags, 'app.bin'];
      const r = await run(dir, args, undefined, i === 0);
      t.equal(r.status, 0, `${label}: exit 0 (stderr: ${r.stderr.trim()})`);
      t.match(r.stdout, /^verified pkg:generic\/app@1\.0: index 2 in log\.example\.com\/cli, tree size 4; /, `${label}: names the artifact, index, origin and size`);
      t.match(r.stdout, extra, `${label}: witnesses`);
      t.equal(r.stdout.split('\n').length, 2, `${label}: one line`);
      t.equal(r.stderr, '', `${label}: nothing on stderr`);
    }
  });

  await t.test('verify: each failure has its step, message and exit 1', async (t) => {
    const tampered = artifact.slice();
    tampered[4_000_000] ^= 1;
    writeFileSync(path('tampered.bin'), tampered);
    writeFileSync(path('bad-index.tlog-proof'), bundle.replace('\nindex 2\n', '\nindex 1\n'));
    // An extension line keeps the root (step 3 passes) but breaks the log's signature.
    writeFileSync(path('extended.tlog-proof'), bundle.replace(/(\nlog\.example\.com\/cli\n4\n[A-Za-z0-9+/]{43}=\n)/, '$1extension\n'));
    writeFileSync(path('garbage.tlog-proof'), 'hello\n\n');
    const wrongLog = formatVerifier(verifierFromSigner(signerFromSeed('log.example.com/cli', seedOf('another log'))));
    const cases: [string, string[], RegExp][] = [
      ['tampered artifact', ['--log-key', 'log.vkey', 'tampered.bin', 'app.bin.tlog-proof'], /^vitrine: step 1: The artifact's SHA-256 \([0-9a-f]{64}\) is not the digest the entry signs/],
      ['pinned wrong signer', ['--log-key', 'log.vkey', '--signer', otherSignerVkey, 'app.bin'], /^vitrine: step 2: The entry was signed by key [0-9a-f]{64}, which is not one of the pinned signer keys\./],
      ['tampered bundle index', ['--log-key', 'log.vkey', 'app.bin', 'bad-index.tlog-proof'], /^vitrine: step 3: The inclusion proof for index 1 does not lead to the checkpoint's root at size 4\./],
      ['wrong log key', ['--log-key', wrongLog, 'app.bin'], /^vitrine: step 4: The checkpoint is not validly signed by the log key log\.example\.com\/cli: /],
      ['checkpoint text changed', ['--log-key', 'log.vkey', 'app.bin', 'extended.tlog-proof'], /^vitrine: step 4: The checkpoint is not validly signed by the log key log\.example\.com\/cli: note signature by log\.example\.com\/cli\+[0-9a-f]{8}: signature does not verify\./],
      ['quorum not met', ['--log-key', 'log.vkey', '--witness', 'w1.vkey', '--witness', 'w2.vkey', 'app.bin'], /^vitrine: step 5: The checkpoint has 1 valid cosignature\(s\) from the given witnesses, fewer than the quorum of 2\./],
      ['malformed bundle', ['--log-key', 'log.vkey', 'app.bin', 'garbage.tlog-proof'], /^vitrine: step 0: The proof bundle is malformed: /],
      ['missing bundle', ['--log-key', 'log.vkey', 'app.bin', 'nope.tlog-proof'], /^vitrine: proof bundle file nope\.tlog-proof: no such file\n$/],
      ['missing artifact', ['--log-key', 'log.vkey', 'nope.bin', 'app.bin.tlog-proof'], /^vitrine: artifact file nope\.bin: no such file\n$/],
      ['default bundle missing', ['--log-key', 'log.vkey', 'tampered.bin'], /^vitrine: proof bundle file tampered\.bin\.tlog-proof: no such file\n$/],
      ['artifact is a directory', ['--log-key', 'log.vkey', '.', 'app.bin.tlog-proof'], /^vitrine: artifact file \.: is a directory\n$/],
    ];
    const seen = new Set<string>();
    for (const [i, [label, flags, message]] of cases.entries()) {
      const r = await run(dir, ['verify', ...flags], undefined, i === 0);
      t.equal(r.status, 1, `${label}: exit 1`);
      t.match(r.stderr, message, `${label}: message (${r.stderr.trim()})`);
      t.equal(r.stderr.split('\n').length, 2, `${label}: one line on stderr`);
      t.notMatch(r.stderr, NO_STACK, `${label}: no stack trace`);
      t.equal(r.stdout, '', `${label}: nothing on stdout`);
      seen.add(r.stderr);
    }
    t.equal(seen.size, cases.length, 'every failure mode has its own message');
  });

  await t.test('verify: usage errors exit 2', async (t) => {
    const cases: [string, string[], RegExp][] = [
      ['bad log vkey', ['verify', '--log-key', 'not-a-key', 'app.bin'], /--log-key: "not-a-key" is neither a valid vkey \(.*\) nor a key file/],
      ['log key file without a vkey', ['verify', '--log-key', 'app.bin.tlog-proof', 'app.bin'], /--log-key: file app\.bin\.tlog-proof does not hold a valid vkey/],
      ['cosigner key as log key', ['verify', '--log-key', 'w1.vkey', 'app.bin'], /--log-key: must be an Ed25519 \(type 0x01\) vkey/],
      ['bad witness vkey', ['verify', '--log-key', 'log.vkey', '--witness', 'w+00000000+AAAA', 'app.bin'], /--witness: .* is neither a valid vkey/],
      ['bad signer vkey', ['verify', '--log-key', 'log.vkey', '--signer', 'x', 'app.bin'], /--signer: "x" is neither a valid vkey/],
      ['non-integer quorum', ['verify', '--log-key', 'log.vkey', '--witness', 'w1.vkey', '--quorum', 'one', 'app.bin'], /--quorum: "one" is not a whole number/],
      ['negative quorum', ['verify', '--log-key', 'log.vkey', '--witness', 'w1.vkey', '--quorum', '-1', 'app.bin'], /--quorum: "-1" is not a whole number/],
      ['quorum above the witness count', ['verify', '--log-key', 'log.vkey', '--witness', 'w1.vkey', '--quorum', '2', 'app.bin'], /--quorum: 2 can never be met with 1 --witness key\(s\)/],
      ['quorum without witnesses', ['verify', '--log-key', 'log.vkey', '--quorum', '1', 'app.bin'], /--quorum: 1 can never be met with 0 --witness key\(s\)/],
      ['missing --log-key', ['verify', 'app.bin'], /required option '--log-key <vkey>' not specified/],
      ['missing artifact', ['verify', '--log-key', 'log.vkey'], /missing required argument 'artifact'/],
      ['too many arguments', ['verify', '--log-key', 'log.vkey', 'a', 'b', 'c'], /too many arguments/],
      ['unknown flag', ['verify', '--log-key', 'log.vkey', '--offline', 'app.bin'], /unknown option '--offline'/],
    ];
    for (const [i, [label, args, message]] of cases.entries()) {
      const r = await run(dir, args, undefined, i === 0);
      t.equal(r.status, 2, `${label}: exit 2 (stderr: ${r.stderr.trim()})`);
      t.match(r.stderr, message, `${label}: message`);
      t.notMatch(r.stderr, NO_STACK, `${label}: no stack trace`);
      t.equal(r.stdout, '', `${label}: nothing on stdout`);
    }
  });

  await t.test('verify --json', async (t) => {
    const ok = await run(dir, ['verify', '--json', '--log-key', 'log.vkey', '--witness', 'w1.vkey', '--witness', 'w2.vkey', '--quorum', '1', 'app.bin']);
    t.equal(ok.status, 0, `valid: exit 0 (${ok.stderr})`);
    const v = JSON.parse(ok.stdout);
    t.same(
      v,
      {
        ok: true,
        name: 'pkg:generic/app@1.0',
        digest: sha256hex(artifact),
        keyHash: sha256hex(signer.publicKey),
        signers: [sha256hex(signer.publicKey)],
        annotations: { version: '1.0', source: 'https://x.example/a=b' },
        index: '2',
        origin: 'log.example.com/cli',
        treeSize: '4',
        rootHash: b64encode(log.rootHash),
        witnesses: ['witness.example.com/w1'],
        quorum: 1,
      },
      'the full result, sizes as decimal strings',
    );
    const pinned = await run(dir, ['verify', '--json', '--log-key', 'log.vkey', '--signer', 'signer.vkey', 'app.bin']);
    t.same(JSON.parse(pinned.stdout).signers, [readFileSync(path('signer.vkey'), 'utf8').trim().split('+').slice(0, 2).join('+')], 'with --signer VKEY, the signer is named name+keyID, as in the vkey');
    const bad = await run(dir, ['verify', '--json', '--log-key', 'log.vkey', 'tampered.bin', 'app.bin.tlog-proof']);
    t.equal(bad.status, 1, 'invalid: exit 1');
    const b = JSON.parse(bad.stdout);
    t.same([b.ok, b.step, b.code], [false, 1, 'digest-mismatch'], 'invalid: ok, step, code');
    t.match(b.message, /^The artifact's SHA-256/, 'invalid: the message');
    t.match(bad.stderr, /^vitrine: step 1: /, 'invalid: the sentence is on stderr too');
    const missing = await run(dir, ['verify', '--json', '--log-key', 'log.vkey', 'app.bin', 'nope.tlog-proof']);
    t.equal(missing.status, 1, 'missing file: exit 1');
    t.same(JSON.parse(missing.stdout), { ok: false, step: null, code: 'file-not-found', message: 'proof bundle file nope.tlog-proof: no such file', file: 'nope.tlog-proof' }, 'missing file: step null, code file-not-found');
    const usage = await run(dir, ['verify', '--json', '--log-key', 'bad', 'app.bin']);
    t.equal(usage.status, 2, 'usage error: exit 2');
    t.equal(usage.stdout, '', 'usage error: no JSON on stdout');
  });

  await t.test('verify-evidence on the reference documents', async (t) => {
    const pv = proofVectors();
    const nv = noteVectors();
    writeFileSync(path('ref-log.vkey'), nv.log.vkey);
    const expected: Record<string, RegExp> = {
      sameSize: /^proves misbehaviour: the log log\.example\.com\/vitrine signed two different trees of the same size 5 \(split view, same-size\)\n$/,
      powerOfTwoPrefix: /^proves misbehaviour: the log log\.example\.com\/vitrine signed a tree of size 5 that does not extend its tree of size 2 \(split view, not-prefix\)\n$/,
      prefixDiffers: /signed a tree of size 5 that does not extend its tree of size 3/,
    };
    for (const [i, [name, doc]] of Object.entries(pv.evidence).entries()) {
      writeFileSync(path(`${name}.json`), JSON.stringify(doc));
      const r = await run(dir, ['verify-evidence', '--log-key', 'ref-log.vkey', `${name}.json`]);
      t.equal(r.status, 0, `${name}: exit 0 (${r.stderr})`);
      t.match(r.stdout, expected[name]!, `${name}: says what it proves`);
      const j = await run(dir, ['verify-evidence', '--json', '--log-key', nv.log.vkey, '-'], JSON.stringify(doc), i === 0);
      t.equal(j.status, 0, `${name} from stdin with --json: exit 0`);
      t.equal(JSON.parse(j.stdout).ok, true, `${name}: JSON ok`);
    }
    const reasons: Record<string, RegExp> = {
      honestPair: /^vitrine: honestPair\.json does not prove misbehaviour: the tree of size 5 extends the tree of size 3: no split view\n$/,
      identicalNotes: /^vitrine: identicalNotes\.json does not prove misbehaviour: the two checkpoints sign the same tree\n$/,
      unsignedFork: /^vitrine: unsignedFork\.json does not prove misbehaviour: a checkpoint is not validly signed by the log: /,
    };
    for (const [name, doc] of Object.entries(pv.notEvidence)) {
      writeFileSync(path(`${name}.json`), JSON.stringify(doc));
      const r = await run(dir, ['verify-evidence', '--log-key', 'ref-log.vkey', `${name}.json`]);
      t.equal(r.status, 1, `${name}: exit 1`);
      t.match(r.stderr, reasons[name]!, `${name}: says why`);
      t.equal(r.stdout, '', `${name}: nothing on stdout`);
      const j = await run(dir, ['verify-evidence', '--json', '--log-key', 'ref-log.vkey', `${name}.json`]);
      t.same(Object.keys(JSON.parse(j.stdout)), ['ok', 'message'], `${name}: JSON {ok, message}`);
    }
    const other = await run(dir, ['verify-evidence', '--log-key', 'log.vkey', 'sameSize.json']);
    t.equal(other.status, 1, "another log's key: exit 1");
    t.match(other.stderr, /origin log\.example\.com\/vitrine is not the log key's name log\.example\.com\/cli/, "another log's key: says why");
    const missing = await run(dir, ['verify-evidence', '--log-key', 'ref-log.vkey', 'nope.json']);
    t.equal(missing.status, 1, 'missing file: exit 1');
    t.match(missing.stderr, /^vitrine: evidence file nope\.json: no such file\n$/, 'missing file: message');
    const usage = await run(dir, ['verify-evidence', '--log-key', 'junk', 'sameSize.json']);
    t.equal(usage.status, 2, 'bad vkey: exit 2');
    t.match(usage.stderr, /--log-key: "junk" is neither a valid vkey/, 'bad vkey: message');
    const noFile = await run(dir, ['verify-evidence', '--log-key', 'ref-log.vkey']);
    t.equal(noFile.status, 2, 'missing argument: exit 2');
    t.notMatch(noFile.stderr + usage.stderr, NO_STACK, 'no stack traces');
  });

  await t.test('--help for each command', async (t) => {
    const helps: [string, RegExp[]][] = [
      ['sign', [/--annotate <key=value>/, /--force/, /vitrine sign --key release\.key --name pkg:npm\/left-pad@1\.3\.0/, /vitrine submit --log/]],
      ['verify', [/--log-key <vkey>/, /--signer <key>/, /--witness <vkey>/, /--quorum <k>/, /--json/, /Exit status: 0/, /vitrine verify --log-key log\.vkey left-pad-1\.3\.0\.tgz/]],
      ['verify-evidence', [/--log-key <vkey>/, /--json/, /vitrine verify-evidence --log-key log\.vkey evidence\.json/, /Exit status: 0/]],
    ];
    // Read from the program itself (test/_cli.ts helpOf); cli-basics runs the binary's --help.
    for (const [command, patterns] of helps) {
      const help = await helpOf(command);
      t.match(help, /Examples:/, `${command} --help: has examples`);
      for (const p of patterns) t.match(help, p, `${command} --help: mentions ${p}`);
    }
    const top = await helpOf();
    for (const c of ['sign', 'verify', 'verify-evidence']) t.match(top, new RegExp(`\\n  ${c} `), `vitrine --help lists ${c}`);
  });
});
