/**
 * The pages browsers load (issue 13): a router that serves the HTML, CSS and
 * scripts `npm run build` put in dist/web (scripts/build-web.mjs), on the
 * log (explorer, entry, verify) and on the monitor (dashboard).
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles
 * and requests from this origin only, no inline script or style, no frame,
 * no plugin; so no request can leave the origin. Pages are `no-cache`;
 * assets are served under a path naming their content's hash and are
 * immutable.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Response } from 'express';
import { NotFoundError } from '../errors.js';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Headers every page and asset carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** A page: the route, and the HTML file in dist/web. */
export interface Page {
  path: string | RegExp;
  file: string;
}

interface Built {
  pages: Map<string, Buffer>;
  /** "<hash>/<name>" -> content */
  assets: Map<string, { body: Buffer; type: string }>;
}

/**
 * dist/web next to the compiled module (dist/src/http -> dist/web), or the
 * built one when this module runs from its TypeScript source (tests).
 */
function webDir(): string | undefined {
  for (const rel of ['../../dist/web/', '../../web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}style.css`) && existsSync(`${dir}index.html`) && readdirSync(dir).some((f) => f.endsWith('.js'))) return dir;
  }
  return undefined;
}

function load(): Built | undefined {
  const dir = webDir();
  if (dir === undefined) return undefined;
  const assets = new Map<string, { body: Buffer; type: string }>();
  const paths = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    if (ext === '.html' || TYPES[ext] === undefined) continue;
    const body = readFileSync(dir + name);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    assets.set(`${hash}/${name}`, { body, type: TYPES[ext]! });
    paths.set(name, `/assets/${hash}/${name}`);
  }
  const pages = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.html')) continue;
    // Point each page at the hashed, immutable paths of its assets.
    const html = readFileSync(dir + name, 'utf8').replace(/"\/assets\/([a-z-]+\.(?:js|css))"/g, (m, asset: string) => {
      const p = paths.get(asset);
      return p === undefined ? m : `"${p}"`;
    });
    pages.set(name, Buffer.from(html));
  }
  return { pages, assets };
}

function send(res: Response, type: string, cache: string, body: Buffer): void {
  res.status(200).set(PAGE_HEADERS).set({ 'Content-Type': type, 'Cache-Control': cache }).send(body);
}

/** The router for `pages`, plus GET /assets/<hash>/<name>. Answers 404 for a page when the pages were not built. */
export function webRouter(pages: readonly Page[]): express.Router {
  const router = express.Router({ strict: true, caseSensitive: true });
  let built: Built | undefined;
  const get = (): Built => {
    built ??= load();
    if (built === undefined) throw new NotFoundError('the web pages were not built: run npm run build');
    return built;
  };
  for (const page of pages) {
    router.get(page.path, (_req, res) => {
      const body = get().pages.get(page.file);
      if (body === undefined) throw new NotFoundError(`no page ${page.file}`);
      res.locals['route'] = 'page';
      send(res, TYPES['.html']!, 'no-cache', body);
    });
  }
  router.get(/^\/assets\/([0-9a-f]{16})\/([a-z-]+\.[a-z]+)$/, (req, res) => {
    const m = /^\/assets\/([0-9a-f]{16}\/[a-z-]+\.[a-z]+)$/.exec(req.path)!;
    const asset = get().assets.get(m[1]!);
    if (asset === undefined) throw new NotFoundError('no such asset');
    res.locals['route'] = 'asset';
    send(res, asset.type, 'public, max-age=31536000, immutable', asset.body);
  });
  return router;
}

/** The log's pages: the explorer, one entry (canonical decimal index only), the verify page. */
export const LOG_PAGES: readonly Page[] = [
  { path: '/', file: 'index.html' },
  { path: /^\/entry\/(0|[1-9][0-9]{0,15})$/, file: 'entry.html' },
  { path: '/verify', file: 'verify.html' },
];
