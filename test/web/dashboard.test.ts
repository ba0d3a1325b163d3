/**
 * The monitor's dashboard in real Chromium (issue 13): a real log on port 0
 * that uses the monitor as its witness, a real `vitrine monitor --listen`
 * with a dead gossip peer, and a split view planted by gossiping a forged
 * checkpoint signed with the log's key. The page shows the audited size,
 * the security alert apart from the operational one, the peer, the
 * witness's cosigned size, and an evidence document that downloads and
 * passes `vitrine verify-evidence`. Every request stays on the monitor.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { sha256 } from '../../merkle/index.js';
import { utf8 } from '../../src/encoding.js';
import { CSP } from '../../src/http/web-routes.js';
import type { DashboardStatus } from '../../src/monitor/dashboard-status.js';
import { cosignerVerifier, formatCheckpoint, formatSigner, formatVerifier, generateSigner, verifierFromSigner, signNote } from '../../src/note/index.js';
import { makeEntry, ORIGIN, post, removeDir, startLog, tempDir } from '../log/harness.js';
import { cli } from '../monitor/helpers.js';
import { freePort, startProc, waitFor } from '../monitor/procs.js';
import { foreign, launch, screenshot } from './chromium.js';

t.test('the monitor dashboard shows logs, a planted split view with its evidence, peers and the witness', async (t) => {
  // Chromium starts while the log, the witness and the monitor start.
  const launching = launch(t);
  t.teardown(async () => (await launching.catch(() => undefined))?.close());
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

  const b = await launching;
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
  const seen = b.requests.length;
  await explorer.goto(`${log.url}/`);
  await explorer.locator('#witnesses li').first().waitFor();
  t.match(await explorer.locator('#witnesses').textContent(), /^witness\.test\.example cosigned at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, "the log's explorer shows the witness's cosignature, by name and time");
  t.same(foreign(b.requests.slice(seen), log.url), [], "the explorer's requests all went to the log");
  b.requests.splice(seen);
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
  t.same(foreign(b.requests, url), [], 'no request left the monitor under test');
});
