/**
 * End to end against a real log on 127.0.0.1 port 0: submissions (CBOR and
 * JSON), duplicates, bundles verified offline, tiles, entry bundles, proofs,
 * lookups, headers, /v1/log, /healthz and /metrics.
 */
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode, b64encode, hexEncode } from '../../src/encoding.js';
import { decodeEntry, entryToJson, keyHash } from '../../src/entry/index.js';
import { verifyConsistency, verifyInclusion } from '../../merkle/index.js';
import { openCheckpoint, parseVerifier, generateSigner } from '../../src/note/index.js';
import { verifyBundle } from '../../src/proof/index.js';
import { audit, refLeaf, refRoot } from './audit.js';
import { defaultSigner, get, makeEntry, post, removeDir, startLog } from './harness.js';

t.test('submit, read back and verify everything', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const vkey = log.opened.verifierKey;
  const info = (await get(`${log.url}/v1/log`)).text;
  t.same(JSON.parse(info), { origin: 'test.example/log', verifierKey: vkey, size: 0, rootHash: b64encode(refRoot([])), witnesses: [] }, 'a new log publishes the empty tree');

  const first = makeEntry();
  const r1 = await post(log.url, first);
  t.equal(r1.status, 201, 'a new entry answers 201');
  t.equal(r1.json.index, 0, 'the first entry gets index 0');
  t.equal(r1.json.entry, b64encode(first), 'the answer echoes the canonical entry');
  t.equal(r1.json.leafHash, b64encode(refLeaf(first)), 'leafHash is SHA-256(0x00 || entry)');
  const cp1 = openCheckpoint(r1.json.checkpoint, parseVerifier(vkey), nodeEd25519);
  t.equal(cp1.size, 1n, 'the checkpoint covers the entry');
  const v1 = verifyBundle({ digest: decodeEntry(first).digest }, r1.json.bundle, { logKey: vkey }, nodeEd25519);
  t.ok(v1.ok, `the bundle verifies offline${v1.ok ? '' : `: ${v1.message}`}`);

  // JSON form of a second entry.
  const second = makeEntry(defaultSigner, undefined, { version: '2.0.0', commit: 'abc123' });
  const r2 = await post(log.url, JSON.stringify(entryToJson(decodeEntry(second))), 'application/json');
  t.equal(r2.status, 201, 'a JSON submission answers 201');
  t.equal(r2.json.entry, b64encode(second), 'the log converts JSON to the same canonical CBOR');

  // Concurrent burst, including the same entry several times within one batch.
  const burst = Array.from({ length: 300 }, () => makeEntry());
  const dup = burst[7]!;
  const answers = await Promise.all([...burst, dup, dup].map((e) => post(log.url, e)));
  const statuses = answers.map((a) => a.status);
  t.equal(statuses.filter((s) => s === 201).length, 300, 'each distinct entry is added once');
  t.equal(statuses.filter((s) => s === 200).length, 2, 'in-batch duplicates answer 200');
  const dupIndexes = new Set(answers.filter((a) => a.json.entry === b64encode(dup)).map((a) => a.json.index));
  t.equal(dupIndexes.size, 1, 'every submission of the same entry gets the same index');
  const indexes = answers.filter((a) => a.status === 201).map((a) => a.json.index).sort((a, b) => a - b);
  t.same(indexes, Array.from({ length: 300 }, (_, i) => i + 2), 'indexes are dense and unique');
  for (const a of answers) {
    const e = b64decode(a.json.entry, 'entry');
    const res = verifyBundle({ digest: decodeEntry(e).digest }, a.json.bundle, { logKey: vkey }, nodeEd25519);
    if (!res.ok) t.fail(`bundle for index ${a.json.index} does not verify: ${res.message}`);
    const cp = openCheckpoint(a.json.checkpoint, parseVerifier(vkey), nodeEd25519);
    verifyInclusion(refLeaf(e), a.json.index, cp.size, a.json.inclusionProof.map((p: string) => b64decode(p, 'p')), cp.rootHash);
  }
  t.pass('every answer in the burst carries a verifying proof');

  // A later duplicate: 200, same index, fresh proof against the latest checkpoint.
  const again = await post(log.url, first);
  t.equal(again.status, 200, 'resubmitting answers 200');
  t.equal(again.json.index, 0, 'with the existing index');
  t.equal(openCheckpoint(again.json.checkpoint, parseVerifier(vkey), nodeEd25519).size, 302n, 'and a proof against the latest checkpoint');
  t.ok(verifyBundle({ digest: decodeEntry(first).digest }, again.json.bundle, { logKey: vkey }, nodeEd25519).ok, 'the fresh bundle verifies');

  const result = await audit(log.url, vkey, [r1.json.checkpoint, r2.json.checkpoint, answers[0]!.json.checkpoint]);
  t.equal(result.size, 302, 'the audit sees every entry');

  // Read endpoints and headers.
  const cp = await get(`${log.url}/checkpoint`);
  t.equal(cp.headers.get('content-type'), 'text/plain; charset=utf-8', '/checkpoint content type');
  t.equal(cp.headers.get('cache-control'), 'no-cache', '/checkpoint is not cached');
  const tile = await get(`${log.url}/tile/0/000`);
  t.equal(tile.status, 200, 'the first full tile exists at size 302');
  t.equal(tile.headers.get('content-type'), 'application/octet-stream', 'tile content type');
  t.equal(tile.headers.get('cache-control'), 'public, max-age=31536000, immutable', 'tiles are immutable');
  t.equal(tile.body.length, 256 * 32, 'a full tile holds 256 hashes');
  t.equal((await get(`${log.url}/tile/0/001`)).status, 404, 'an incomplete full tile is not served');
  t.equal((await get(`${log.url}/tile/0/001.p/46`)).status, 200, 'the right-edge partial tile is served');
  t.equal((await get(`${log.url}/tile/0/001.p/47`)).status, 404, 'a partial tile beyond the tree is not found');
  t.equal((await get(`${log.url}/tile/entries/000`)).headers.get('cache-control'), 'public, max-age=31536000, immutable', 'entry bundles are immutable');
  // Full tiles and bundles come from the read cache after the first request: the same bytes as stored.
  const hitsBefore = log.opened.service.readCache.hits;
  t.same((await get(`${log.url}/tile/0/000`)).body, new Uint8Array((await log.opened.storage.reader.fullTile(0, 0))!), 'a cached tile is the stored tile');
  t.same((await get(`${log.url}/tile/entries/000`)).body, new Uint8Array(await log.opened.service.entryBundle(0)), 'a cached bundle is the stored bundle');
  t.ok(log.opened.service.readCache.hits >= hitsBefore + 2, 'both came from the read cache');
  t.ok(log.opened.service.readCache.bytes <= 64 * 1024, 'which stays within its bound');

  const inc = JSON.parse((await get(`${log.url}/v1/proof/inclusion?leaf=${hexEncode(refLeaf(second))}&size=302`)).text);
  t.equal(inc.index, 1, 'inclusion proof by hex leaf hash');
  const b64url = b64encode(refLeaf(second)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, '');
  const inc2 = JSON.parse((await get(`${log.url}/v1/proof/inclusion?leaf=${b64url}&size=302`)).text);
  t.same(inc2, inc, 'the same proof by base64url leaf hash');
  verifyInclusion(refLeaf(second), 1, 302, inc.proof.map((p: string) => b64decode(p, 'p')), result.root);
  const cons = JSON.parse((await get(`${log.url}/v1/proof/consistency?from=2&to=302`)).text);
  verifyConsistency(2, 302, cons.proof.map((p: string) => b64decode(p, 'p')), openCheckpoint(r2.json.checkpoint, parseVerifier(vkey), nodeEd25519).rootHash, result.root);
  t.same(JSON.parse((await get(`${log.url}/v1/proof/consistency?from=302&to=302`)).text).proof, [], 'm == n gives an empty proof');

  const one = JSON.parse((await get(`${log.url}/v1/entries/1`)).text);
  t.same(one, { ...entryToJson(decodeEntry(second)), index: 1, leafHash: b64encode(refLeaf(second)), keyHash: keyHash(defaultSigner.publicKey) }, 'entry by index');

  // Lookups with paging.
  const kh = keyHash(defaultSigner.publicKey);
  const seen: number[] = [];
  let after: number | null = -1;
  while (after !== null) {
    const page = JSON.parse((await get(`${log.url}/v1/entries?key=${kh}&limit=100${after >= 0 ? `&after=${after}` : ''}`)).text);
    t.ok(page.entries.length <= 100, 'a page holds at most limit entries');
    seen.push(...page.entries.map((e: { index: number }) => e.index));
    after = page.next;
  }
  t.same(seen, Array.from({ length: 302 }, (_, i) => i), 'paging by key visits every entry once, in order');
  const byDigest = JSON.parse((await get(`${log.url}/v1/entries?digest=${hexEncode(decodeEntry(second).digest)}`)).text);
  t.same(byDigest.entries.map((e: { index: number }) => e.index), [1], 'lookup by digest');
  t.equal(byDigest.next, null, 'no next page');
  const byName = JSON.parse((await get(`${log.url}/v1/entries?name=${encodeURIComponent(decodeEntry(second).name)}`)).text);
  t.same(byName.entries.map((e: { index: number }) => e.index), [1], 'lookup by exact name');
  const other = generateSigner('other.example', nodeEd25519);
  t.same(JSON.parse((await get(`${log.url}/v1/entries?key=${keyHash(other.publicKey)}`)).text), { entries: [], next: null }, 'unknown key: empty page');

  t.equal((await get(`${log.url}/healthz`)).text, 'ok', '/healthz');
  const metrics = (await get(`${log.url}/metrics`)).text;
  for (const name of ['vitrine_submissions_total', 'vitrine_batch_entries', 'vitrine_batch_commit_seconds', 'vitrine_tree_size', 'vitrine_pool_depth', 'vitrine_http_request_duration_seconds']) {
    t.match(metrics, name, `/metrics exposes ${name}`);
  }
  t.match(metrics, /vitrine_submissions_total\{outcome="new"\} 302/, 'new submissions are counted');
  t.match(metrics, /vitrine_read_cache_lookups_total\{result="hit"\} [1-9]/, 'read-cache hits are counted');
  t.match(metrics, /vitrine_read_cache_bytes [1-9]/, 'and the bytes it holds');
});

t.test('restart keeps every entry and serves the same checkpoint', async (t) => {
  const log = await startLog();
  const entries = Array.from({ length: 20 }, () => makeEntry());
  const answers = await Promise.all(entries.map((e) => post(log.url, e)));
  const before = (await get(`${log.url}/checkpoint`)).text;
  const dir = log.dir;
  await log.close();
  const again = await startLog({ dir });
  t.teardown(async () => {
    await again.close();
    removeDir(dir);
  });
  t.equal((await get(`${again.url}/checkpoint`)).text, before, 'the same signed checkpoint after restart');
  for (const a of answers) {
    const got = JSON.parse((await get(`${again.url}/v1/entries/${a.json.index}`)).text);
    t.equal(got.leafHash, a.json.leafHash, `entry ${a.json.index} is where it was acknowledged`);
  }
  const next = await post(again.url, makeEntry());
  t.equal(next.json.index, 20, 'appending continues after the last index');
  await audit(again.url, again.opened.verifierKey, [before]);
});
