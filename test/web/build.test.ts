/**
 * What `npm run build` ships for browsers (scripts/build-web.mjs): the
 * `vitrine/browser` module within its 150 KB budget, importing nothing, and
 * verifying the reference bundle and evidence as an ES module; the pages
 * with no inline script or style; and the page router's answers to paths
 * that are not pages. The generic entry description shows every field the
 * decoder returns.
 */
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry, encodeEntry, signEntry } from '../../src/entry/index.js';
import { sha256 } from '../../merkle/index.js';
import { hexEncode } from '../../src/encoding.js';
import { describeEntry } from '../../src/browser/describe.js';
import { defaultSigner, get, removeDir, startLog } from '../log/harness.js';
import { noteVectors, proofVectors, ROOT, utf8 } from '../proof/_helpers.js';

const BUNDLE = join(ROOT, 'dist/browser/vitrine.js');

t.test('vitrine/browser: one ES module within budget that verifies the reference vectors', async (t) => {
  const size = statSync(BUNDLE).size;
  t.ok(size <= 150 * 1024, `dist/browser/vitrine.js is ${size} bytes, within 150 KB`);
  const code = readFileSync(BUNDLE, 'utf8');
  t.notMatch(code, /\bimport\s*[^(]*from\s*["']|\brequire\(|import\(\s*["']/, 'it imports nothing');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
  t.equal(pkg.exports['./browser']?.default, './dist/browser/vitrine.js', 'package.json exports it as vitrine/browser');

  const lib = (await import(pathToFileURL(BUNDLE).href)) as typeof import('../../src/browser/index.js');
  const pv = proofVectors();
  const nv = noteVectors();
  const policy = { logKey: nv.log.vkey, witnesses: [nv.witness.vkey], quorum: 1 };
  const ok = lib.verifyBundle(utf8(pv.bundleArtifact), pv.bundle, policy);
  t.ok(ok.ok, 'the reference bundle verifies');
  t.same(lib.stepStates(ok), ['passed', 'passed', 'passed', 'passed', 'passed'], 'all five steps pass');
  const bad = lib.verifyBundle(utf8(`${pv.bundleArtifact}x`), pv.bundle, policy);
  t.same([bad.ok, lib.stepStates(bad)], [false, ['failed', 'not run', 'not run', 'not run', 'not run']], 'another artifact fails step 1, the rest does not run');
  t.ok(lib.verifyEvidence(JSON.stringify(pv.evidence['sameSize']), nv.log.vkey).ok, 'the reference evidence proves a split view');
});

t.test('the pages carry no inline script or style and load nothing from elsewhere', async (t) => {
  const dir = join(ROOT, 'dist/web');
  const pages = readdirSync(dir).filter((f) => f.endsWith('.html'));
  t.same(pages.sort(), ['dashboard.html', 'entry.html', 'index.html', 'verify.html'], 'four pages are built');
  for (const p of pages) {
    const html = readFileSync(join(dir, p), 'utf8');
    t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, `${p}: no inline script`);
    t.notMatch(html, /<style|\sstyle=|\son[a-z]+=/i, `${p}: no inline style or handler`);
    t.notMatch(html, /(src|href)="(https?:)?\/\//, `${p}: nothing from another origin`);
  }
});

t.test('the log answers 404 for what is not a page, and the pages with their headers', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  for (const path of ['/entry/', '/entry/-1', '/entry/1.0', '/entry/99999999999999999', '/verify/', '/index.html', '/assets/style.css', '/assets/0123456789abcdef/style.css', '/assets/../package.json']) {
    const r = await get(`${log.url}${path}`);
    t.equal(r.status, 404, `${path}: 404`);
    t.match(r.headers.get('content-type'), /application\/json/, `${path}: a JSON error`);
  }
  const page = await get(`${log.url}/verify`);
  t.equal(page.status, 200, '/verify is a page');
  t.equal(page.headers.get('x-frame-options'), 'DENY', 'it may not be framed');
  t.equal(page.headers.get('referrer-policy'), 'no-referrer', 'and sends no referrer');
  const asset = /src="(\/assets\/[0-9a-f]{16}\/verify\.js)"/.exec(page.text)?.[1];
  t.ok(asset, 'the page names its script by content hash');
  const js = await get(`${log.url}${asset}`);
  t.equal(js.text, readFileSync(join(ROOT, 'dist/web/verify.js'), 'utf8'), 'and that path serves the built script');
  t.equal(hexEncode(sha256(js.body)).slice(0, 16), asset!.split('/')[2], 'under the hash of its content');
  const post = await fetch(`${log.url}/verify`, { method: 'POST', body: 'x' });
  t.equal(post.status, 404, 'a page does not take POST');
});

t.test('describeEntry lists every field of the decoded entry, nested ones by path', async (t) => {
  const entry = decodeEntry(encodeEntry(signEntry({ name: 'pkg:npm/a@1', digest: sha256(utf8('a')), annotations: { commit: 'abc', builder: 'ci' } }, defaultSigner.seed, nodeEd25519)));
  const d = describeEntry(entry);
  t.equal(d.kind, 'vitrine', 'a v1 entry is of kind vitrine, as entryKind names it');
  t.equal(d.fingerprint, hexEncode(sha256(defaultSigner.publicKey)), "the fingerprint is the SHA-256 of the signer's key");
  const rows = Object.fromEntries(d.rows.map((r) => [r.field, r.value]));
  t.equal(rows['digest'], hexEncode(sha256(utf8('a'))), 'the digest in hex');
  t.equal(rows['key'], Buffer.from(defaultSigner.publicKey).toString('base64'), 'the key in base64');
  t.equal(rows['annotations.commit'], 'abc', 'annotations by path');
  t.equal(rows['annotations.builder'], 'ci', 'every annotation');
  const future = describeEntry({ ...entry, kind: 'dsse', subjects: [{ name: 'x', digest: sha256(utf8('x')) }] } as typeof entry);
  t.equal(future.kind, 'dsse', 'a kind the decoder names is shown');
  t.ok(future.rows.some((r) => r.field === 'subjects[0].digest' && r.value === hexEncode(sha256(utf8('x')))), 'and fields this file has never heard of');
});

t.test('entryBundleOf and entryFromBundle find an entry in its c2sp.org/tlog-tiles bundle', async (t) => {
  const lib = (await import(pathToFileURL(BUNDLE).href)) as typeof import('../../src/browser/index.js');
  t.same(lib.entryBundleOf(3, 600n), { path: '/tile/entries/000', width: 256 }, 'a full bundle');
  t.same(lib.entryBundleOf(300, 600n), { path: '/tile/entries/001', width: 256 }, 'the second full bundle');
  t.same(lib.entryBundleOf(520, 600n), { path: '/tile/entries/002.p/88', width: 88 }, 'the partial bundle on the right edge (600 - 512 = 88)');
  t.same(lib.entryBundleOf(256 * 1000 + 1, 256n * 1000n + 2n), { path: '/tile/entries/x001/000.p/2', width: 2 }, 'an index past 256^2 takes an x-segment');
  const entries = [utf8('a'), new Uint8Array(0), utf8('ccc')];
  const data = new Uint8Array([0, 1, 97, 0, 0, 0, 3, 99, 99, 99]);
  t.same([0, 1, 2].map((i) => Array.from(lib.entryFromBundle(data, 3, 512 + i))), entries.map((e) => Array.from(e)), 'each entry by its index');
  t.throws(() => lib.entryFromBundle(data, 4, 0), /holds 3 entries, want 4/, 'a short bundle is refused');
  t.throws(() => lib.entryFromBundle(data.subarray(0, 9), 3, 0), /cut short/, 'a cut one too');
});
