/**
 * HTTP face of a c2sp.org/tlog-witness witness (docs/formats.md §6, §13):
 * `POST /add-checkpoint` and the monitoring path `GET /<hex sha256(origin)>/checkpoint`.
 *
 * add-checkpoint is answered on a raw node:http path (`withAddCheckpoint`),
 * as the log's hot paths are: Express's per-request machinery cost more
 * than the witness's own checks (docs/performance.md). It also writes the
 * 200 and 409 answers exactly, where Express would append a charset to
 * `text/x.tlog.size`, which the spec forbids.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { ConflictError, VitrineError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { MAX_ADD_CHECKPOINT_BYTES, type Witness } from '../witness/witness.js';
import { clientOf, guarded, readBody, writeAnswer } from './body.js';
import { errorAnswer, type Answer } from './errors.js';

export interface AddCheckpointOptions {
  witness: Witness;
  log: Logger;
  /**
   * Runs on the request body before the witness sees it; throws a
   * VitrineError to refuse (the monitor refuses a split view with 422).
   * `from` names the client.
   */
  precheck?: (body: Uint8Array, from: string) => Promise<void>;
  /** Called with each answer's status (metrics). */
  onResult?: (status: number) => void;
}

/**
 * A request listener that answers POST /add-checkpoint itself and hands
 * every other request to `app`.
 */
export function withAddCheckpoint(app: Express | RequestListener, o: AddCheckpointOptions): RequestListener {
  return (req, res) => {
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/add-checkpoint') {
      guarded(o.log, res, addCheckpoint(o, req, res));
      return;
    }
    (app as RequestListener)(req, res);
  };
}

async function addCheckpoint(o: AddCheckpointOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (a: Answer, close = false) => {
    writeAnswer(res, a, close);
    o.onResult?.(a.status);
  };
  let data: Uint8Array;
  try {
    data = await readBody(req, MAX_ADD_CHECKPOINT_BYTES);
  } catch (err) {
    if (!(err instanceof VitrineError)) {
      res.destroy();
      return;
    }
    send(errorAnswer(err), true);
    req.resume();
    return;
  }
  try {
    await o.precheck?.(data, clientOf(req));
    const lines = await o.witness.addCheckpoint(data);
    send({ status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: lines });
  } catch (err) {
    if (err instanceof ConflictError) {
      send({ status: 409, headers: { 'Content-Type': 'text/x.tlog.size' }, body: `${err.size}\n` });
      return;
    }
    if (err instanceof VitrineError) {
      send(errorAnswer(err));
      return;
    }
    throw err;
  }
}

/** The monitoring path on an Express app: the latest checkpoint the witness cosigned for an origin. */
export function mountWitnessCheckpoint(app: Express, witness: Witness): void {
  app.get(/^\/([0-9a-f]{64})\/checkpoint$/, (req, res) => {
    res.locals['route'] = 'witness_checkpoint';
    const hash = /^\/([0-9a-f]{64})\//.exec(req.path)![1]!;
    res.set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' }).send(witness.latestCheckpoint(hash));
  });
}
