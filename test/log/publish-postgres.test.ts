/**
 * `vitrine serve --publish-dir DIR` on PostgreSQL (issue 10 §4: "on any
 * backend"): the checks of publish-check.ts with a real PostgreSQL.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatSigner, formatVerifier, generateSigner, verifierFromSigner } from '../../src/note/index.js';
import { exercise } from './publish-check.js';
import { ORIGIN, removeDir, tempDir } from './harness.js';
import { freshDatabase, pgServer } from './pg.js';

t.test('--publish-dir on PostgreSQL', async (t) => {
  const server = pgServer(t);
  if (!server) return;
  const url = await freshDatabase(t, server);
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const signer = generateSigner(ORIGIN, nodeEd25519);
  writeFileSync(join(dir, 'log.key'), `${formatSigner(signer)}\n`, { mode: 0o600 });
  t.ok(formatVerifier(verifierFromSigner(signer)).startsWith(`${ORIGIN}+`), 'a log key for the origin');
  await exercise(t, ['serve', '--storage', url, '--key', join(dir, 'log.key'), '--state-file', join(dir, 'signed-checkpoint')]);
});
