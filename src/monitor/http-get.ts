/**
 * The monitor's HTTP GET for tiles, entry bundles and checkpoints: node:http
 * / node:https with a keep-alive agent. A catch-up fetches hundreds of
 * bundles a second, and this path costs about half the CPU per request of
 * the global fetch that src/client/log-client.ts uses (measured in
 * test/bench/monitor.ts's runs), CPU the signature checks need. Same error
 * contract as LogClient: 404 is NotFoundError, 429/503 are retried after
 * Retry-After a few times and then a PushbackError, other statuses a
 * LogHttpError, network failures and timeouts an UnreachableError.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { LogHttpError, parseLogUrl, UnreachableError } from '../client/log-client.js';
import { MalformedError, NotFoundError, PushbackError } from '../errors.js';

const MAX_BODY = 16 * 1024 * 1024;

export interface HttpGetOptions {
  /** Tries for 429/503 answers (default 3). */
  maxTries?: number;
  /** Longest Retry-After honoured, in seconds (default 10). */
  maxWaitSeconds?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Connections per log (default 8). */
  maxSockets?: number;
}

export class HttpGet {
  readonly base: string;
  readonly #url: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #o: Required<HttpGetOptions>;

  constructor(base: string, opts: HttpGetOptions = {}) {
    const url = parseLogUrl(base);
    this.#url = url;
    this.base = url.href.replace(/\/+$/, '');
    this.#o = { maxTries: 3, maxWaitSeconds: 10, timeoutMs: 30_000, maxSockets: 8, ...opts };
    const agentOpts = { keepAlive: true, maxSockets: this.#o.maxSockets };
    this.#agent = url.protocol === 'https:' ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
  }

  /** GET `path` (starting with "/") relative to the log's URL; resolves to the body of a 200 answer. */
  async get(path: string): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      const { status, headers, body } = await this.#once(path);
      if (status === 200) return body;
      const retryAfter = parseRetryAfter(headers['retry-after']);
      if ((status === 429 || status === 503) && attempt < this.#o.maxTries) {
        await new Promise((r) => setTimeout(r, Math.min(retryAfter, this.#o.maxWaitSeconds) * 1000));
        continue;
      }
      const what = `GET ${path}: the log answered ${status}`;
      if (status === 404) throw new NotFoundError(what);
      if (status === 429 || status === 503) throw new PushbackError(what, retryAfter, status);
      throw new LogHttpError(status, `http-${status}`, what);
    }
  }

  #once(path: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: Uint8Array }> {
    const url = new URL(this.base + path);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(new UnreachableError(`cannot reach ${this.#url.origin}: ${err.message}`));
      const req = request(url, { method: 'GET', agent: this.#agent, timeout: this.#o.timeoutMs }, (res) => {
        const declared = Number(res.headers['content-length'] ?? '0');
        if (declared > MAX_BODY) {
          res.destroy();
          reject(new MalformedError(`GET ${path}: response of ${declared} bytes is larger than ${MAX_BODY}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            res.destroy(new Error(`response larger than ${MAX_BODY} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          // One owned buffer per body, so it can be handed to a worker without a copy.
          const body = new Uint8Array(size);
          let o = 0;
          for (const c of chunks) {
            body.set(c, o);
            o += c.length;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('the response was cut short')));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#o.timeoutMs} ms`)));
      req.on('error', fail);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function parseRetryAfter(v: string | string[] | undefined): number {
  const s = Array.isArray(v) ? v[0] : v;
  if (s !== undefined && /^[0-9]{1,6}$/.test(s)) return Math.max(1, Number(s));
  return 1;
}
