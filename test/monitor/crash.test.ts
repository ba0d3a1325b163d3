/**
 * Crash safety of the audit (ARCHITECTURE.md, monitor invariant 3): the
 * built monitor audits a log of a few thousand entries and is killed with
 * SIGKILL at random moments mid-audit, then restarted, until a run
 * finishes. Nothing may be skipped or audited twice: the audited counter
 * in the state equals the log size, each of the 10% of entries that break
 * the policy raised its alert exactly once (alerts.jsonl, the state), and
 * stdout never repeated one.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { bulkFill } from '../bench/_bulk.js';
import { ORIGIN, removeDir, startLog, tempDir } from '../log/harness.js';
import { BIN, jsonlAlerts, readState, writeJson } from './helpers.js';

const SIZE = 4000;

t.test('SIGKILL mid-audit, restart: nothing skipped, nothing audited twice', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds it first)');
  const dir = tempDir('vitrine-crash-');
  t.teardown(() => removeDir(dir));
  const { vkey } = bulkFill(join(dir, 'log'), ORIGIN, SIZE);
  const log = await startLog({ dir: join(dir, 'log') });
  t.teardown(() => log.close());
  // Every bulk entry whose index ends in 7 is "signed by the wrong key".
  const someoneElse = formatVerifier(verifierFromSigner(generateSigner('release-bot.example', nodeEd25519)));
  const policy = writeJson(join(dir, 'policy.json'), { rules: [{ names: ['pkg:generic/bulk@*7'], signers: [someoneElse] }] });
  const state = join(dir, 'st');
  const alertsBytes = (): number => (existsSync(join(state, 'alerts.jsonl')) ? statSync(join(state, 'alerts.jsonl')).size : 0);
  const args = ['monitor', '--state', state, '--log', log.url, '--log-key', vkey, '--policy', policy, '--once', '--chunk-bundles', '1', '--pace-ms', '40'];

  let stdout = '';
  let killedMidway = 0;
  let finished: number | null = null;
  for (let run = 0; run < 30 && finished === null; run++) {
    const child = spawn(process.execPath, [BIN, ...args, ...(run === 0 ? ['--init'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Kill at a random moment once the audit is under way (the first few runs only, so the test ends).
    if (run < 6) {
      // Wait for the first commit of this run (its alerts reach alerts.jsonl right after), then a random moment.
      // (The file only grows: its size is checked, not its ~400 lines parsed every 10 ms.)
      const before = alertsBytes();
      for (let i = 0; i < 1500 && alertsBytes() === before && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const code = await exit;
    if (code !== null) {
      finished = code;
      t.ok(code === 0 || code === 1, `the run that was not killed completes (exit ${code}: ${err.slice(-300)})`);
    } else {
      const s = readState(state).logs[0]!;
      if (s.position > 0 && s.position < SIZE) killedMidway++;
    }
  }
  t.ok(finished !== null, 'a run finished');
  t.ok(killedMidway >= 1, `at least one SIGKILL landed mid-audit (${killedMidway})`);

  const st = readState(state);
  const s = st.logs[0]!;
  t.equal(s.verified.size, SIZE, 'the whole log is verified');
  t.equal(s.position, SIZE, 'the position is at the end');
  t.equal(s.audited, SIZE, 'the audited counter equals the log size: no entry skipped or audited twice');

  const want = Array.from({ length: SIZE / 10 }, (_, i) => i * 10 + 7);
  const inFile = jsonlAlerts(state).map((a) => a.index!).sort((a, b) => a - b);
  t.same(inFile, want, 'alerts.jsonl holds exactly one alert per violating entry');
  t.same(st.alerts.map((a) => a.index!).sort((a, b) => a - b), want, 'so does the state');
  t.ok(jsonlAlerts(state).every((a) => a.kind === 'unexpected-signer'), 'all unexpected-signer');
  const printed = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).index as number);
  t.equal(new Set(printed).size, printed.length, 'stdout never printed an alert twice');
});
