/**
 * A witness server for the witness benchmark: the same Witness core, SQLite
 * store (WAL, synchronous=FULL) and HTTP routes that `vitrine monitor
 * --witness-key` serves, without the monitor's audit loop. Reads the log
 * vkeys (one per line) on stdin, prints its port and cosigner vkey.
 */
import Database from 'better-sqlite3';
import express from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { mountWitnessCheckpoint, withAddCheckpoint } from '../../src/http/witness-routes.js';
import { cosignerVerifier, formatVerifier, generateSigner, parseVerifier } from '../../src/note/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { Witness } from '../../src/witness/witness.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const logs = input.split('\n').filter((l) => l.trim() !== '').map((l) => parseVerifier(l.trim()));
const db = new Database(process.argv[2] ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
const signer = generateSigner('bench-witness.example', nodeEd25519);
const store = new SqliteWitnessStore(db);
const witness = new Witness({ signer, logs, store, ed: nodeEd25519 });
const app = express();
app.disable('x-powered-by');
app.get('/healthz', (_req, res) => {
  res.type('text/plain').send('ok');
});
mountWitnessCheckpoint(app, witness);
app.use(errorMiddleware(silentLogger));
const server = createServer(withAddCheckpoint(app, { witness, log: silentLogger }));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port} ${formatVerifier(cosignerVerifier(signer))}\n`);
});
// Exit normally on SIGTERM, so that `--cpu-prof` profiles get written.
process.on('SIGTERM', () => {
  server.close();
  void store.durable().finally(() => {
    db.close();
    process.exit(0);
  });
});
