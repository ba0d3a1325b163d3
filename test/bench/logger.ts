/**
 * The structured log line (src/util/logger.ts, on pino) against the
 * JSON.stringify logger it replaced (kept below as the reference), writing
 * synchronously to /dev/null the event lines the log and the monitor write
 * most (a committed batch, an audit commit). The bound is JSON.stringify of
 * the same object alone, measured in the same run.
 *
 *   npm run bench -- logger
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { jsonLogger, type Logger } from '../../src/util/logger.js';
import { machine, rate } from './_util.js';

/** The logger before pino (src/util/logger.ts until this change). */
function stringifyLogger(write: (line: string) => void): Logger {
  return (event, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
  };
}

const fields = { size: 64, treeSize: 1_234_567, commitMs: 3.25, fsyncMs: 1.5, checkpoint: 'log.example.com/vitrine', witnesses: 2, pending: 0 };
const seconds = Number(process.env['BENCH_SECONDS'] ?? 2);
const fd = openSync('/dev/null', 'w');
console.log(`machine: ${machine()}`);
const bound = rate(() => JSON.stringify({ time: new Date().toISOString(), event: 'batch', ...fields }), seconds);
console.log(`${'bound: JSON.stringify alone'.padEnd(34)} ${(bound / 1e3).toFixed(0)} k lines/s`);
const before = stringifyLogger((l) => writeSync(fd, l));
const after = jsonLogger({ fd });
const runs: number[] = [];
for (let i = 0; i < 2; i++) {
  for (const [name, log] of [['before: JSON.stringify + writeSync', before], ['after: pino, sync destination', after]] as const) {
    const r = rate(() => log('batch', fields), seconds);
    runs.push(r);
    console.log(`${name.padEnd(34)} ${(r / 1e3).toFixed(0)} k lines/s`);
  }
}
console.log(`best of two: ${(Math.max(runs[0]!, runs[2]!) / 1e3).toFixed(0)} -> ${(Math.max(runs[1]!, runs[3]!) / 1e3).toFixed(0)} k lines/s (bound ${(bound / 1e3).toFixed(0)})`);
closeSync(fd);
