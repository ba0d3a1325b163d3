/**
 * `vitrine log`, `get`, `search` and `proof` against a real `vitrine serve`
 * child (issue 14 §2): what they print is verified against the checkpoint
 * signed by the pinned --log-key; a wrong key, or a log that lies about an
 * entry (a proxy rewriting its JSON), fails with exit 1; `proof` rebuilds
 * the very bundle `submit` wrote and never logs anything. The first run of
 * each command (and the stdin/stdout one) is the built binary with
 * VITRINE_LOG and VITRINE_LOG_KEY in its environment; the other cases run
 * in this process (test/_cli.ts vitrineIn).
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, vitrine as spawned, vitrineIn } from './_cli.js';

/** In this process; `vitrineP` runs the binary. */
const vitrine = (cwd: string, args: string[], env: Record<string, string> = {}, input?: Buffer) => vitrineIn(cwd, args, { env, input });
const vitrineP = (cwd: string, args: string[], env: Record<string, string> = {}, input?: Buffer) => spawned(cwd, args, { env, input });

t.test('log, get, search, proof', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-cli-read-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServe(join(dir, 'data'), 'read.example/log');
  t.teardown(server.stop);
  const url = server.url;
  writeFileSync(join(dir, 'log.vkey'), `${server.vkey}\n`);
  const env = { VITRINE_LOG: url, VITRINE_LOG_KEY: 'log.vkey' };
  const kg = await vitrineP(dir, ['keygen', '--name', 'release@example.com', '--out', 'release.key']);
  writeFileSync(join(dir, 'release.vkey'), kg.stdout);
  const otherKey = (await vitrine(dir, ['keygen', '--name', 'read.example/log', '--out', 'other.key'])).stdout.trim();
  writeFileSync(join(dir, 'other.vkey'), `${otherKey}\n`);
  writeFileSync(join(dir, 'a.bin'), 'artifact a');
  writeFileSync(join(dir, 'b.bin'), 'artifact b');
  const leaves: string[] = [];
  for (const [f, name] of [['a.bin', 'pkg:generic/a@1'], ['b.bin', 'pkg:generic/b@1']]) {
    const s = await vitrineP(dir, ['submit', '--key', 'release.key', '--name', name!, '--annotate', 'k=v', '--json', f!], env);
    t.equal(s.code, 0, `submit --json ${f} (${s.stderr})`);
    const doc = JSON.parse(s.stdout);
    t.same({ index: doc.index, fresh: doc.fresh, out: doc.out }, { index: leaves.length, fresh: true, out: `${f}.tlog-proof` }, 'submit --json: index, fresh, out');
    leaves.push(doc.leafHash);
  }
  const served = await (await fetch(`${url}/checkpoint`)).text();

  const log = await vitrineP(dir, ['log', '--json'], env);
  t.equal(log.code, 0, `log --json exits 0 (${log.stderr})`);
  const logDoc = JSON.parse(log.stdout);
  t.same({ origin: logDoc.origin, size: logDoc.size, rootHash: logDoc.rootHash, checkpoint: logDoc.checkpoint }, { origin: 'read.example/log', size: 2, rootHash: served.split('\n')[2], checkpoint: served }, 'log shows the signed checkpoint');
  const logText = await vitrine(dir, ['log'], env);
  t.match(logText.stdout, /^origin read\.example\/log\nsize 2\nrootHash \S+\nverified with read\.example\/log\+[0-9a-f]{8}\n$/, 'and as text');

  const get = await vitrineP(dir, ['get', '1', '--json'], env);
  t.equal(get.code, 0, `get --json exits 0 (${get.stderr})`);
  const getDoc = JSON.parse(get.stdout);
  const api = (await (await fetch(`${url}/v1/entries/1`)).json()) as Record<string, unknown> & { keyHash: string };
  t.same(getDoc.entry, { ...api, signers: [api.keyHash] }, "get shows the API's entry, its signer named by key hash");
  t.same(getDoc.checkpoint, { origin: 'read.example/log', size: 2, rootHash: served.split('\n')[2] }, 'and the checkpoint it is proved in');
  t.equal(getDoc.entry.name, 'pkg:generic/b@1', 'entry 1 is b');
  t.equal(getDoc.entry.leafHash, leaves[1], 'with the leaf hash submit --json gave, in the same encoding');
  // One name per key: given the signer's vkey, a version-1 signer is named name+keyID, as its vkey writes it.
  const releaseName = readFileSync(join(dir, 'release.vkey'), 'utf8').trim().split('+').slice(0, 2).join('+');
  t.match(releaseName, /^release@example\.com\+[0-9a-f]{8}$/, 'the vkey names the key release@example.com+keyID');
  const pinned = await vitrine(dir, ['get', '1', '--signer', 'release.vkey', '--json'], env);
  t.equal(pinned.code, 0, `get --signer exits 0 (${pinned.stderr})`);
  t.same(JSON.parse(pinned.stdout).entry, { ...api, signers: [releaseName] }, 'get --signer VKEY names the signer name+keyID');
  const pinnedText = await vitrine(dir, ['get', '1', '--signer', 'release.vkey'], env);
  t.match(pinnedText.stdout, `\nsigner ${releaseName}\n`, 'in the text output too');
  const info = JSON.parse((await vitrine(dir, ['key', 'info', '--json', 'release.vkey'])).stdout);
  t.same([info.fingerprint, info.keyHash, info.keyHashes.vitrine], [releaseName, api.keyHash, api.keyHash], 'key info gives both names of the key: name+keyID and the key hash');
  const stranger = await vitrine(dir, ['get', '1', '--signer', 'other.vkey'], env);
  t.equal(stranger.code, 1, 'get --signer with a key that did not sign the entry fails');
  t.match(stranger.stderr, new RegExp(`^vitrine: entry 1: The entry was signed by key ${api.keyHash}, which is not one of the pinned signer keys\\.\n$`), 'saying which key did');
  t.equal(stranger.stdout, '', 'and shows nothing');
  const beyond = await vitrine(dir, ['get', '2'], env);
  t.equal(beyond.code, 1, 'get past the checkpoint fails');
  t.match(beyond.stderr, /no entry 2 in the checkpoint of size 2/, 'and says why');


  const wrong = await vitrine(dir, ['get', '0', '--log-key', otherKey], env);
  t.equal(wrong.code, 1, 'a wrong --log-key fails (the flag overrides VITRINE_LOG_KEY)');
  t.match(wrong.stderr, /does not verify with the log key read\.example\/log\+[0-9a-f]{8}/, 'naming the key');
  t.equal(wrong.stdout, '', 'and shows nothing');

  const all = await vitrineP(dir, ['search', '--key', 'release.vkey', '--json'], env);
  t.equal(all.code, 0, `search --key exits 0 (${all.stderr})`);
  t.same(JSON.parse(all.stdout).entries.map((e: { index: number; signers: string[] }) => [e.index, e.signers]), [[0, [releaseName]], [1, [releaseName]]], 'finds both entries by the signer vkey, and names the signer by it');
  const allPinned = await vitrine(dir, ['search', '--name', 'pkg:generic/a@1', '--signer', 'release.vkey', '--signer', 'other.vkey'], env);
  t.match(allPinned.stdout, new RegExp(`^0 pkg:generic/a@1 [0-9a-f]{64} ${releaseName.replace(/[.+]/g, '\\$&')}\n$`), 'search --signer: every entry found is signed by one of the keys, named by its vkey');
  const notOurs = await vitrine(dir, ['search', '--name', 'pkg:generic/a@1', '--signer', 'other.vkey', '--json'], env);
  t.equal(notOurs.code, 1, 'search --signer fails when an entry found is signed by another key');
  t.match(notOurs.stderr, /^vitrine: entry 0: The entry was signed by key [0-9a-f]{64}, which is not one of the pinned signer keys\.\n$/, 'naming the entry');
  t.equal(notOurs.stdout, '', 'and shows nothing');
  const p1 = JSON.parse((await vitrine(dir, ['search', '--key', api.keyHash, '--limit', '1', '--json'], env)).stdout);
  t.same([p1.entries.map((e: { index: number }) => e.index), p1.next], [[0], 0], 'pages: the first page and its next');
  const p2 = JSON.parse((await vitrine(dir, ['search', '--key', api.keyHash, '--limit', '1', '--after', '0', '--json'], env)).stdout);
  t.same([p2.entries.map((e: { index: number }) => e.index), p2.next], [[1], null], 'the second and last page');
  const byName = await vitrine(dir, ['search', '--name', 'pkg:generic/a@1'], env);
  t.match(byName.stdout, /^0 pkg:generic\/a@1 [0-9a-f]{64} [0-9a-f]{64}\n$/, 'search --name, as text');
  const none = await vitrine(dir, ['search', '--name', 'pkg:generic/none@1', '--json'], env);
  t.same(JSON.parse(none.stdout).entries, [], 'no match: no entries');
  t.equal((await vitrine(dir, ['search', '--name', 'x', '--digest', 'ab'], env)).code, 2, 'two fields at once is a usage error');

  const submitted = readFileSync(join(dir, 'a.bin.tlog-proof'), 'utf8');
  rmSync(join(dir, 'a.bin.tlog-proof'));
  const proof = await vitrineP(dir, ['proof', 'a.bin'], env);
  t.equal(proof.code, 0, `proof exits 0 (${proof.stderr})`);
  const head = (b: string) => b.split('\n').slice(0, 3).join('\n');
  t.equal(head(readFileSync(join(dir, 'a.bin.tlog-proof'), 'utf8')), head(submitted), 'proof rebuilds the entry and index submit wrote');
  t.match(readFileSync(join(dir, 'a.bin.tlog-proof'), 'utf8'), `\n\n${served}`, 'against the checkpoint the log serves now');
  t.equal((await vitrine(dir, ['verify', '--log-key', 'log.vkey', '--signer', 'release.vkey', 'a.bin'])).code, 0, 'and vitrine verify accepts it');
  const again = await vitrine(dir, ['proof', 'a.bin'], env);
  t.equal(again.code, 1, 'an existing bundle is not overwritten without --force');
  const stdin = await vitrineP(dir, ['proof', '-', '-o', '-'], env, Buffer.from('artifact b'));
  t.equal(stdin.code, 0, `proof - -o - exits 0 (${stdin.stderr})`);
  t.match(stdin.stdout, /^c2sp\.org\/tlog-proof@v1\nextra \S+\nindex 1\n/, 'reads the artifact from stdin and writes the bundle to stdout');
  writeFileSync(join(dir, 'c.bin'), 'never logged');
  const unlogged = await vitrine(dir, ['proof', 'c.bin'], env);
  t.equal(unlogged.code, 1, 'proof of an artifact that is not logged fails');
  t.match(unlogged.stderr, /no entry for this artifact/, 'and says so');
  t.notOk(existsSync(join(dir, 'c.bin.tlog-proof')), 'writing nothing');
  t.equal((await (await fetch(`${url}/checkpoint`)).text()).split('\n')[1], '2', 'and logging nothing');

  // A log that lies about an entry's content: the proxy renames entry 0.
  const proxy = createServer(async (req, res) => {
    const upstream = await fetch(`${url}${req.url}`);
    let body = await upstream.text();
    if (req.url === '/v1/entries/0') body = body.replace('pkg:generic/a@1', 'pkg:generic/z@1');
    res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const lied = await vitrine(dir, ['get', '0', '--log', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`], env);
  t.equal(lied.code, 1, 'an entry that is not what the log proves fails');
  t.match(lied.stderr, /is not the hash of the entry it served/, 'and says why');
  t.notMatch(lied.stdout, /z@1/, 'without showing the lie');

  // proof of an entry file, and of an artifact logged under two names.
  const signed = await vitrine(dir, ['sign', '--key', 'release.key', '--name', 'pkg:generic/a@2', '-o', 'a2.entry', 'a.bin']);
  t.equal(signed.code, 0, `sign a.bin again under another name (${signed.stderr})`);
  const notYet = await vitrine(dir, ['proof', '-o', '-', 'a2.entry'], env);
  t.equal(notYet.code, 1, 'proof of an entry file that is not logged fails');
  t.equal(notYet.stdout, '', 'writing nothing');
  const sub = await vitrine(dir, ['submit', '-o', 'a2.submitted.tlog-proof', 'a2.entry'], env);
  t.equal(sub.code, 0, `submit it (${sub.stderr})`);
  const ofEntry = await vitrine(dir, ['proof', '--json', 'a2.entry'], env);
  t.equal(ofEntry.code, 0, `proof FILE.entry exits 0 (${ofEntry.stderr})`);
  t.match(JSON.parse(ofEntry.stdout), { index: 2, out: 'a2.tlog-proof', checkpoint: { size: 3 } }, 'proves the entry at its index, next to the entry file');
  t.equal(readFileSync(join(dir, 'a2.tlog-proof'), 'utf8'), readFileSync(join(dir, 'a2.submitted.tlog-proof'), 'utf8'), 'the same bundle submit wrote (same tree)');
  const twoNames = await vitrine(dir, ['proof', '-o', '-', 'a.bin'], env);
  t.equal(twoNames.code, 2, 'an artifact logged under two names needs --name');
  t.match(twoNames.stderr, /the artifact is logged under several names \("pkg:generic\/a@1", "pkg:generic\/a@2"\): give --name/, 'and says which names');
  const named = await vitrine(dir, ['proof', '-o', '-', '--name', 'pkg:generic/a@2', 'a.bin'], env);
  t.match(named.stdout, /\nindex 2\n/, 'with --name, the entry of that name');
});
