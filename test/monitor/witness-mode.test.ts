/**
 * Monitors as witnesses: a log (`vitrine serve --witness ... --quorum 2`)
 * cosigned by two `vitrine monitor --witness-key` processes. Bundles verify
 * offline with both witness keys; with one witness monitor stopped,
 * submissions answer 503 and none is lost; restarted, it cosigns again.
 * Plus a smoke test of the monitor's add-checkpoint statuses (200, then 409
 * with Content-Type exactly text/x.tlog.size).
 *
 * The log and the monitors are `vitrine` processes; `keygen` and `verify`
 * run in this process (test/_cli.ts vitrineIn: the same program without a
 * process start each; the cli-* tests run them as the binary).
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEntry, post, removeDir, tempDir, get } from '../log/harness.js';
import { vitrineIn } from '../_cli.js';
import { freePort, startProc, type Proc } from './procs.js';

const ORIGIN = 'witnessed.example/log';

t.test('a log witnessed by two monitors, quorum 2', async (t) => {
  const dir = tempDir('vitrine-wmode-');
  const procs: Proc[] = [];
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    removeDir(dir);
  });
  const cli = async (args: string[]) => {
    const r = await vitrineIn(dir, args);
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  const logKeyFile = join(dir, 'log.key');
  const kg = await cli(['keygen', '--name', ORIGIN, '--out', logKeyFile]);
  t.equal(kg.status, 0, 'log keygen succeeds');
  const vkey = kg.stdout.trim();
  const wvkeys: string[] = [];
  for (const i of [1, 2]) {
    const r = await cli(['keygen', '--name', `w${i}.example`, '--out', join(dir, `w${i}.key`), '--cosigner']);
    t.equal(r.status, 0, `witness ${i} keygen succeeds`);
    wvkeys.push(r.stdout.trim());
  }
  const [logPort, p1, p2] = [await freePort(), await freePort(), await freePort()];
  const logUrl = `http://127.0.0.1:${logPort}`;
  const wurl = [p1, p2].map((p) => `http://127.0.0.1:${p}`);
  const monitorArgs = (i: number, init: boolean) => [
    'monitor', '--state', join(dir, `mon${i}`), ...(init ? ['--init'] : []), '--log', logUrl, '--log-key', vkey,
    '--listen', `127.0.0.1:${[p1, p2][i - 1]}`, '--witness-key', join(dir, `w${i}.key`), '--interval', '1', '--workers', '0',
  ];
  const mons = [1, 2].map((i) => startProc(monitorArgs(i, true)));
  procs.push(...mons);
  for (const [i, m] of mons.entries()) {
    const e = await m.waitEvent('witness-key');
    t.equal(e['vkey'], wvkeys[i], `monitor ${i + 1} logs the cosigner vkey keygen printed`);
    await m.waitEvent('listen');
  }
  const serve = startProc([
    'serve', '--data', join(dir, 'data'), '--origin', ORIGIN, '--key', logKeyFile, '--listen', `127.0.0.1:${logPort}`, '--batch-interval', '10',
    '--witness', `${wurl[0]}=${wvkeys[0]}`, '--witness', `${wurl[1]}=${wvkeys[1]}`, '--quorum', '2', '--witness-timeout', '10000',
  ]);
  procs.push(serve);
  await serve.waitEvent('start');

  const submit = (name: string) => post(logUrl, makeEntry(undefined, name));
  const checkBundle = async (name: string, bundle: string) => {
    const art = join(dir, `${name.replace(/[^a-z0-9]/gi, '_')}`);
    writeFileSync(art, `artifact ${name}`);
    writeFileSync(`${art}.tlog-proof`, bundle);
    return cli(['verify', art, '--log-key', vkey, '--witness', wvkeys[0]!, '--witness', wvkeys[1]!, '--quorum', '2']);
  };
  for (let k = 0; k < 3; k++) {
    const name = `pkg:generic/witnessed@${k}`;
    const r = await submit(name);
    t.equal(r.status, 201, `submission ${k} is answered 201 once both monitors cosigned`);
    const v = await checkBundle(name, r.json.bundle as string);
    t.equal(v.status, 0, `bundle ${k} verifies offline with --quorum 2: ${v.stdout}${v.stderr}`);
  }

  // Smoke: the monitor's add-checkpoint, 200 for the latest size, then 409 for a stale old size.
  const hash = createHash('sha256').update(ORIGIN).digest('hex');
  const cosigned = (await get(`${wurl[1]}/${hash}/checkpoint`)).text;
  t.match(cosigned, /— w2\.example /, "witness 2's monitoring path serves the checkpoint it cosigned");
  const size = cosigned.split('\n')[1]!;
  const plain = cosigned.split('\n').filter((l) => !/^— w\d\.example /.test(l)).join('\n');
  const ok = await fetch(`${wurl[1]}/add-checkpoint`, { method: 'POST', body: `old ${size}\n\n${plain}` });
  t.equal(ok.status, 200, `add-checkpoint with old = the latest size answers 200 (${await ok.clone().text()})`);
  const stale = await fetch(`${wurl[1]}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${plain}` });
  t.equal(stale.status, 409, 'a stale old size answers 409');
  t.equal(stale.headers.get('content-type'), 'text/x.tlog.size', 'with Content-Type exactly text/x.tlog.size');
  t.equal(await stale.text(), `${size}\n`, 'and the latest cosigned size as the body');

  // Witness 1 stops: no quorum, 503, nothing lost.
  t.equal(await mons[0]!.stop('SIGTERM'), 0, 'witness monitor 1 stops cleanly on SIGTERM');
  const blocked = ['pkg:generic/witnessed@b1', 'pkg:generic/witnessed@b2'];
  const answers = await Promise.all(blocked.map(submit));
  t.same(answers.map((a) => a.status), [503, 503], 'without the quorum, submissions answer 503');
  t.equal(JSON.parse((await get(`${logUrl}/v1/log`)).text).size, 5, 'the blocked entries were sequenced all the same: none is lost');

  // Restarted on the same address (its state and witness.db kept), it cosigns again.
  const again = startProc(monitorArgs(1, false));
  procs.push(again);
  await again.waitEvent('listen');
  // The log counts the witness down until its retry timer reaches it again
  // (every 2 s); until then a submission gets a 503 and is not sequenced.
  let after = await submit('pkg:generic/witnessed@after');
  for (const until = Date.now() + 30_000; after.status === 503 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 250));
    after = await submit('pkg:generic/witnessed@after');
  }
  t.equal(after.status, 201, 'with witness monitor 1 back, a new submission is answered 201');
  t.equal((await checkBundle('pkg:generic/witnessed@after', after.json.bundle as string)).status, 0, 'its bundle verifies with --quorum 2');
  const resub = await Promise.all(blocked.map(submit));
  t.same(resub.map((a) => a.status), [200, 200], 'resubmitting the blocked entries answers 200');
  for (const [i, r] of resub.entries()) {
    t.equal((await checkBundle(blocked[i]!, r.json.bundle as string)).status, 0, `the bundle of blocked entry ${i} now verifies with --quorum 2`);
  }
});
