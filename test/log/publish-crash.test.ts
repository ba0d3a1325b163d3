/**
 * `vitrine serve --publish-dir DIR` killed with SIGKILL under load (issue
 * 10 §4: each file atomic, every tile before the checkpoint that needs
 * it): what a reader of DIR sees afterwards is a checkpoint signed by the
 * log with every tile it needs, whole; a restart brings DIR up to the API
 * again, byte for byte.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConsistent, compareWithApi, published, serve } from './publish-check.js';
import { makeEntry, post, removeDir, tempDir } from './harness.js';

t.test('--publish-dir after kill -9 under load: what a reader sees is consistent, and a restart completes it', async (t) => {
  const dir = tempDir();
  const pub = join(tempDir(), 'pub');
  t.teardown(() => {
    removeDir(dir);
    removeDir(join(pub, '..'));
  });
  const args = ['serve', '--data', dir, '--publish-dir', pub];
  let node = await serve(args);
  t.teardown(() => node.proc.stop('SIGKILL'));
  let running = true;
  const clients = Array.from({ length: 16 }, async () => {
    while (running) await post(node.base, makeEntry()).catch(() => undefined);
  });
  for (let i = 0; i < 300 && !(existsSync(join(pub, 'checkpoint')) && Number(readFileSync(join(pub, 'checkpoint'), 'utf8').split('\n')[1]) >= 300); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await node.proc.stop('SIGKILL');
  running = false;
  await Promise.all(clients);
  t.same(checkConsistent(pub, node.vkey), [], 'after the kill, the checkpoint verifies and every tile it needs is there, whole');

  node = await serve(args);
  const note = await published(node.base, pub);
  t.ok(Number(note.split('\n')[1]) >= 300, 'after the restart the published checkpoint catches up with the API');
  await compareWithApi(t, node.base, pub, true);
  t.equal(await node.proc.stop('SIGTERM'), 0, 'a clean stop');
});
