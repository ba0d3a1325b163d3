/**
 * The monitor's HTTP API (FORMATS.md §13) as an Express app: liveness,
 * Prometheus metrics, and the tlog-witness monitoring path
 * `GET /<hex SHA-256(origin)>/checkpoint`, which serves the latest
 * checkpoint this monitor verified for that log (the log's signed note as
 * the log served it). The witness and gossip endpoints come with issue 6.
 * `createMonitorApp` never listens: cmd/ does, tests use port 0.
 */
import express from 'express';
import type { Registry } from 'prom-client';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { errorMiddleware } from './errors.js';

export interface MonitorAppDeps {
  /** The latest verified checkpoint note of the log whose origin hashes to `originHash`, if any. */
  checkpoint(originHash: string): string | undefined;
  registry: Registry;
  log: Logger;
}

export function createMonitorApp(deps: MonitorAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      const text = await deps.registry.metrics();
      res.set('Content-Type', deps.registry.contentType).send(text);
    } catch (err) {
      next(err);
    }
  });

  app.get(/^\/([0-9a-f]{64})\/checkpoint$/, (req, res) => {
    const hash = (req.params as Record<string, string>)[0]!;
    const note = deps.checkpoint(hash);
    if (note === undefined) throw new NotFoundError('this monitor has verified no checkpoint for that origin');
    res.set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' }).send(note);
  });

  app.use((_req, _res, next) => next(new NotFoundError('no such path')));
  app.use(errorMiddleware(deps.log));
  return app;
}
