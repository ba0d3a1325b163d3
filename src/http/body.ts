/**
 * The raw node:http fast paths' shared plumbing: reading a request body
 * within a limit, writing an Answer, and turning an unexpected error into a
 * logged 500 without a stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import type { Answer } from './errors.js';

/**
 * Reads a whole request body of at most `limit` bytes. Refuses, with a typed
 * error and before buffering anything, a Content-Encoding other than
 * identity (415) and a declared Content-Length over the limit (413); a body
 * that grows past the limit while streaming is refused too (413). Other
 * (stream) errors are rethrown as they are.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    return Promise.reject(new UnsupportedMediaTypeError(`unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}`));
  }
  if (Number(req.headers['content-length'] ?? '0') > limit) {
    return Promise.reject(new TooLargeError(`request body exceeds the limit of ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new TooLargeError(`request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const buf = Buffer.concat(chunks);
      resolve(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    req.on('error', (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
  });
}

/** Writes an Answer with its Content-Length; `close` ends the connection after it (for refused bodies). */
export function writeAnswer(res: ServerResponse, a: Answer, close = false): void {
  const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
  // The flat [name, value, ...] form: node:http writes it without walking an object.
  const headers: string[] = [];
  for (const name in a.headers) headers.push(name, a.headers[name]!);
  headers.push('Content-Length', String(body.length));
  if (close) headers.push('Connection', 'close');
  res.writeHead(a.status, headers);
  res.end(body);
}

/** How much of a refused body is read and thrown away after the answer, at most. */
export const LINGER_MAX_BYTES = 4 * 1024 * 1024;
/** How long a refused connection may linger after the answer, at most. */
export const LINGER_MAX_MS = 10_000;

/**
 * Closes a connection whose request body was refused without being read, the
 * way nginx's lingering_close and Go's server do. Closing a socket that still
 * has unread bytes makes the kernel send a reset, and a reset can arrive
 * before the client has read the answer, which it then never sees (a client
 * that writes its whole body before reading gets ECONNRESET instead of its
 * 413). So: the answer is sent, the write side is half-closed, and the rest
 * of the body is read and discarded until the client closes, or until a
 * bound (bytes or time) is reached, whichever comes first.
 *
 * Call it before writing the answer with `Connection: close`: Node closes
 * such a connection through `destroySoon` once the answer is written, which
 * is replaced here by the half-close.
 */
export function lingeringClose(req: IncomingMessage, maxBytes = LINGER_MAX_BYTES, maxMs = LINGER_MAX_MS): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), maxMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    // The client's FIN after its body: both sides are done.
    socket.once('end', () => socket.destroy());
  };
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) socket.destroy();
  });
  req.resume();
}

/** Runs a raw route; an unexpected error is logged and answered 500, never with its stack. */
export function guarded(log: Logger, res: ServerResponse, route: Promise<void>): void {
  route.catch((err: unknown) => {
    log('internal-error', { message: (err as Error).message, stack: (err as Error).stack });
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"internal","message":"internal error"}');
  });
}

/** How a request's client is named in logs and evidence: address:port. */
export function clientOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? 'unknown'}:${req.socket.remotePort ?? 0}`;
}
