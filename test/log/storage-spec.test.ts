/**
 * `--storage SPEC`: sqlite:DIR is --data DIR (same directory, same log),
 * postgres URLs are accepted and their passwords never shown, anything else
 * is a usage error naming the two forms.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MalformedError } from '../../src/errors.js';
import { parseStorageSpec, redactStorage } from '../../src/log/storage/open.js';
import { makeEntry, ORIGIN, post, removeDir, tempDir } from './harness.js';
import { cli } from '../monitor/helpers.js';
import { portOf, startProc } from '../monitor/procs.js';

t.test('parsing', async (t) => {
  t.same(parseStorageSpec('sqlite:/var/lib/vitrine'), { kind: 'sqlite', dir: '/var/lib/vitrine' });
  t.same(parseStorageSpec('postgres://u@h:5432/db'), { kind: 'postgres', url: 'postgres://u@h:5432/db' });
  t.same(parseStorageSpec('postgresql://h/db'), { kind: 'postgres', url: 'postgresql://h/db' });
  for (const bad of ['', 'sqlite:', 'mysql://h/db', '/var/lib/vitrine', 'postgres://u:pw@[bad/db']) {
    t.throws(() => parseStorageSpec(bad), MalformedError, `${JSON.stringify(bad)} is refused`);
  }
  try {
    parseStorageSpec('postgres://u:hunter2@[bad/db');
  } catch (err) {
    t.notMatch((err as Error).message, /hunter2/, 'the refusal does not repeat the password');
  }
  t.equal(redactStorage('postgres://u:hunter2@h:5432/db'), 'postgres://u:***@h:5432/db', 'a password is hidden');
  t.equal(redactStorage('postgres://u@h/db'), 'postgres://u@h/db', 'a URL without one is unchanged');
});

t.test('serve --storage sqlite:DIR is serve --data DIR', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const a = startProc(['serve', '--storage', `sqlite:${dir}`, '--origin', ORIGIN, '--listen', '127.0.0.1:0']);
  t.teardown(() => a.stop('SIGKILL'));
  const url = `http://127.0.0.1:${portOf(await a.waitEvent('start'))}`;
  t.equal((await post(url, makeEntry())).status, 201, 'a submission is logged');
  await a.stop('SIGTERM');
  t.ok(existsSync(join(dir, 'log.db')) && existsSync(join(dir, 'log.key')), 'into DIR/log.db with DIR/log.key');
  const b = startProc(['serve', '--data', dir, '--origin', ORIGIN, '--listen', '127.0.0.1:0']);
  t.teardown(() => b.stop('SIGKILL'));
  const started = await b.waitEvent('start');
  t.equal(started['size'], 1, '--data DIR opens the same log');
  const both = await cli(['serve', '--data', dir, '--storage', `sqlite:${dir}`, '--origin', ORIGIN]);
  t.equal(both.status, 2, 'giving both is a usage error');
  const bad = await cli(['serve', '--storage', 'mysql://h/db', '--origin', ORIGIN]);
  t.equal(bad.status, 2, 'an unknown backend is a usage error');
  t.match(bad.stderr, /neither sqlite:DIR nor postgres:\/\//, 'naming the two forms');
});
