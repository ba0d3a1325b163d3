/**
 * `vitrine serve --publish-dir DIR` on SQLite (issue 10 §4): the checks of
 * publish-check.ts (tiles before checkpoints, every file byte-identical to
 * the API, a monitor auditing a static file server of DIR, a restart).
 */
import t from 'tap';
import { exercise } from './publish-check.js';
import { removeDir, tempDir } from './harness.js';

t.test('--publish-dir on SQLite', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  await exercise(t, ['serve', '--data', dir]);
});

