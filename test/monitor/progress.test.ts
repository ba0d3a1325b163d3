/**
 * Catch-up progress: on a TTY one line rewritten in place with a bar,
 * counts, rate and ETA, ended by a newline when done; off a TTY, JSON log
 * events only, never control characters.
 */
import t from 'tap';
import { bar, ProgressReporter } from '../../src/monitor/progress.js';

t.test('the bar', async (t) => {
  t.equal(bar(0), `[${'.'.repeat(24)}]`, 'empty');
  t.equal(bar(0.5), `[${'#'.repeat(12)}${'.'.repeat(12)}]`, 'half');
  t.equal(bar(1), `[${'#'.repeat(24)}]`, 'full');
  t.equal(bar(7), bar(1), 'clamped above');
  t.equal(bar(-1), bar(0), 'clamped below');
  t.equal(bar(Number.NaN), bar(0), 'NaN is empty');
});

t.test('on a TTY: one line rewritten in place, closed when done', async (t) => {
  const out: string[] = [];
  const events: string[] = [];
  const p = new ProgressReporter({ tty: true, write: (s) => out.push(s), log: (e) => events.push(e), everyMs: 0 });
  const startedAt = Date.now() - 2000;
  p.update({ origin: 'log.example', position: 250, from: 0, to: 1000, startedAt });
  t.equal(out.length, 1, 'one write');
  t.match(out[0]!, /^\r\x1b\[K/, 'returns to the start of the line and clears it');
  t.match(out[0]!, /\[#{6}\.{18}\]/, 'with a quarter-full bar');
  t.match(out[0]!, /audited 250\/1,000 entries \(25\.0%\)/, 'the counts and percentage');
  t.match(out[0]!, /, [0-9]+\/s, ETA [0-9]+s$/, 'the rate and an ETA');
  t.notMatch(out[0]!, /\n/, 'no newline while in progress');
  p.update({ origin: 'log.example', position: 1000, from: 0, to: 1000, startedAt });
  t.match(out[1]!, /\[#{24}\] audited 1,000\/1,000 entries \(100\.0%\)/, 'the finished line is full');
  t.equal(out[2], '\n', 'and ends with a newline');
  t.same(events, [], 'no log events on a TTY');
});

t.test('off a TTY: JSON events at most every everyMs, no control characters', async (t) => {
  const out: string[] = [];
  const events: Array<[string, Record<string, unknown>]> = [];
  const p = new ProgressReporter({ tty: false, write: (s) => out.push(s), log: (e, f) => events.push([e, f ?? {}]), everyMs: 60_000 });
  const startedAt = Date.now() - 1000;
  p.update({ origin: 'log.example', position: 10, from: 0, to: 100, startedAt });
  p.update({ origin: 'log.example', position: 20, from: 0, to: 100, startedAt });
  t.equal(events.length, 1, 'rate-limited to one event per interval');
  t.equal(events[0]![0], 'audit-progress', 'an audit-progress event');
  t.match(events[0]![1], { origin: 'log.example', position: 10, to: 100 }, 'with the position');
  t.same(out, [], 'nothing written to the terminal stream');
});
