/**
 * PostgreSQL for the tests: the server .ci/run (or `eval "$(.ci/pg-cluster
 * start)"` by hand) started, given as VITRINE_TEST_PG_URL, with
 * VITRINE_TEST_PG_DIR for the tests that stop and start it. Each test gets
 * a database of its own, dropped when the test process ends. Under CI=true a
 * missing server fails the test; locally the PostgreSQL tests are skipped
 * with a message saying how to run them.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Test } from 'tap';
import { rootPath } from '../_root.js';

const URL_VAR = 'VITRINE_TEST_PG_URL';
const CLUSTER = rootPath('.ci', 'pg-cluster');

/** The server URL, or undefined after skipping (locally) or failing (CI) the test. */
export function pgServer(t: Test): string | undefined {
  const url = process.env[URL_VAR];
  if (url) return url;
  if (process.env['CI'] === 'true') {
    t.fail(`${URL_VAR} is not set: under CI=true the PostgreSQL tests must run (.ci/run starts a cluster)`);
  } else {
    t.comment(`skipping PostgreSQL tests: no server given; run  eval "$(.ci/pg-cluster start)"  and export ${URL_VAR}`);
    t.pass('skipped: no PostgreSQL server given');
  }
  return undefined;
}

/** A new, empty database on the server; its URL. Dropped at the end of `t`. */
export async function freshDatabase(t: Test, server: string): Promise<string> {
  const name = `vt_${randomBytes(6).toString('hex')}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  t.teardown(async () => {
    const a = postgres(server, { max: 1, onnotice: () => {} });
    await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await a.end();
  });
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Stops (`mode` fast or immediate) or starts the test cluster with .ci/pg-cluster. */
export function pgCluster(action: 'stop' | 'up', mode: 'fast' | 'immediate' = 'immediate'): void {
  const dir = process.env['VITRINE_TEST_PG_DIR'];
  if (!dir) throw new Error('VITRINE_TEST_PG_DIR is not set: this test stops and starts the cluster .ci/pg-cluster made');
  execFileSync(CLUSTER, action === 'stop' ? ['stop', dir, mode] : ['up', dir], { stdio: 'inherit' });
}
