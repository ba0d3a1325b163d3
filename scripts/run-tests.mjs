// `npm test`'s runner: runs each compiled test file (dist/test/**/*.test.js,
// the set .taprc names) as its own `node` process, two at a time, and
// prints one TAP stream: each file's own TAP as a subtest, then the counts
// summed over every file, the line CI reads ("# { total: N, pass: N, fail: N }").
//
// Why not the `tap` command: it starts every test file with tap's process
// tracker preloaded (@tapjs/processinfo, for coverage and `tap --changed`),
// which on Node 20 runs module hooks on a second thread in each test process
// and in every worker thread the test starts. Coverage is off in this suite;
// the tracker cost 0.5–1.5 s of CPU per file (docs/performance.md, "The test
// suite"). The test files are plain tap 21 programs and run the same way
// here; `npx tap dist/test/x.test.js` still runs one through tap.
//
// A file fails when its exit status is not 0, when it prints no counts, or
// when its counts have a failure; after TIMEOUT seconds it gets SIGALRM
// (tap's own timeout signal: it reports what was pending), then SIGKILL.
//
//   node scripts/run-tests.mjs [--jobs N] [file or folder under dist/test ...]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT = Number(process.env['VITRINE_TEST_TIMEOUT'] ?? 300); // seconds per file, as .taprc's `timeout`
const args = process.argv.slice(2);
let jobs = 2;
const named = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jobs') jobs = Number(args[++i]);
  else named.push(args[i]);
}
if (!Number.isInteger(jobs) || jobs < 1) throw new Error('--jobs takes a positive integer');

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const e of readdirSync(path).sort()) if (!/^fixtures?$/.test(e)) collect(join(path, e), out);
  } else if (path.endsWith('.test.js')) out.push(path);
  return out;
}
const files = [];
for (const p of named.length ? named : ['dist/test']) {
  const abs = resolve(root, p);
  if (!existsSync(abs)) throw new Error(`${p} does not exist (run \`npm run pretest\` to build dist/test)`);
  collect(abs, files);
}

const indent = (text) => text.split('\n').map((l) => (l === '' ? l : `    ${l}`)).join('\n');
const totals = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 };
const failed = [];
let n = 0;
const started = Date.now();

function runOne(file) {
  const name = relative(root, file);
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      cwd: root,
      env: { ...process.env, TAP_TIMEOUT: String(TIMEOUT) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const alarm = setTimeout(() => {
      timedOut = true;
      child.kill('SIGALRM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, (TIMEOUT + 10) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(alarm);
      const ms = Date.now() - t0;
      // The root test's counts, printed last by a file run on its own.
      const m = [...out.matchAll(/^# (\{ total: .* \})$/gm)].pop();
      const counts = {};
      if (m) for (const [, k, v] of m[1].matchAll(/(\w+): (\d+)/g)) counts[k] = Number(v);
      const ok = code === 0 && signal === null && !timedOut && m !== undefined && !counts.fail;
      for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
      if (!ok) {
        failed.push(name);
        // A file that died before its counts still failed at least once.
        if (!counts.fail) {
          totals.fail += 1;
          totals.total += 1;
        }
      }
      n += 1;
      let block = `# Subtest: ${name}\n${indent(out)}${out.endsWith('\n') || out === '' ? '' : '\n'}`;
      if (err.trim() !== '') block += `${indent(`# stderr:\n${err.trimEnd().split('\n').map((l) => `#   ${l}`).join('\n')}`)}\n`;
      block += ok ? `ok ${n} - ${name} # time=${ms}ms\n` : `not ok ${n} - ${name} # time=${ms}ms\n  ---\n  exitCode: ${code}\n  signal: ${signal}\n  timedOut: ${timedOut}\n  counts: ${m ? m[1] : 'none printed'}\n  ...\n`;
      // On a terminal, a passing file is one line; in a log (CI), everything.
      process.stdout.write(ok && process.stdout.isTTY ? block.slice(block.lastIndexOf('\nok ') + 1) : block);
      done();
    });
  });
}

process.stdout.write('TAP version 14\n');
const queue = [...files];
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, async () => {
  while (queue.length) await runOne(queue.shift());
}));
process.stdout.write(`1..${n}\n`);
if (failed.length) process.stdout.write(`# failed files:\n${failed.map((f) => `#   ${f}`).join('\n')}\n`);
const shown = Object.entries(totals).filter(([k, v]) => v !== 0 || k === 'total' || k === 'pass' || k === 'fail');
process.stdout.write(`# { ${shown.map(([k, v]) => `${k}: ${v}`).join(', ')} }\n# time=${Date.now() - started}ms\n`);
process.exitCode = failed.length ? 1 : 0;
