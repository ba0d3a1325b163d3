/**
 * GET /v1/proof/inclusion reads its query on the raw fast path, splitting
 * a query without escapes itself and handing any other to URLSearchParams
 * (src/http/log-app.ts): both must read the same parameters, with the same
 * errors (docs/formats.md §7 and §10).
 */
import t from 'tap';
import { hexEncode } from '../../src/encoding.js';
import { refLeaf } from './audit.js';
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
