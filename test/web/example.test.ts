/**
 * The documented example page (examples/browser) in real Chromium, served
 * with the log's CSP from a static server on port 0 that serves only the
 * example and dist/browser/vitrine.js: the reference bundle verifies with
 * the reference log key, and fails against a tampered artifact.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CSP } from '../../src/http/web-routes.js';
import { noteVectors, proofVectors, ROOT } from '../proof/_helpers.js';
import { foreign, launch } from './chromium.js';

const FILES: Record<string, [string, string]> = {
  '/examples/browser/index.html': ['examples/browser/index.html', 'text/html; charset=utf-8'],
  '/examples/browser/example.js': ['examples/browser/example.js', 'text/javascript; charset=utf-8'],
  '/dist/browser/vitrine.js': ['dist/browser/vitrine.js', 'text/javascript; charset=utf-8'],
};

t.test('the example page verifies a bundle with vitrine/browser', async (t) => {
  const server = createServer((req, res) => {
    const f = FILES[req.url ?? ''];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': f[1], 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' }).end(readFileSync(join(ROOT, f[0])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const b = await launch(t);
  if (!b) return;
  t.teardown(() => b.close());
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
  t.same(foreign(b.requests, url), [], 'the example fetched nothing from elsewhere');
});
