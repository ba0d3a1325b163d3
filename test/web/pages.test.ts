/**
 * The pages of Vitrine in one real Chromium (issue 13), each against real
 * servers on port 0.
 *
 * The log's pages against a real log:
 * the explorer shows the right size; search finds entries by name, digest,
 * signer key and fingerprint, and index; an entry page verifies in the
 * browser, and a log made to serve a wrong proof shows
 * data-verified="false"; the verify page accepts a real artifact and its
 * .tlog-proof and rejects a tampered artifact and a wrong log key. Every
 * request the pages make must go to the server under test. Headers: strict
 * CSP, nosniff, cache. And the documented example page (examples/browser),
 * served with the log's CSP by a static server that serves only the
 * example and dist/browser/vitrine.js: the reference bundle verifies with
 * the reference log key, and a tampered artifact does not.
 *
 * The monitor's dashboard: a real log that uses the monitor as its
 * witness, a real `vitrine monitor --listen` with a dead gossip peer, and a
 * split view planted by gossiping a forged checkpoint signed with the log's
 * key. The page shows the audited size, the security alert apart from the
 * operational one, the peer, the witness's cosigned size, and an evidence
 * document that downloads and passes `vitrine verify-evidence`. Every
 * request stays on the monitor.
 *
 * (One file, so that the tests share one Chromium; the entry kinds have
 * their own file, kinds.test.ts.)
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntry, signEntry } from '../../src/entry/index.js';
import { sha256 } from '../../merkle/index.js';
import { b64decode, b64encode, hexEncode, utf8 } from '../../src/encoding.js';
import { cosignerVerifier, formatCheckpoint, formatSigner, formatVerifier, generateSigner, signNote, verifierFromSigner } from '../../src/note/index.js';
import { CSP } from '../../src/http/web-routes.js';
import type { DashboardStatus } from '../../src/monitor/dashboard-status.js';
import { defaultSigner, makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from '../log/harness.js';
import { cli } from '../monitor/helpers.js';
import { freePort, startProc, waitFor } from '../monitor/procs.js';
import { noteVectors, proofVectors, ROOT } from '../proof/_helpers.js';
import type { BrowserContext, Page } from 'playwright-core';
import type { Test } from 'tap';
import { foreign, launch, narrowWidths, newVerdict, resultsShownFor, screenshot, type Browser } from './chromium.js';

const ARTIFACTS = ['the first release', 'the second release', 'the third release'];

// One Chromium for the file (launching it costs more CPU than a test's
// pages); each test opens its own page and counts its own requests.
let shared: Browser | undefined;
let launched = false;
t.teardown(() => shared?.close());
async function browser(t: Test): Promise<{ page: Page; context: BrowserContext; requests: () => string[] } | undefined> {
  if (!launched) {
    launched = true;
    shared = await launch(t);
  }
  if (!shared) return undefined;
  const b = shared;
  const page = b.page.isClosed() ? await b.context.newPage() : b.page;
  t.teardown(() => page.close());
  const from = b.requests.length;
  return { page, context: b.context, requests: () => b.requests.slice(from) };
}
const NAMES = ['pkg:npm/left-pad@1.0.0', 'pkg:npm/left-pad@1.1.0', 'pkg:generic/tool@2.0.0'];

t.test('the explorer, an entry, search and the verify page in Chromium', async (t) => {
  const opening = browser(t); // Chromium starts while the log starts and takes its entries
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  const bundles: string[] = [];
  for (let i = 0; i < ARTIFACTS.length; i++) {
    const entry = encodeEntry(signEntry({ name: NAMES[i]!, digest: sha256(utf8(ARTIFACTS[i]!)), annotations: { commit: `c0ffee${i}` } }, defaultSigner.seed, nodeEd25519));
    const answer = await post(log.url, entry);
    t.equal(answer.status, 201, `entry ${i} logged`);
    bundles.push(answer.json.bundle as string);
  }
  const vkey = log.opened.verifierKey;

  const b = await opening;
  if (!b) return;
  const { page } = b;
  // Usable, checked on the page shown once it has shown everything: every input labelled, and nothing wider than a phone.
  const usable = async (path: string) => {
    t.equal(new URL(page.url()).pathname, path, `${path} is the page shown`);
    const unlabelled = await page.$$eval('input, textarea', (els) => els.filter((e) => (e as unknown as { labels: { length: number } | null }).labels?.length === 0).map((e) => e.id));
    t.same(unlabelled, [], `every input of ${path} has a label`);
    const { scroll, width } = await narrowWidths(page);
    t.ok(scroll <= width, `${path} fits a 360 px wide window (${scroll} <= ${width})`);
  };

  // The explorer: size, checkpoint signature, recent entries; and its headers.
  const res = await page.goto(`${log.url}/`);
  t.equal(res?.status(), 200, 'GET / answers 200');
  const h = res!.headers();
  t.equal(h['content-security-policy'], CSP, 'the page carries the strict CSP');
  t.match(CSP, /script-src 'self';/, "scripts from the log's origin only, no inline script");
  t.notMatch(CSP, /unsafe-inline|unsafe-eval|https?:/, 'nothing inline, no other origin');
  t.equal(h['x-content-type-options'], 'nosniff', 'nosniff');
  t.equal(h['cache-control'], 'no-cache', 'the page is revalidated');
  await page.locator('#size').waitFor();
  t.equal(await page.locator('#size').getAttribute('data-size'), '3', 'the explorer shows the size of the log');
  t.match(await page.locator('#log-signature').textContent(), /^valid, checked in your browser/, 'the checkpoint signature is checked in the browser');
  t.equal(await page.locator('#recent tbody tr').count(), 3, 'the three entries are listed as recent');
  const assets = b.requests().filter((u) => u.includes('/assets/'));
  t.ok(assets.length >= 2, 'the page loaded its script and style');
  const asset = await page.request.get(assets.find((u) => u.endsWith('.js'))!);
  t.equal(asset.headers()['cache-control'], 'public, max-age=31536000, immutable', 'a hashed asset is immutable');
  t.equal(asset.headers()['content-type'], 'text/javascript; charset=utf-8', 'with its type');
  t.equal(asset.headers()['x-content-type-options'], 'nosniff', 'and nosniff');
  await screenshot(page, 'explorer');

  // Search, typed with the keyboard into the explorer's box, one search after another: by name,
  // digest, signer vkey, fingerprint, index. Each runs in place: the address shows the query,
  // and #results says which query it shows (data-query) once it shows it.
  const search = async (q: string): Promise<string[]> => {
    await page.fill('#q', '');
    await page.locator('#q').focus();
    await page.keyboard.type(q);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('q') === q);
    await showsResultsFor(q);
    return page.locator('#results tbody tr td:first-child a').allTextContents();
  };
  const showsResultsFor = (q: string) => resultsShownFor(page, q);
  const loadsBefore = b.requests().filter((u) => new URL(u).pathname === '/').length;
  t.same(await search(NAMES[1]!), ['1'], 'search finds an entry by name');
  t.same(await search(hexEncode(sha256(utf8(ARTIFACTS[2]!)))), ['2'], 'search finds an entry by artifact digest');
  t.same(await search(formatVerifier(verifierFromSigner(defaultSigner))), ['2', '1', '0'], "search finds a signer's entries by its vkey");
  t.same(await search(b64encode(defaultSigner.publicKey)), ['2', '1', '0'], 'and by its raw public key');
  t.same(await search(hexEncode(sha256(defaultSigner.publicKey))), ['2', '1', '0'], 'and by its fingerprint');
  t.same(await search('0'), ['0'], 'search finds an entry by index');
  t.same(await search('pkg:npm/nothing@0'), [], 'an unknown name finds nothing');
  t.ok(await page.locator('#no-results').isVisible(), 'and says so');
  t.equal(b.requests().filter((u) => new URL(u).pathname === '/').length, loadsBefore, 'the searches ran in place, without loading the page again');
  await page.goBack();
  t.equal(new URL(page.url()).searchParams.get('q'), '0', 'Back returns to the previous search');
  await showsResultsFor('0');
  t.same(await page.locator('#results tbody tr td:first-child a').allTextContents(), ['0'], 'and shows its results again');

  // An entry page verifies in the browser.
  await page.goto(`${log.url}/entry/1`);
  const verdict = page.locator('#verdict');
  await verdict.waitFor();
  t.equal(await verdict.getAttribute('data-verified'), 'true', 'entry 1 verifies in the browser');
  t.equal(await page.locator('#name').textContent(), NAMES[1], 'the entry page shows the name');
  t.equal(await page.locator('#kind').textContent(), 'vitrine', 'and the kind');
  t.match(await page.locator('#entry').textContent(), /annotations\.commit\s*c0ffee1/, 'and the annotations');
  t.equal(await page.locator('.step[data-state=passed]').count(), 5, 'all five steps passed');
  await screenshot(page, 'entry');
  const missing = await page.request.get(`${log.url}/entry/01`);
  t.equal(missing?.status(), 404, 'a non-canonical index is not a page');

  // The verify page, one page for the three checks: a real artifact and its bundle; a tampered artifact; a wrong log key.
  await page.goto(`${log.url}/verify`);
  const verify = async (artifact: string, key: string) => {
    await page.setInputFiles('#artifact', { name: 'release.tgz', mimeType: 'application/octet-stream', buffer: Buffer.from(artifact) });
    await page.setInputFiles('#proof', { name: 'release.tgz.tlog-proof', mimeType: 'text/plain', buffer: Buffer.from(bundles[0]!) });
    await page.fill('#log-key', key);
    const before = b.requests().length;
    await newVerdict(page, () => page.click('#verify'));
    t.equal(b.requests().length, before, 'checking a file makes no request at all');
    return { verified: await page.locator('#verdict').getAttribute('data-verified'), text: (await page.locator('#result').textContent()) ?? '' };
  };
  const good = await verify(ARTIFACTS[0]!, vkey);
  t.equal(good.verified, 'true', 'the verify page accepts the real artifact and bundle');
  t.match(good.text, new RegExp(`entry 0 of ${log.opened.service.origin.replace(/[.]/g, '\\.')}`), 'and says which entry of which log');
  t.match(await page.locator('#pinned').textContent(), vkey, 'the pinned key is shown');
  await screenshot(page, 'verify');
  const tampered = await verify(`${ARTIFACTS[0]!}!`, vkey);
  t.equal(tampered.verified, 'false', 'a tampered artifact is rejected');
  t.match(tampered.text, /step 1/, 'at step 1');
  const other = formatVerifier(verifierFromSigner(generateSigner(log.opened.service.origin, nodeEd25519)));
  const wrongKey = await verify(ARTIFACTS[0]!, other);
  t.equal(wrongKey.verified, 'false', 'a wrong log key is rejected');
  t.match(wrongKey.text, /step 4/, 'at step 4, the log signature');
  t.match(await page.locator('.warning').textContent(), /cannot vouch for the log/, "the page says the log's page cannot vouch for the log");
  await usable('/verify');

  // With a pinned key that is not the log's, the explorer's entry page does not verify.
  await page.goto(`${log.url}/entry/0`);
  await page.locator('#verdict').waitFor();
  t.equal(await page.locator('#verdict').getAttribute('data-verified'), 'false', 'an entry checked with a pinned key the log does not sign with is not verified');
  t.match(await page.locator('#key').textContent(), /you pinned/, 'and the page names the pinned key');
  await usable('/entry/0');
  await page.goto(`${log.url}/`);
  await page.locator('#recent tbody tr').first().waitFor(); // the last thing the explorer shows
  await usable('/');

  t.same(foreign(b.requests(), log.url), [], 'no request left the log under test');
});

t.test('an entry page shows data-verified="false" when the log serves a wrong proof', async (t) => {
  const log = await startLog();
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  for (let i = 0; i < 5; i++) {
    const entry = encodeEntry(signEntry({ name: `pkg:generic/x@${i}`, digest: sha256(utf8(`x${i}`)) }, defaultSigner.seed, nodeEd25519));
    t.equal((await post(log.url, entry)).status, 201);
  }
  // The server under test: the real log, except that inclusion proofs have one hash flipped.
  const lying = createServer((req, res) => {
    void (async () => {
      const upstream = await fetch(`${log.url}${req.url}`);
      let body = Buffer.from(await upstream.arrayBuffer());
      if (req.url?.startsWith('/v1/proof/inclusion') && upstream.status === 200) {
        const proof = JSON.parse(body.toString()) as { proof: string[] };
        const h = b64decode(proof.proof[0]!, 'hash', 32);
        h[0] ^= 1;
        proof.proof[0] = b64encode(h);
        body = Buffer.from(JSON.stringify(proof));
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') headers[k] = v;
      });
      res.writeHead(upstream.status, headers).end(body);
    })();
  });
  await new Promise<void>((r) => lying.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => lying.close(r).closeAllConnections()));
  const url = `http://127.0.0.1:${(lying.address() as AddressInfo).port}`;

  const b = await browser(t);
  if (!b) return;
  await b.page.goto(`${url}/entry/2`);
  await b.page.locator('#verdict').waitFor();
  t.equal(await b.page.locator('#verdict').getAttribute('data-verified'), 'false', 'the wrong proof is caught in the browser');
  t.match(await b.page.locator('#verdict').textContent(), /step 3/, 'at step 3, the inclusion proof');
  t.equal(await b.page.locator('.step[data-state=failed]').count(), 1, 'one step is marked failed');
  t.same(foreign(b.requests(), url), [], 'no request left the server under test');
});

const EXAMPLE: Record<string, [string, string]> = {
  '/examples/browser/index.html': ['examples/browser/index.html', 'text/html; charset=utf-8'],
  '/examples/browser/example.js': ['examples/browser/example.js', 'text/javascript; charset=utf-8'],
  '/dist/browser/vitrine.js': ['dist/browser/vitrine.js', 'text/javascript; charset=utf-8'],
};

t.test('the example page verifies a bundle with vitrine/browser', async (t) => {
  const server = createServer((req, res) => {
    const f = EXAMPLE[req.url ?? ''];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': f[1], 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' }).end(readFileSync(join(ROOT, f[0])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // The browser outlives this test (the next may use it) and may hold an idle connection open: close it too.
  t.teardown(() => new Promise((r) => server.close(r).closeAllConnections()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const b = await browser(t);
  if (!b) return;
  const pv = proofVectors();
  const nv = noteVectors();
  const run = async (artifact: string) => {
    await b.page.goto(`${url}/examples/browser/index.html`);
    await b.page.setInputFiles('#artifact', { name: 'demo', mimeType: 'application/octet-stream', buffer: Buffer.from(artifact) });
    await b.page.setInputFiles('#proof', { name: 'demo.tlog-proof', mimeType: 'text/plain', buffer: Buffer.from(pv.bundle) });
    await b.page.fill('#key', nv.log.vkey);
    await b.page.click('button[type=submit]');
    await b.page.locator('#result[data-verified]').waitFor();
    return [await b.page.locator('#result').getAttribute('data-verified'), await b.page.locator('#result').textContent()];
  };
  const [ok, text] = await run(pv.bundleArtifact);
  t.equal(ok, 'true', `the reference bundle verifies (${text})`);
  const [bad, why] = await run(`${pv.bundleArtifact}.`);
  t.equal(bad, 'false', 'a tampered artifact does not');
  t.match(why, /step 1/, 'at step 1');
  t.same(foreign(b.requests(), url), [], 'the example fetched nothing from elsewhere');
});

t.test('the monitor dashboard shows logs, a planted split view with its evidence, peers and the witness', async (t) => {
  const dir = tempDir();
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const keyFile = join(dir, 'log.key');
  writeFileSync(keyFile, `${formatSigner(logSigner)}\n`, { mode: 0o600 });
  // The witness's key, as `vitrine keygen --cosigner` writes it (that command is tested in cli-keygen).
  const witnessSigner = generateSigner('witness.test.example', nodeEd25519);
  writeFileSync(join(dir, 'w.key'), `${formatSigner(witnessSigner)}\n`, { mode: 0o600 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = await startLog({ keyFile, witnesses: [{ url, verifier: cosignerVerifier(witnessSigner) }], quorum: 0, witnessRetryMs: 200 });
  t.teardown(async () => {
    await log.close();
    removeDir(log.dir);
  });
  for (let i = 0; i < 4; i++) t.equal((await post(log.url, makeEntry())).status, 201, `entry ${i} logged`);
  const vkey = log.opened.verifierKey;
  const deadPeer = `http://127.0.0.1:${await freePort()}`;
  const mon = startProc([
    'monitor', '--state', join(dir, 'mon'), '--init', '--log', log.url, '--log-key', vkey, '--listen', `127.0.0.1:${port}`,
    '--witness-key', join(dir, 'w.key'), '--peer', deadPeer, '--interval', '1', '--peer-timeout', '1', '--workers', '0',
  ]);
  t.teardown(() => mon.stop('SIGKILL'));
  await mon.waitEvent('listen');
  const status = async () => (await (await fetch(`${url}/v1/status`)).json()) as DashboardStatus;
  await waitFor('the monitor to audit the 4 entries', async () => ((await status()).logs[0]?.verifiedSize === 4 ? true : undefined));
  await waitFor('the witness to cosign size 4', async () => ((await status()).witness?.logs[0]?.size === '4' ? true : undefined));

  // The split view: a checkpoint of the same size with another root, signed with the log's key.
  const forged = signNote(formatCheckpoint({ origin: ORIGIN, size: 4n, rootHash: sha256(utf8('another tree')) }), [logSigner], nodeEd25519);
  const gossip = await fetch(`${url}/v1/gossip`, { method: 'POST', body: forged });
  t.equal(gossip.status, 409, 'the monitor proves the split view');
  await waitFor('the peer to be marked unreachable', async () => ((await status()).peers[0]?.downSince ? true : undefined));

  // Acknowledge the split view while the monitor runs (its control socket); the peer alert stays open.
  const splitSeq = (await status()).alerts.find((a) => a.kind === 'split-view')!.seq;
  const peerSeq = (await status()).alerts.find((a) => a.kind === 'peer-unreachable')!.seq;
  const ack = await cli(['monitor', 'ack', '--state', join(dir, 'mon'), String(splitSeq), '--by', 'alice@ops', '--json']);
  t.same(JSON.parse(ack.stdout).acknowledged, [splitSeq], `vitrine monitor ack acknowledges the split view on the running monitor (${ack.stderr.trim()})`);
  const listed = await cli(['monitor', 'alerts', '--state', join(dir, 'mon'), '--json']);
  const acked = (JSON.parse(listed.stdout) as Array<{ id: number; acknowledged: { by: string; at: string } | null }>).find((a) => a.id === splitSeq)!.acknowledged!;
  t.equal(acked.by, 'alice@ops', 'the state records who acknowledged it');

  const b = await browser(t);
  if (!b) return;
  const { page } = b;
  const res = await page.goto(`${url}/`);
  t.equal(res?.status(), 200, 'GET / on the monitor answers the dashboard');
  t.equal(res?.headers()['content-security-policy'], CSP, 'with the strict CSP');
  t.equal(res?.headers()['x-content-type-options'], 'nosniff', 'and nosniff');
  await page.locator('#logs table').waitFor();
  t.equal(await page.locator(`.audited-size[data-origin="${ORIGIN}"]`).textContent(), '4', 'the audited size of the log');
  t.match(await page.locator('#logs').textContent(), /100\.0% \(4 of 4\)/, 'and its catch-up progress');
  t.equal(await page.locator('#security [data-kind="split-view"]').count(), 1, 'the split view is listed as a security alert');
  t.equal(await page.locator('#operational [data-kind="split-view"]').count(), 0, 'and not as an operational one');
  t.equal(await page.locator('#operational [data-kind="peer-unreachable"]').count(), 1, 'the dead peer is an operational alert');
  const splitState = page.locator(`#security .alert-state[data-seq="${splitSeq}"]`);
  t.equal(await splitState.getAttribute('data-acknowledged'), 'true', 'the split view shows as acknowledged');
  t.match(await splitState.textContent(), `alert ${splitSeq}: acknowledged by alice@ops at ${acked.at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}`, 'by whom and when, as the state records it');
  const peerState = page.locator(`#operational .alert-state[data-seq="${peerSeq}"]`);
  t.equal(await peerState.getAttribute('data-acknowledged'), 'false', 'the peer alert shows as not acknowledged');
  t.match(await peerState.textContent(), `alert ${peerSeq}: not acknowledged`, 'and says so');
  t.match(await page.locator('#peers').textContent(), new RegExp(`${deadPeer.replace(/[.]/g, '\\.')}.*unreachable since`), 'the peer and its state');
  t.match(await page.locator('#witness').textContent(), /witness\.test\.example.*test\.example\/log4/, "the witness's name and cosigned size");
  await screenshot(page, 'dashboard');

  // The log's explorer names the witness that cosigned its checkpoint (its own requests checked against the log).
  const explorer = await b.context.newPage();
  const explorerRequests: string[] = [];
  explorer.on('request', (r) => explorerRequests.push(r.url()));
  await explorer.goto(`${log.url}/`);
  await explorer.locator('#witnesses li').first().waitFor();
  t.match(await explorer.locator('#witnesses').textContent(), /^witness\.test\.example cosigned at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, "the log's explorer shows the witness's cosignature, by name and time");
  t.same(foreign(explorerRequests, log.url), [], "the explorer's requests all went to the log");
  await explorer.close();

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#evidence a.evidence-link').first().click()]);
  const saved = join(dir, 'evidence.json');
  await download.saveAs(saved);
  const [check, other] = await Promise.all([
    cli(['verify-evidence', '--log-key', vkey, saved]),
    cli(['verify-evidence', '--log-key', formatVerifier(verifierFromSigner(generateSigner(ORIGIN, nodeEd25519))), saved]),
  ]);
  t.equal(check.status, 0, `the downloaded evidence passes vitrine verify-evidence (${check.stdout.trim()}${check.stderr.trim()})`);
  t.equal(other.status, 1, 'and it proves nothing against another key of the same name');

  const missing = await fetch(`${url}/v1/evidence/7`);
  t.equal(missing.status, 404, 'an evidence document that is not held: 404');
  t.same(foreign(b.requests().filter((u) => !explorerRequests.includes(u)), url), [], 'no request left the monitor under test');
});
