/**
 * Witness conformance (c2sp.org/tlog-witness, docs/formats.md §6), table-driven
 * against a real HTTP server on port 0: every add-checkpoint status, the
 * exact content type and body of 409, the monitoring path, conflict
 * evidence kept, and the compare-and-swap race forced through a test hook.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import express from 'express';
import { createHttpServer } from '../../src/http/server.js';
import type { AddressInfo } from 'node:net';
import { CompactRange, consistencyProof, leafHash, sha256, type NodeId } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64encode, hexEncode, utf8 } from '../../src/encoding.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { mountWitnessCheckpoint, withAddCheckpoint } from '../../src/http/witness-routes.js';
import { cosignerVerifier, formatCheckpoint, generateSigner, signNote, verifierFromSigner, verifyCosignatures, type Signer } from '../../src/note/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { Witness } from '../../src/witness/witness.js';

const ORIGIN = 'witnessed.example/log';

/** An in-memory log whose checkpoints are signed by `signer`. */
class MemLog {
  range = new CompactRange();
  nodes = new Map<string, Uint8Array>();
  constructor(readonly signer: Signer, readonly tag = 'a') {}
  append(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.range.append(leafHash(utf8(`${this.tag} ${this.range.size}`)))) this.nodes.set(`${node.level}/${node.index}`, node.hash);
    }
  }
  checkpoint(): string {
    return signNote(formatCheckpoint({ origin: this.signer.name, size: this.range.size, rootHash: this.range.root() }), [this.signer], nodeEd25519);
  }
  proof(m: number, n: number): Uint8Array[] {
    return consistencyProof(m, n, (ids: readonly NodeId[]) => ids.map((id) => this.nodes.get(`${id.level}/${id.index}`)!));
  }
}

function body(old: number, proof: Uint8Array[], checkpoint: string): string {
  return `old ${old}\n${proof.map((p) => `${b64encode(p)}\n`).join('')}\n${checkpoint}`;
}

t.test('add-checkpoint statuses and the monitoring path', async (t) => {
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const witnessSigner = generateSigner('witness.example/w1', nodeEd25519);
  const db = new Database(':memory:');
  const store = new SqliteWitnessStore(db);
  const other = generateSigner('other.example/log', nodeEd25519);
  const witness = new Witness({ signer: witnessSigner, logs: [verifierFromSigner(logSigner), verifierFromSigner(other)], store, ed: nodeEd25519, now: () => 1_700_000_000 });
  const app = express();
  mountWitnessCheckpoint(app, witness);
  app.use(errorMiddleware(silentLogger));
  const server = createHttpServer(withAddCheckpoint(app, { witness, log: silentLogger }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const add = async (b: string | Uint8Array) => {
    const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: b });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  const log = new MemLog(logSigner);
  log.append(3);
  const cp3 = log.checkpoint();
  log.append(2);
  const cp5 = log.checkpoint();
  log.append(3);
  const cp8 = log.checkpoint();
  const fork = new MemLog(logSigner, 'b');
  fork.append(5);
  const fork5 = fork.checkpoint();
  const foreign = generateSigner(ORIGIN, nodeEd25519);
  const wrongKey = signNote(formatCheckpoint({ origin: ORIGIN, size: 5n, rootHash: sha256(utf8('x')) }), [foreign], nodeEd25519);
  const badProof = log.proof(5, 8).map((p, i) => (i === 0 ? Uint8Array.from(p, (b, j) => (j === 0 ? b ^ 1 : b)) : p));

  const cosigner = cosignerVerifier(witnessSigner);
  const cases: Array<{ name: string; body: string | Uint8Array; status: number; text?: string }> = [
    { name: 'first checkpoint, old 0', body: body(0, [], cp3), status: 200 },
    { name: 'stale old 0 after a cosignature', body: body(0, [], cp5), status: 409, text: '3\n' },
    { name: 'old 3 to 5 with a valid proof', body: body(3, log.proof(3, 5), cp5), status: 200 },
    { name: 'same checkpoint again, old 5', body: body(5, [], cp5), status: 200 },
    { name: 'same size, different root (validly signed fork)', body: body(5, [], fork5), status: 409, text: '5\n' },
    { name: 'old 5 to 8 with a flipped proof bit', body: body(5, badProof, cp8), status: 422 },
    { name: 'old 5 to 8 with a truncated proof', body: body(5, log.proof(5, 8).slice(1), cp8), status: 422 },
    { name: 'old 8 is not our latest size', body: body(8, [], cp8), status: 409, text: '5\n' },
    { name: 'old larger than the checkpoint size', body: body(9, [], cp8), status: 400 },
    { name: 'unknown origin', body: body(0, [], signNote(formatCheckpoint({ origin: 'nobody.example/log', size: 1n, rootHash: sha256(utf8('x')) }), [generateSigner('nobody.example/log', nodeEd25519)], nodeEd25519)), status: 404 },
    { name: 'signed by another key of the same name', body: body(5, [], wrongKey), status: 403 },
    { name: 'no empty line', body: `old 0\n${cp3}`.replace('\n\n', '\n'), status: 400 },
    { name: 'old with a leading zero', body: body(0, [], cp5).replace('old 0', 'old 05'), status: 400 },
    { name: 'proof line not 32 bytes', body: `old 5\n${b64encode(new Uint8Array(31))}\n\n${cp8}`, status: 400 },
    { name: '64 proof lines', body: `old 5\n${`${b64encode(new Uint8Array(32))}\n`.repeat(64)}\n${cp8}`, status: 400 },
    { name: 'not UTF-8', body: Uint8Array.of(0x6f, 0x6c, 0x64, 0x20, 0xff, 0x0a, 0x0a), status: 400 },
    { name: 'a body over 64 KiB', body: `old 0\n\n${'x'.repeat(64 * 1024)}`, status: 413 },
    { name: 'an empty body', body: '', status: 400 },
    { name: 'non-empty proof with old 0 (new origin)', body: body(0, [new Uint8Array(32)], signNote(formatCheckpoint({ origin: other.name, size: 2n, rootHash: sha256(utf8('y')) }), [other], nodeEd25519)), status: 422 },
    { name: 'old 5 to 8 with a valid proof', body: body(5, log.proof(5, 8), cp8), status: 200 },
  ];
  const gz = await fetch(`${url}/add-checkpoint`, { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body: body(0, [], cp3) });
  t.equal(gz.status, 415, 'a compressed body is refused: 415');
  for (const c of cases) {
    const r = await add(c.body);
    t.equal(r.status, c.status, `${c.name}: ${c.status}`);
    if (c.status >= 400 && c.status !== 409) {
      t.equal(r.type, 'application/json; charset=utf-8', `${c.name}: a JSON error body`);
      t.match(JSON.parse(r.text), { error: /^[a-z-]+$/, message: /./ }, `${c.name}: with an error code and a message`);
    }
    if (c.status === 409) {
      t.equal(r.type, 'text/x.tlog.size', `${c.name}: Content-Type is exactly text/x.tlog.size`);
      t.equal(r.text, c.text, `${c.name}: body is the latest size and a newline`);
    }
    if (c.status === 200) {
      t.match(r.text, /^— witness\.example\/w1 [A-Za-z0-9+/=]+\n$/, `${c.name}: one cosignature line`);
      const note = `${typeof c.body === 'string' ? c.body.slice(c.body.indexOf('\n\n') + 2) : ''}${r.text}`;
      const cos = verifyCosignatures(note, [cosigner], nodeEd25519);
      t.equal(cos.length, 1, `${c.name}: the cosignature verifies (tlog-cosignature/v1)`);
      t.equal(cos[0]!.timestamp, 1_700_000_000n, `${c.name}: with the witness's timestamp`);
    }
  }
  t.equal(store.latest(ORIGIN)!.size, 8n, 'the witness ends at size 8');
  const conflicts = store.conflicts();
  t.ok(conflicts.some((c) => c.note === fork5), 'the same-size fork is kept as evidence');
  t.ok(conflicts.some((c) => c.note === cp8 && /consistency/.test(c.reason)), 'the checkpoint with a bad proof is kept too');
  t.notOk(conflicts.some((c) => c.note === wrongKey), 'a checkpoint without a valid log signature is not evidence');

  const mon = await fetch(`${url}/${hexEncode(sha256(utf8(ORIGIN)))}/checkpoint`);
  const monText = await mon.text();
  t.equal(mon.status, 200, 'monitoring path answers 200');
  t.ok(monText.startsWith(cp8.slice(0, cp8.indexOf('\n\n') + 2)), 'it serves the latest cosigned checkpoint');
  t.equal(verifyCosignatures(monText, [cosigner], nodeEd25519).length, 1, 'with the witness cosignature');
  t.equal((await fetch(`${url}/${hexEncode(sha256(utf8('nobody')))}/checkpoint`)).status, 404, 'unknown origin on the monitoring path: 404');
  t.equal((await fetch(`${url}/${'A'.repeat(64)}/checkpoint`)).status, 404, 'non-canonical hex: 404');
});

t.test('two requests from the same old size are never both cosigned', async (t) => {
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const store = new SqliteWitnessStore(new Database(':memory:'));
  const log = new MemLog(logSigner);
  log.append(2);
  const cp2 = log.checkpoint();
  log.append(2);
  const cp4 = log.checkpoint();
  const forked = new MemLog(logSigner, 'z');
  forked.append(6);
  const fork6 = forked.checkpoint();
  let inner: Promise<string> | undefined;
  let armed = true;
  const witness: Witness = new Witness({
    signer: generateSigner('witness.example/race', nodeEd25519),
    logs: [verifierFromSigner(logSigner)],
    store,
    ed: nodeEd25519,
    // Between request A's checks and its swap, request B (same old size) runs to completion.
    beforeSwap: () => {
      if (!armed) return;
      armed = false;
      inner = witness.addCheckpoint(body(0, [], cp4));
    },
  });
  await t.rejects(witness.addCheckpoint(body(0, [], cp2)), { name: 'ConflictError' }, 'request A loses the compare-and-swap with 409');
  t.match(await inner, /^— witness\.example\/race /, 'request B was cosigned');
  t.equal(store.latest(ORIGIN)!.size, 4n, 'the record holds B, never rolled back to A');
  await t.rejects(witness.addCheckpoint(body(4, [], fork6)), { name: 'InvalidError' }, 'a larger fork without a consistency proof is refused (422)');
  t.equal(store.latest(ORIGIN)!.size, 4n, 'and the record does not move');
});

t.test('concurrent requests from one old size, group commit, and a restart', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-witness-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.db');
  const logSigner = generateSigner(ORIGIN, nodeEd25519);
  const witnessSigner = generateSigner('witness.example/gc', nodeEd25519);
  const open = () => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    return { db, witness: new Witness({ signer: witnessSigner, logs: [verifierFromSigner(logSigner)], store: new SqliteWitnessStore(db), ed: nodeEd25519 }) };
  };
  const first = open();
  const log = new MemLog(logSigner);
  const checkpoints: string[] = [];
  for (let i = 0; i < 10; i++) {
    log.append(1);
    checkpoints.push(log.checkpoint());
  }
  // Ten different checkpoints all claiming old 0: exactly one may be cosigned.
  const results = await Promise.allSettled(checkpoints.map((cp) => first.witness.addCheckpoint(body(0, [], cp))));
  const won = results.filter((r) => r.status === 'fulfilled');
  t.equal(won.length, 1, 'exactly one request from old 0 is cosigned');
  t.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.name === 'ConflictError'), 'the others get 409');
  // A chain of requests in one tick: each builds on the previous, all committed together.
  const winner = results.findIndex((r) => r.status === 'fulfilled') + 1;
  const chain = [];
  for (let size = winner + 1; size <= 10; size++) chain.push(first.witness.addCheckpoint(body(size - 1, log.proof(size - 1, size), checkpoints[size - 1]!)));
  await Promise.all(chain);
  first.db.close();
  const second = open();
  t.equal(new SqliteWitnessStore(second.db).latest(ORIGIN)?.size, 10n, 'after a restart the witness remembers size 10');
  await t.rejects(second.witness.addCheckpoint(body(winner, [], checkpoints[winner - 1]!)), { name: 'ConflictError' }, 'and refuses to go back');
  second.db.close();
});
