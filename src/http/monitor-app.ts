/**
 * The monitor's HTTP API (docs/formats.md §13) as an Express app: liveness,
 * Prometheus metrics, and the tlog-witness monitoring path
 * `GET /<hex SHA-256(origin)>/checkpoint`, which serves the latest
 * checkpoint the witness cosigned (with --witness-key), else the latest one
 * this monitor verified; POST /v1/gossip and GET /v1/evidence (gossip,
 * src/monitor/gossip.ts); and tlog-witness POST /add-checkpoint, where each
 * checkpoint is first checked against the monitor's own view.
 * `createMonitorHandler` never listens: cmd/ does, tests use port 0.
 */
import type { RequestListener } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';
import { InvalidError, NotFoundError } from '../errors.js';
import type { CheckOutcome } from '../monitor/gossip.js';
import { MAX_GOSSIP_BYTES } from '../monitor/gossip.js';
import type { Evidence } from '../proof/index.js';
import type { Logger } from '../util/logger.js';
import { parseAddCheckpoint, type Witness } from '../witness/witness.js';
import type { DashboardStatus } from '../monitor/dashboard.js';
import { clientOf } from './body.js';
import { dashboardRouter } from './dashboard-routes.js';
import { errorMiddleware } from './errors.js';
import { withAddCheckpoint } from './witness-routes.js';

export interface MonitorAppDeps {
  /** The latest verified checkpoint note of the log whose origin hashes to `originHash`, if any. */
  checkpoint(originHash: string): string | undefined;
  registry: Registry;
  log: Logger;
  /** Gossip: checks a checkpoint met from `from` (throws 400/403/404 errors), and the evidence held. */
  gossip?: {
    check(note: string, from: string): Promise<CheckOutcome>;
    evidence(): Evidence[];
  };
  /** Witness mode (--witness-key): add-checkpoint, and the monitoring path serves what it cosigned first. */
  witness?: Witness;
  /** The dashboard's snapshot: with it, GET / is the dashboard (src/http/dashboard-routes.ts). */
  status?: () => DashboardStatus;
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

  // The monitoring path: what the witness cosigned if it did, else the latest verified checkpoint.
  app.get(/^\/([0-9a-f]{64})\/checkpoint$/, (req, res) => {
    const hash = /^\/([0-9a-f]{64})\//.exec(req.path)![1]!;
    let note: string | undefined;
    if (deps.witness) {
      try {
        note = deps.witness.latestCheckpoint(hash);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    note ??= deps.checkpoint(hash);
    if (note === undefined) throw new NotFoundError('this monitor has verified no checkpoint for that origin');
    res.set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' }).send(note);
  });

  if (deps.gossip) {
    const gossip = deps.gossip;
    app.post('/v1/gossip', express.raw({ type: () => true, limit: MAX_GOSSIP_BYTES, inflate: false }), async (req, res) => {
      const body: unknown = req.body;
      const data = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      let note: string;
      try {
        note = new TextDecoder('utf-8', { fatal: true }).decode(data);
      } catch {
        note = '\uFFFD';
      }
      const outcome = await gossip.check(note, `gossip from ${clientOf(req)}`);
      if (outcome.status === 'split-view') {
        res.status(409).set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(outcome.evidence));
        return;
      }
      // undecided (larger than our tree): kept and re-checked when our verified tree reaches its size.
      // bad-hashes: our log's tiles are forged; that is alerted here, and proves nothing about the peer.
      res.status(200).json({ status: outcome.status });
    });
    app.get('/v1/evidence', (_req, res) => {
      res.set('Cache-Control', 'no-cache').json(gossip.evidence());
    });
  }

  if (deps.status) app.use(dashboardRouter({ status: deps.status, evidence: () => deps.gossip?.evidence() ?? [] }));

  app.use((_req, _res, next) => next(new NotFoundError('no such path')));
  app.use(errorMiddleware(deps.log));
  return app;
}

/**
 * The monitor's request listener: the Express app above, with tlog-witness
 * POST /add-checkpoint on its raw path in witness mode. Every validly signed
 * checkpoint sent there is first checked against the monitor's own view:
 * one that forks from what it verified or cosigned is kept as evidence and
 * refused (422 split-view).
 */
export function createMonitorHandler(deps: MonitorAppDeps): RequestListener {
  const app = createMonitorApp(deps);
  if (!deps.witness) return app;
  const gossip = deps.gossip;
  return withAddCheckpoint(app, {
    witness: deps.witness,
    log: deps.log,
    ...(gossip
      ? {
          precheck: async (body: Uint8Array, from: string) => {
            let outcome: CheckOutcome | undefined;
            try {
              outcome = await gossip.check(parseAddCheckpoint(body).checkpoint, `add-checkpoint from ${from}`);
            } catch {
              // Malformed, unknown or unsigned: the witness answers with the right status.
            }
            if (outcome?.status === 'split-view') throw new InvalidError('the checkpoint forks from a checkpoint of this log that this monitor verified or cosigned; evidence recorded', 'split-view');
          },
        }
      : {}),
  });
}
