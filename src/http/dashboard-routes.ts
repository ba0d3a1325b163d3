/**
 * The monitor's read-only dashboard (issue 13): GET / (the page, from
 * ./web-routes.ts), GET /v1/status (what it shows, src/monitor/dashboard.ts)
 * and GET /v1/evidence/<n>, one held split-view evidence document as a
 * download that `vitrine verify-evidence` checks.
 */
import express from 'express';
import { NotFoundError } from '../errors.js';
import type { DashboardStatus } from '../monitor/dashboard.js';
import type { Evidence } from '../proof/index.js';
import { PAGE_HEADERS, webRouter } from './web-routes.js';

export function dashboardRouter(deps: { status(): DashboardStatus; evidence(): Evidence[] }): express.Router {
  const router = express.Router({ strict: true, caseSensitive: true });
  router.use(webRouter([{ path: '/', file: 'dashboard.html' }]));
  router.get('/v1/status', (_req, res) => {
    res.set(PAGE_HEADERS).set('Cache-Control', 'no-store').json(deps.status());
  });
  router.get(/^\/v1\/evidence\/(0|[1-9][0-9]{0,5})$/, (req, res) => {
    const n = Number(/(\d+)$/.exec(req.path)![1]);
    const ev = deps.evidence()[n];
    if (ev === undefined) throw new NotFoundError(`no evidence document ${n}`);
    res
      .set(PAGE_HEADERS)
      .set({ 'Cache-Control': 'no-store', 'Content-Disposition': `attachment; filename="evidence-${n}.json"` })
      .type('application/json')
      .send(`${JSON.stringify(ev, null, 2)}\n`);
  });
  return router;
}
