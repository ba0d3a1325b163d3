/**
 * The one place where typed errors become HTTP answers (docs/formats.md §10):
 * JSON `{"error": code, "message": text}`, never a stack trace. Anything
 * that is not a VitrineError is a bug: it is logged once with its stack on
 * the server side and answered as a bare 500.
 */
import type { ErrorRequestHandler, Response } from 'express';
import {
  ConflictError,
  ForbiddenError,
  InvalidError,
  MalformedError,
  NotFoundError,
  PushbackError,
  TooLargeError,
  UnsupportedMediaTypeError,
  VitrineError,
} from '../errors.js';

import type { Logger } from "../util/logger.js";
export type { Logger };

export function statusOf(err: VitrineError): number {
  if (err instanceof MalformedError) return 400;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof TooLargeError) return 413;
  if (err instanceof UnsupportedMediaTypeError) return 415;
  if (err instanceof InvalidError) return 422;
  if (err instanceof PushbackError) return err.status;
  return 400;
}

/** An HTTP answer, written either by Express or by a raw node:http fast path. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** The JSON error answer of a typed error (docs/formats.md §10). */
export function errorAnswer(err: VitrineError): Answer {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  if (err instanceof PushbackError) headers['Retry-After'] = String(err.retryAfter);
  return { status: statusOf(err), headers, body: JSON.stringify({ error: err.code, message: err.message }) };
}

export function sendAnswer(res: Response, a: Answer): void {
  res.status(a.status).set(a.headers).send(a.body);
}

export function sendError(res: Response, err: VitrineError): void {
  sendAnswer(res, errorAnswer(err));
}

/** Body-parser and Express raise their own errors for oversized or unreadable bodies; translate them. */
function fromHttpError(err: unknown): VitrineError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: unknown; status?: unknown; message?: unknown };
  if (e.type === 'entity.too.large') return new TooLargeError('request body exceeds the size limit');
  if (e.type === 'entity.parse.failed') return new MalformedError('request body is not valid JSON');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new UnsupportedMediaTypeError('unsupported content encoding or charset');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new MalformedError(typeof e.message === 'string' ? e.message : 'bad request');
  }
  return undefined;
}

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const typed = err instanceof VitrineError ? err : fromHttpError(err);
    if (typed) return sendError(res, typed);
    log('internal-error', { message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
    res.status(500).json({ error: 'internal', message: 'internal error' });
  };
}
