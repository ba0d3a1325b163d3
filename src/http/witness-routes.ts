/**
 * HTTP face of a c2sp.org/tlog-witness witness (FORMATS.md §6, §13):
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
import { ConflictError, TooLargeError, UnsupportedMediaTypeError, VitrineError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { MAX_ADD_CHECKPOINT_BYTES, type Witness } from '../witness/witness.js';
import { readBody } from './body.js';
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
      addCheckpoint(o, req, res).catch((err: unknown) => {
        o.log('internal-error', { message: (err as Error).message, stack: (err as Error).stack });
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"internal","message":"internal error"}');
      });
      return;
    }
    (app as RequestListener)(req, res);
  };
}

async function addCheckpoint(o: AddCheckpointOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (a: Answer, close = false) => {
    const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
    res.writeHead(a.status, { ...a.headers, 'Content-Length': String(body.length), ...(close ? { Connection: 'close' } : {}) });
    res.end(body);
    o.onResult?.(a.status);
  };
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    send(errorAnswer(new UnsupportedMediaTypeError(`unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}`)), true);
    req.resume();
    return;
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_ADD_CHECKPOINT_BYTES) {
    send(errorAnswer(new TooLargeError(`request body exceeds the limit of ${MAX_ADD_CHECKPOINT_BYTES} bytes`)), true);
    req.resume();
    return;
  }
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
    await o.precheck?.(data, `${req.socket.remoteAddress ?? 'unknown'}:${req.socket.remotePort ?? 0}`);
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
