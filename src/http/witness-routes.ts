/**
 * HTTP face of a c2sp.org/tlog-witness witness (FORMATS.md §6, §13):
 * `POST /add-checkpoint` and the monitoring path `GET /<hex sha256(origin)>/checkpoint`.
 * The 200 and 409 answers are written raw, because Express would append a
 * charset to `text/x.tlog.size`, which the spec forbids.
 */
import express, { type Express } from 'express';
import { ConflictError } from '../errors.js';
import { MAX_ADD_CHECKPOINT_BYTES, type Witness } from '../witness/witness.js';

export function mountWitness(app: Express, witness: Witness, onResult?: (status: number) => void): void {
  app.post('/add-checkpoint', express.raw({ type: () => true, limit: MAX_ADD_CHECKPOINT_BYTES, inflate: false }), async (req, res) => {
    res.locals['route'] = 'add_checkpoint';
    const body: unknown = req.body;
    const data = Buffer.isBuffer(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(0);
    try {
      const lines = await witness.addCheckpoint(data);
      onResult?.(200);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(lines) });
      res.end(lines);
    } catch (err) {
      if (err instanceof ConflictError) {
        onResult?.(409);
        const text = `${err.size}\n`;
        res.writeHead(409, { 'Content-Type': 'text/x.tlog.size', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      throw err;
    }
  });
  app.get(/^\/([0-9a-f]{64})\/checkpoint$/, (req, res) => {
    res.locals['route'] = 'witness_checkpoint';
    const hash = /^\/([0-9a-f]{64})\//.exec(req.path)![1]!;
    res.set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' }).send(witness.latestCheckpoint(hash));
  });
}
