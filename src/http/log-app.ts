/**
 * The log's HTTP API (docs/formats.md §7 and §10) as an Express app. Routes are
 * thin: parse the request, call one LogService method, send the answer.
 * Every error goes through errorMiddleware. `createLogApp` never listens:
 * cmd/ does, and tests run the app on port 0.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { parseTilePath } from '../../merkle/index.js';
import { b64decode, hexDecode, parseDecimal } from '../encoding.js';
import { MalformedError, NotFoundError, PushbackError, UnsupportedMediaTypeError, VitrineError } from '../errors.js';
import { FORWARDED_HEADER } from '../log/forward.js';
import type { LogMetrics, SubmissionOutcome } from '../log/metrics.js';
import type { LogService } from '../log/service.js';
import type { Logger } from '../util/logger.js';
import type { RateLimiter } from '../util/ratelimit.js';
import { guarded, lingeringClose, readBody, writeAnswer } from './body.js';
import { errorAnswer, errorMiddleware, sendAnswer, type Answer } from './errors.js';
import { LOG_PAGES, webRouter } from './web-routes.js';

export interface LogAppDeps {
  service: LogService;
  metrics: LogMetrics;
  log: Logger;
  maxEntryBytes: number;
  rateLimiter?: RateLimiter;
  /** Whether the database answers (GET /healthz); without it, /healthz always answers ok. */
  databaseUp?: () => Promise<boolean>;
  /** GET /metrics text, when it must sum several processes (serve --workers); default this process's registry. */
  metricsText?: () => Promise<string>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const JSON_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'application/json; charset=utf-8' };

export function createLogApp(deps: LogAppDeps): express.Express {
  const { service, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // One spelling per path: /v1/entries/0/ or /V1/LOG is not found, as the docs say.
  app.set('strict routing', true);
  app.set('case sensitive routing', true);

  app.use((req, res, next) => {
    const end = metrics.requestSeconds.startTimer();
    res.on('finish', () => end({ route: String(res.locals['route'] ?? 'other'), status: String(res.statusCode) }));
    next();
  });

  app.get('/checkpoint', (_req, res) => {
    res.locals['route'] = 'checkpoint';
    sendAnswer(res, checkpointAnswer(service));
  });

  app.get(/^\/tile\//, async (req, res) => {
    res.locals['route'] = 'tile';
    sendAnswer(res, await tileAnswer(service, req.path));
  });

  app.get('/v1/proof/inclusion', async (req, res) => {
    res.locals['route'] = 'proof_inclusion';
    sendAnswer(res, await inclusionAnswer(service, query(req, ['leaf', 'size'], ['leaf', 'size'])));
  });

  app.get('/v1/proof/consistency', async (req, res) => {
    res.locals['route'] = 'proof_consistency';
    const q = query(req, ['from', 'to'], ['from', 'to']);
    const from = safeNumber(parseDecimal(q['from']!, 'from'), 'from');
    const to = safeNumber(parseDecimal(q['to']!, 'to'), 'to');
    res.json(await service.consistency(from, to));
  });

  app.get('/v1/entries/:index', async (req, res) => {
    res.locals['route'] = 'entry';
    // req.path is the raw path: Express would take /v1/entries/%31 as index 1.
    if (!/^\/v1\/entries\/[0-9]+$/.test(req.path)) throw new MalformedError('index: must be canonical decimal digits in the path, not percent-encoded');
    query(req, [], []);
    res.json(await service.entry(safeNumber(parseDecimal(String(req.params['index']), 'index'), 'index')));
  });

  app.get('/v1/entries', async (req, res) => {
    res.locals['route'] = 'lookup';
    const q = query(req, ['digest', 'key', 'name', 'after', 'limit'], []);
    const fields = (['digest', 'key', 'name'] as const).filter((f) => q[f] !== undefined);
    if (fields.length !== 1) throw new MalformedError('give exactly one of digest, key or name');
    const field = fields[0]!;
    const raw = q[field]!;
    const value = field === 'name' ? raw : hexDecode(raw, field, 32);
    const after = q['after'] === undefined ? -1 : safeNumber(parseDecimal(q['after'], 'after'), 'after');
    const limit = q['limit'] === undefined ? 100 : safeNumber(parseDecimal(q['limit'], 'limit', 1000n), 'limit');
    if (limit < 1) throw new MalformedError('limit: must be between 1 and 1000');
    res.json(await service.lookup(field, value, after, limit));
  });

  app.get('/v1/log', (_req, res) => {
    res.locals['route'] = 'log';
    res.json(service.info());
  });

  app.get('/healthz', async (_req, res) => {
    res.locals['route'] = 'healthz';
    // A node that cannot reach its database can serve only what it cached: a load balancer should skip it.
    if (deps.databaseUp && !(await deps.databaseUp())) {
      res.status(503).set('Retry-After', '1').type('text/plain').send('database unreachable');
      return;
    }
    res.type('text/plain').send('ok');
  });

  app.get('/metrics', async (_req, res) => {
    res.locals['route'] = 'metrics';
    res.set('Content-Type', metrics.registry.contentType).send(await (deps.metricsText ? deps.metricsText() : metrics.registry.metrics()));
  });

  app.use(webRouter(LOG_PAGES));

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new NotFoundError('no such path')));
  app.use(errorMiddleware(deps.log));
  return app;
}

/** GET /checkpoint */
function checkpointAnswer(service: LogService): Answer {
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' }, body: service.checkpoint() };
}

/** GET /tile/<L>/<N>[.p/<W>] and /tile/entries/<N>[.p/<W>]; `path` starts with "/". */
async function tileAnswer(service: LogService, path: string): Promise<Answer> {
  let tile;
  try {
    tile = parseTilePath(path.slice(1));
  } catch (err) {
    // Only canonical paths exist (c2sp.org/tlog-tiles): anything else is not found.
    if (err instanceof MalformedError) throw new NotFoundError(`no such tile path: ${err.message}`);
    throw err;
  }
  const index = safeNumber(tile.index, 'tile index');
  const body = await (tile.entries ? service.entryBundle(index, tile.width) : service.tile(tile.level, index, tile.width));
  return {
    status: 200,
    headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': IMMUTABLE },
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  };
}

/** GET /v1/proof/inclusion?leaf=&size= */
async function inclusionAnswer(service: LogService, q: Record<string, string | undefined>): Promise<Answer> {
  const proof = await service.inclusion(parseLeafHash(q['leaf']!), safeNumber(parseDecimal(q['size']!, 'size'), 'size'));
  return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(proof) };
}

/**
 * The log's request listener: the hottest read paths (tiles, entry bundles,
 * the checkpoint and inclusion proofs) are answered on a raw node:http fast
 * path, because Express's per-request overhead measured 4x the cost of the
 * answer itself (docs/performance.md); everything else goes to the Express
 * app. Both paths share the answer functions and the error mapping above.
 */
export function createLogHandler(deps: LogAppDeps): RequestListener {
  const app = createLogApp(deps);
  const { service, metrics } = deps;
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method === 'POST' && url === '/v1/entries') {
      guarded(deps.log, res, submit(deps, req, res));
      return;
    }
    if (req.method !== 'GET') return app(req, res);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let route: string;
    let answer: () => Answer | Promise<Answer>;
    if (path.startsWith('/tile/') && q < 0) {
      route = 'tile';
      answer = () => tileAnswer(service, path);
    } else if (path === '/checkpoint' && q < 0) {
      route = 'checkpoint';
      answer = () => checkpointAnswer(service);
    } else if (path === '/v1/proof/inclusion') {
      route = 'proof_inclusion';
      answer = () => inclusionAnswer(service, searchParams(q < 0 ? '' : url.slice(q + 1), ['leaf', 'size'], ['leaf', 'size']));
    } else {
      return app(req, res);
    }
    const end = metrics.requestSeconds.startTimer();
    const done = (a: Answer) => {
      writeAnswer(res, a);
      end({ route, status: String(a.status) });
    };
    // Anything but a typed error goes to the Express app, whose error middleware logs it.
    const failed = (err: unknown) => (err instanceof VitrineError ? done(errorAnswer(err)) : app(req, res));
    let a: Answer | Promise<Answer>;
    try {
      a = answer();
    } catch (err) {
      return failed(err);
    }
    // The checkpoint (and cached reads on SQLite) answer without waiting on a promise.
    if (a instanceof Promise) a.then(done, failed);
    else done(a);
  };
}

/**
 * POST /v1/entries on the fast path: rate limit (429), content type (415),
 * body size checked before and while reading (413), strict decoding and
 * signature check (400/422), then the sequencer (201/200, or 503).
 */
async function submit(deps: LogAppDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { service, metrics } = deps;
  const end = metrics.requestSeconds.startTimer();
  const send = (a: Answer, close = false) => {
    writeAnswer(res, a, close);
    end({ route: 'submit', status: String(a.status) });
  };
  const reject = (err: VitrineError, outcome: SubmissionOutcome, close = false) => {
    metrics.submissions.inc({ outcome });
    // The rest of the body is unread: close without a reset that could discard the answer.
    if (close) lingeringClose(req);
    send(errorAnswer(err), close);
  };
  if (deps.rateLimiter) {
    const wait = deps.rateLimiter.take(req.socket.remoteAddress ?? 'unknown');
    if (wait > 0) return reject(new PushbackError('too many submissions from this address', wait, 429), 'rate_limited', true);
  }
  const type = mediaType(req);
  if (type !== 'application/cbor' && type !== 'application/json') {
    return reject(new UnsupportedMediaTypeError('Content-Type must be application/cbor or application/json'), 'rejected', true);
  }
  const limit = type === 'application/cbor' ? deps.maxEntryBytes : deps.maxEntryBytes * 4 + 1024;
  let data: Uint8Array;
  try {
    data = await readBody(req, limit);
  } catch (err) {
    if (err instanceof VitrineError) return reject(err, 'rejected', true);
    res.destroy();
    return;
  }
  let accepted;
  try {
    accepted = await (type === 'application/cbor' ? service.accept(data) : service.acceptJson(data));
  } catch (err) {
    if (err instanceof VitrineError) return reject(err, 'rejected');
    throw err;
  }
  try {
    const answer = await service.submitJson(accepted, { forwarded: req.headers[FORWARDED_HEADER] === '1' });
    metrics.submissions.inc({ outcome: answer.status === 201 ? 'new' : 'duplicate' });
    send({ status: answer.status, headers: JSON_HEADERS, body: answer.json });
  } catch (err) {
    const typed = err instanceof VitrineError ? err : new PushbackError('the log could not take this submission now; retry later', 1);
    reject(typed, typed instanceof PushbackError && typed.message.includes('pool') ? 'pool_full' : 'unavailable');
    if (!(err instanceof VitrineError)) deps.log('internal-error', { message: (err as Error).message, stack: (err as Error).stack });
  }
}

/** Query parameters from a raw query string, with the same rules as `query` below. */
function searchParams(raw: string, allowed: string[], required: string[]): Record<string, string | undefined> {
  // Without escapes ('%', or '+' for a space) the pairs are the raw text: split
  // them here rather than through URLSearchParams, on the proof fast path.
  const params = raw.includes('%') || raw.includes('+') ? [...new URLSearchParams(raw)] : splitQuery(raw);
  const seen = new Map<string, number>();
  for (const [k] of params) seen.set(k, (seen.get(k) ?? 0) + 1);
  const out: Record<string, string | undefined> = {};
  for (const [k, count] of seen) {
    if (!allowed.includes(k)) throw new MalformedError(`unknown query parameter ${JSON.stringify(k.slice(0, 40))}`);
    if (count !== 1) throw new MalformedError(`query parameter ${k} must be given once`);
  }
  for (const [k, v] of params) out[k] = v;
  for (const k of required) if (out[k] === undefined) throw new MalformedError(`missing query parameter ${k}`);
  return out;
}

/** The name=value pairs of a query without escapes, as URLSearchParams gives them (empty parts skipped, a bare name has the value ''). */
function splitQuery(raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

function mediaType(req: IncomingMessage): string {
  const type = req.headers['content-type'];
  if (type === undefined) return '';
  const [essence, ...params] = type.split(';').map((s) => s.trim().toLowerCase());
  for (const p of params) if (p !== '' && p !== 'charset=utf-8') return `${essence}; ${p}`;
  return essence ?? '';
}

/** Reads single-valued query parameters: unknown or repeated parameters are malformed. */
function query(req: Request, allowed: string[], required: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw new MalformedError(`unknown query parameter ${JSON.stringify(k.slice(0, 40))}`);
    if (typeof v !== 'string') throw new MalformedError(`query parameter ${k} must be given once`);
    out[k] = v;
  }
  for (const k of required) if (out[k] === undefined) throw new MalformedError(`missing query parameter ${k}`);
  return out;
}

/** A leaf hash in lowercase hex or base64url (padded or not). */
function parseLeafHash(text: string): Uint8Array {
  if (text.length === 64) return hexDecode(text, 'leaf', 32);
  if (/[+/]/.test(text)) throw new MalformedError('leaf: must be hex or base64url');
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  return b64decode(std.length === 43 ? `${std}=` : std, 'leaf', 32);
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new NotFoundError(`${field}: ${value} is beyond this log`);
  return Number(value);
}

