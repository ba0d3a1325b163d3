/**
 * GET /v1/proof/inclusion reads its query on the raw fast path, splitting
 * a query without escapes itself and handing any other to URLSearchParams
 * (src/http/log-app.ts): both must read the same parameters, with the same
 * errors (docs/formats.md §7 and §10). And proofs at sizes whose right
 * edge has small subtrees outside any complete tile (read once from
 * storage, then from the service's cache) verify, asked once and again.
 */
import t from 'tap';
import { b64decode, hexEncode } from '../../src/encoding.js';
import { verifyInclusion } from '../../merkle/index.js';
import { refLeaf, refRoot } from './audit.js';
import { get, makeEntry, post, removeDir, startLog } from './harness.js';

t.test('inclusion proof queries: plain, escaped and malformed', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const entries = [makeEntry(), makeEntry(), makeEntry()];
  for (const e of entries) t.equal((await post(log.url, e)).status, 201, 'submitted');
  const leaf = hexEncode(refLeaf(entries[1]!));
  const proof = async (query: string) => {
    const r = await get(`${log.url}/v1/proof/inclusion?${query}`);
    return { status: r.status, json: JSON.parse(r.text) as Record<string, unknown> };
  };
  const expected = await proof(`leaf=${leaf}&size=3`);
  t.equal(expected.status, 200, 'a plain query answers');
  t.equal(expected.json['index'], 1, 'for the right entry');
  for (const q of [`size=3&leaf=${leaf}`, `leaf=${leaf}&size=%33`, `&&leaf=${leaf}&&size=3&`, `le%61f=${leaf}&size=3`]) {
    t.same(await proof(q), expected, `the same answer for ?${q}`);
  }
  const cases: Array<[string, string]> = [
    [`leaf=${leaf}&size=3&size=3`, 'query parameter size must be given once'],
    [`leaf=${leaf}&size=3&size`, 'query parameter size must be given once'],
    [`leaf=${leaf}&size=3&si%7Ae=3`, 'query parameter size must be given once'],
    [`leaf=${leaf}&size=3&x=1`, 'unknown query parameter "x"'],
    [`leaf=${leaf}&size=3&=1`, 'unknown query parameter ""'],
    [`leaf=${leaf}&size=3&a+b=1`, 'unknown query parameter "a b"'],
    [`size=3`, 'missing query parameter leaf'],
    [`leaf=${leaf}`, 'missing query parameter size'],
    [`leaf=${leaf}&size=`, 'size'],
  ];
  for (const [q, message] of cases) {
    const r = await proof(q);
    t.equal(r.status, 400, `?${q}: 400`);
    t.ok(String(r.json['message']).includes(message), `?${q}: ${message} (got ${String(r.json['message'])})`);
  }
});

t.test('inclusion proofs at sizes with a partial last tile, uncached and cached', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const entries = Array.from({ length: 300 }, () => makeEntry());
  // In order, so that index i holds entries[i].
  for (const e of entries) if ((await post(log.url, e)).status !== 201) t.fail('not submitted');
  const leaves = entries.map((e) => refLeaf(e));
  let checked = 0;
  for (const size of [1, 3, 5, 63, 100, 255, 256, 257, 263, 299, 300]) {
    const root = refRoot(leaves.slice(0, size));
    for (const index of new Set([0, Math.floor(size / 2), size - 2, size - 1].filter((i) => i >= 0))) {
      for (const pass of ['first', 'again']) {
        const r = await get(`${log.url}/v1/proof/inclusion?leaf=${hexEncode(leaves[index]!)}&size=${size}`);
        const a = JSON.parse(r.text) as { index: number; size: number; proof: string[] };
        if (r.status !== 200 || a.index !== index || a.size !== size) {
          t.fail(`size ${size}, leaf ${index}, ${pass}: ${r.status} ${r.text}`);
          continue;
        }
        try {
          verifyInclusion(leaves[index]!, index, size, a.proof.map((p) => b64decode(p, 'proof', 32)), root);
          checked++;
        } catch (err) {
          t.fail(`size ${size}, leaf ${index}, ${pass}: ${(err as Error).message}`);
        }
      }
    }
  }
  t.equal(checked, 80, 'every proof verifies against the reference root of its size');
});
