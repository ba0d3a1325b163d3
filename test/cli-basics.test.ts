/**
 * Command-line behaviour every command shares (issue 14 §2, §3): the exit
 * codes at the end of every --help, example lines that keep their `\`
 * continuation, keys from the environment, `sign -o -`, the refusal of a
 * signer key that others can read, and start-up refusals that name the path
 * and the fix instead of a raw errno. The help is read from the program
 * itself (cmd/program.ts) without a process per command; the rest runs the
 * built binary, but for cases whose first run was the binary. The other CLI
 * tests run most cases in-process (test/_cli.ts vitrineIn): the first test
 * here checks that a run in-process prints the same bytes and exits with the
 * same code as the binary, for help, usage errors, failures and success.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, COMMAND_NAMES } from '../cmd/program.js';
import { systemRefusal } from '../cmd/serve.js';
import { hexEncode } from '../src/encoding.js';
import { parseAndVerifyEntry } from '../src/entry/index.js';
import { formatSigner, formatVerifier, generateSigner, verifierFromSigner } from '../src/note/index.js';
import type { Command } from 'commander';
import { helpText, vitrine, vitrineIn, vitrineSync } from './_cli.js';

function run(cwd: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: Buffer; stderr: string } {
  const r = vitrineSync(cwd, args, { env });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** The same in this process (test/_cli.ts vitrineIn), for cases whose first run was the binary. */
async function runIn(cwd: string, args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  const r = await vitrineIn(cwd, args);
  return { status: r.code, stdout: r.out, stderr: r.stderr };
}

t.test('a command run in-process prints and exits as the binary does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-same-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const vkey = formatVerifier(verifierFromSigner(generateSigner('same.example/log')));
  const cases: string[][] = [
    ['sign', '--help'],
    ['nonsense'],
    ['verify', '--log-key', 'junk', 'x.bin'],
    ['verify', '--log-key', vkey, 'missing.bin'],
    ['verify', '--json', '--log-key', vkey, 'missing.bin', 'missing.tlog-proof'],
  ];
  const codes = new Set<number | null>();
  for (const args of cases) {
    const binary = await vitrine(dir, args);
    const inProcess = await vitrineIn(dir, args);
    codes.add(binary.code);
    t.same({ code: inProcess.code, stdout: inProcess.stdout, stderr: inProcess.stderr }, { code: binary.code, stdout: binary.stdout, stderr: binary.stderr }, `vitrine ${args.join(' ').slice(0, 60)}: exit ${binary.code}, the same stdout and stderr`);
  }
  t.same([...codes].sort(), [0, 1, 2], 'the cases cover exits 0, 1 and 2');
});

t.test('every command --help ends with its exit codes', async (t) => {
  const program = await buildProgram();
  const seen = program.commands.map((c) => c.name());
  t.same(seen, [...COMMAND_NAMES], 'the program has every command');
  const all: Command[] = [];
  const walk = (c: Command) => c.commands.forEach((s) => (all.push(s), walk(s)));
  walk(program);
  for (const cmd of all) {
    const help = helpText(cmd);
    const at = help.lastIndexOf('\nExit status: ');
    t.ok(at >= 0, `${cmd.name()} --help has an Exit status paragraph`);
    const codes = help.slice(at + 1).split('\n\n')[0]!;
    t.match(codes, /\b0 [\s\S]*\b1 [\s\S]*\b2 /, `${cmd.name()} --help lists exit codes 0, 1 and 2`);
    t.ok(codes.split('\n').every((l) => l.length <= 80), `${cmd.name()}: the exit-code lines are wrapped at 80 columns`);
  }
  // Issue 14 §2: --json on every command (a parent such as `key` only groups its subcommands).
  const leaves = all.filter((c) => c.commands.length === 0 || c.name() === 'monitor');
  t.same(leaves.filter((c) => !c.options.some((o) => o.long === '--json')).map((c) => c.name()), [], 'every command takes --json');
  t.ok(leaves.length >= COMMAND_NAMES.length, 'checked on every command');
  for (const name of ['serve', 'monitor']) {
    const help = helpText(program.commands.find((c) => c.name() === name)!);
    const cont = help.split('\n').filter((l) => /^\s+vitrine /.test(l) && l.endsWith('\\'));
    t.ok(cont.length >= 1, `${name}: an example is continued with a trailing backslash`);
    for (const l of cont) {
      const next = help.split('\n')[help.split('\n').indexOf(l) + 1]!;
      t.match(next, /^\s{4,}--/, `${name}: the continued example goes on on its own line`);
    }
  }
  const serveHelp = helpText(program.commands.find((c) => c.name() === 'serve')!);
  t.match(serveHelp, /--print-vkey/, 'serve documents --print-vkey');

  // The binary loads only the command it runs; its help is the same text.
  const r = run(tmpdir(), ['sign', '--help']);
  t.equal(r.status, 0, 'vitrine sign --help exits 0');
  t.match(r.stdout.toString(), /Exit status: 0 success; 1 the operation failed/, 'and ends with the exit codes');
});

t.test('sign: -o -, VITRINE_KEY, and a key others can read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-basics-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const signer = generateSigner('release@example.com');
  writeFileSync(join(dir, 'release.key'), `${formatSigner(signer)}\n`, { mode: 0o600 });
  const artifact = 'artifact bytes\n';
  writeFileSync(join(dir, 'a.bin'), artifact);
  const digest = createHash('sha256').update(artifact).digest('hex');

  const toFile = run(dir, ['sign', '--key', 'release.key', '--name', 'pkg:generic/a@1', 'a.bin']);
  t.equal(toFile.status, 0, `sign to a file exits 0 (${toFile.stderr})`);
  const fileBytes = readFileSync(join(dir, 'a.bin.entry'));

  const toStdout = run(dir, ['sign', '--key', 'release.key', '--name', 'pkg:generic/a@1', '-o', '-', 'a.bin']);
  t.equal(toStdout.status, 0, `sign -o - exits 0 (${toStdout.stderr})`);
  t.notOk(existsSync(join(dir, '-')), 'no file named "-" is written');
  const entry = parseAndVerifyEntry(new Uint8Array(toStdout.stdout));
  const leafB64 = createHash('sha256').update(Buffer.concat([Buffer.from([0]), fileBytes])).digest('base64');
  t.equal(hexEncode(entry.digest), digest, 'stdout carries a signed entry of the artifact');
  t.equal(hexEncode(entry.key), hexEncode(signer.publicKey), 'signed by the given key');
  t.ok(toStdout.stdout.equals(fileBytes), 'the same bytes as the entry file (signing is deterministic)');
  t.ok(toStdout.stderr.includes(`leaf ${leafB64})`), `the leaf hash goes to stderr, in base64 as the API answers it (${toStdout.stderr})`);

  const asJson = await runIn(dir, ['sign', '--key', 'release.key', '--name', 'pkg:generic/a@1', '--json', '-o', 'j.entry', 'a.bin']);
  t.equal(asJson.status, 0, `sign --json exits 0 (${asJson.stderr})`);
  const doc = JSON.parse(asJson.stdout.toString());
  t.same(doc, { name: 'pkg:generic/a@1', digest, leafHash: leafB64, out: 'j.entry' }, 'sign --json: name, hex digest, base64 leaf hash (RFC 9162 leaf), out');

  rmSync(join(dir, 'a.bin.entry'));
  const env = run(dir, ['sign', '--name', 'pkg:generic/a@1', 'a.bin'], { VITRINE_KEY: 'release.key' });
  t.equal(env.status, 0, `VITRINE_KEY stands in for --key (${env.stderr})`);
  t.ok(readFileSync(join(dir, 'a.bin.entry')).equals(fileBytes), 'and signs with that key');
  const flagWins = run(dir, ['sign', '--key', 'nope.key', '--name', 'pkg:generic/a@1', '-o', '-', 'a.bin'], { VITRINE_KEY: 'release.key' });
  t.equal(flagWins.status, 1, '--key overrides VITRINE_KEY');
  t.match(flagWins.stderr, /nope\.key: no such file/, 'the flag is the key that was tried');

  chmodSync(join(dir, 'release.key'), 0o640);
  const leaked = await runIn(dir, ['sign', '--key', 'release.key', '--name', 'pkg:generic/a@1', '-o', 'b.entry', 'a.bin']);
  t.equal(leaked.status, 1, 'a signer key readable by the group is refused');
  t.match(leaked.stderr, /^vitrine: refusing to use the signer key release\.key: it is readable by group or others \(mode 640\); run chmod 600 release\.key\n$/, 'with the mode and the fix');
  t.notOk(existsSync(join(dir, 'b.entry')), 'and nothing is written');
});

t.test('serve: refusing to start names the path and the fix', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-refuse-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'afile'), '');
  mkdirSync(join(dir, 'adir'));
  const asData = run(dir, ['serve', '--data', 'afile', '--origin', 'x.example/log', '--listen', '127.0.0.1:0']);
  t.equal(asData.status, 1, 'a file as --data: exit 1');
  t.equal(asData.stderr, 'vitrine: refusing to start: afile: exists and is not a directory; remove or rename it, or choose another path (EEXIST)\n', 'one sentence with the path and the fix');
  const asKey = run(dir, ['serve', '--data', 'd', '--origin', 'x.example/log', '--listen', '127.0.0.1:0', '--key', 'adir']);
  t.equal(asKey.status, 1, 'a directory as --key: exit 1');
  t.match(asKey.stderr, /^vitrine: refusing to start: the log key adir is not a file/, 'says what is wrong with the path');

  // A directory where the signed-checkpoint record or the database belongs: refused before anything is created.
  const asState = run(dir, ['serve', '--data', 'd1', '--origin', 'x.example/log', '--listen', '127.0.0.1:0', '--state-file', 'adir']);
  t.equal(asState.status, 1, 'a directory as --state-file: exit 1');
  t.equal(asState.stderr, 'vitrine: refusing to start: adir is a directory: --state-file must name a file, where this node records the newest checkpoint it signed; remove or rename the directory, or choose another path\n', 'one sentence with the path and the fix');
  t.notOk(existsSync(join(dir, 'd1', 'log.key')), 'and no key was created');
  mkdirSync(join(dir, 'd2', 'log.db'), { recursive: true });
  const dbDir = run(dir, ['serve', '--data', 'd2', '--origin', 'x.example/log', '--listen', '127.0.0.1:0']);
  t.equal(dbDir.status, 1, 'log.db being a directory: exit 1');
  t.equal(dbDir.stderr, `vitrine: refusing to start: ${join('d2', 'log.db')} is a directory: the log's SQLite database must be a file; remove or rename the directory, or choose another path\n`, 'one sentence, not SQLite\'s "unable to open database file"');
  t.notOk(existsSync(join(dir, 'd2', 'log.key')), 'and no key was created');

  // A port that is taken (held by this process): one sentence naming the address and the fix, not a raw EADDRINUSE.
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => holder.close(() => r())));
  const taken = (holder.address() as AddressInfo).port;
  const busy = run(dir, ['serve', '--data', 'd3', '--origin', 'x.example/log', '--listen', `127.0.0.1:${taken}`]);
  t.equal(busy.status, 1, 'serve on a port in use: exit 1');
  t.match(busy.stderr, new RegExp(`^vitrine: refusing to start: cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use \\(another vitrine, or another program, listens there\\); stop it, or choose another --listen \\(EADDRINUSE\\)\n$`), 'one sentence with the address and the fix');
  const logVkey = busy.stdout.toString().trim();
  t.match(logVkey, /^x\.example\/log\+[0-9a-f]{8}\+/, 'the key it made is printed, as on any first start');
  const monBusy = run(dir, ['monitor', '--state', 'mon', '--init', '--log', 'http://127.0.0.1:9', '--log-key', logVkey, '--listen', `127.0.0.1:${taken}`, '--once']);
  t.equal(monBusy.status, 1, 'monitor --listen on a port in use: exit 1');
  t.match(monBusy.stderr, new RegExp(`\nvitrine: refusing to start: cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use .*\\(EADDRINUSE\\)\n$`), 'the same sentence');

  // EACCES and EROFS cannot be provoked here (the tests may run as root, on a
  // writable disk): check the sentence for errors shaped as Node makes them.
  for (const [code, fix] of [['EACCES', /permission denied; give the user running vitrine/], ['EROFS', /read-only file system; put the data on a writable/], ['EISDIR', /is a directory where a file is expected/]] as const) {
    const err = Object.assign(new Error(`${code}: x, open '/var/lib/vitrine/log.db'`), { code, path: '/var/lib/vitrine/log.db' });
    const msg = systemRefusal(err);
    t.match(msg, /^refusing to start: \/var\/lib\/vitrine\/log\.db: /, `${code}: names the path`);
    t.match(msg, fix, `${code}: says how to fix it`);
  }
  t.equal(systemRefusal(new Error('other')), undefined, 'other errors are left to their own handling');
});
