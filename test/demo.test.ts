/**
 * docs/demo.sh, the whole picture on loopback (signer, log with quorum 2,
 * two witnessing monitors that gossip, verifier requiring both
 * cosignatures), must keep working: run it and check what it reports.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rootPath } from './_root.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One run of the demo on three ports that were free a moment ago. */
async function runDemo(): Promise<{ code: number | null; out: string }> {
  const [LOG_PORT, MON_A_PORT, MON_B_PORT] = [await freePort(), await freePort(), await freePort()];
  const child = spawn('bash', [rootPath('docs/demo.sh')], {
    env: { ...process.env, LOG_PORT: String(LOG_PORT), MON_A_PORT: String(MON_A_PORT), MON_B_PORT: String(MON_B_PORT) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  return { code, out };
}

t.test('docs/demo.sh runs end to end', async (t) => {
  // The demo's processes must know each other's ports before they start (the
  // monitors peer with each other), so it cannot listen on port 0. Another
  // test may take a port between freePort() and the demo's listen: only that
  // failure (EADDRINUSE) is run again, on new ports.
  let run = await runDemo();
  for (let tries = 1; run.code !== 0 && tries < 3 && /EADDRINUSE/.test(run.out); tries++) run = await runDemo();
  const { code, out } = run;
  t.equal(code, 0, `the demo exits 0\n${out}`);
  t.match(out, /logged at index 0/, 'the signer logged a release');
  t.match(out, /witnesses: witness-[ab]\.localhost, witness-[ab]\.localhost \(2 of 2, quorum 2\)/, 'the verifier saw both cosignatures');
  t.match(out, /step 1: The artifact's SHA-256/, 'the tampered artifact was refused at step 1');
  t.match(out, /== done/, 'the demo finished');
});
