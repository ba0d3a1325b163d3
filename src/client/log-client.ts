/**
 * HTTP client for a Vitrine log (docs/formats.md §7, §10), used by the CLI
 * (`vitrine submit`) and the monitor. It uses the global fetch, so it runs
 * in Node and browsers. It trusts nothing it receives: callers verify every
 * answer (see `submitEntry` in ./submit.ts, which checks the bundle offline).
 *
 * Pushback (503, 429) is retried with the server's Retry-After, a bounded
 * number of times; every other failure is reported as a typed error.
 */
import { MalformedError, NotFoundError, PushbackError, VitrineError } from '../errors.js';

export class LogHttpError extends VitrineError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** The log could not be reached at all (DNS, refused connection, timeout). */
export class UnreachableError extends VitrineError {
  constructor(message: string) {
    super('unreachable', message);
  }
}

export interface LogClientOptions {
  /** Tries for a request answered with 503/429 (default 5). */
  maxTries?: number;
  /** Upper bound on one wait, in seconds (default 30). */
  maxWaitSeconds?: number;
  /** Per-request timeout in milliseconds (default 30000). */
  timeoutMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each retry (for CLI progress messages). */
  onRetry?: (status: number, waitSeconds: number, attempt: number) => void;
}

export interface SubmitResponse {
  status: 200 | 201;
  index: number;
  leafHash: string;
  entry: string;
  checkpoint: string;
  inclusionProof: string[];
  bundle: string;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A log's base URL: absolute, http or https (MalformedError otherwise). */
export function parseLogUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MalformedError(`log URL ${JSON.stringify(text)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MalformedError('log URL must be http or https');
  return url;
}

export class LogClient {
  readonly base: string;
  readonly #o: Required<Omit<LogClientOptions, 'onRetry'>> & Pick<LogClientOptions, 'onRetry'>;

  constructor(url: string, opts: LogClientOptions = {}) {
    this.base = parseLogUrl(url).href.replace(/\/+$/, '');
    this.#o = {
      maxTries: opts.maxTries ?? 5,
      maxWaitSeconds: opts.maxWaitSeconds ?? 30,
      timeoutMs: opts.timeoutMs ?? 30_000,
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
      sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      onRetry: opts.onRetry,
    };
  }

  /** Sends one request, retrying pushback. Returns the final response's status and body bytes. */
  async request(path: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.#o.fetch(`${this.base}${path}`, {
          method: init.method ?? 'GET',
          headers: init.headers,
          body: init.body,
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
      } catch (err) {
        throw new UnreachableError(`cannot reach ${this.base}: ${(err as Error).message}`);
      }
      const body = await readBody(res);
      if ((res.status === 503 || res.status === 429) && attempt < this.#o.maxTries) {
        const wait = Math.min(retryAfter(res.headers.get('retry-after')), this.#o.maxWaitSeconds);
        this.#o.onRetry?.(res.status, wait, attempt);
        await this.#o.sleep(wait * 1000);
        continue;
      }
      return { status: res.status, headers: res.headers, body };
    }
  }

  /** GET that must answer 200; 404 becomes NotFoundError, other statuses LogHttpError. */
  async get(path: string): Promise<Uint8Array> {
    const r = await this.request(path);
    if (r.status === 200) return r.body;
    throw errorFrom(r.status, r.headers, r.body, `GET ${path}`);
  }

  async getJson<T>(path: string): Promise<T> {
    const body = await this.get(path);
    try {
      return JSON.parse(new TextDecoder().decode(body)) as T;
    } catch {
      throw new MalformedError(`GET ${path}: the log answered with invalid JSON`);
    }
  }

  async checkpoint(): Promise<string> {
    return new TextDecoder('utf-8', { fatal: true }).decode(await this.get('/checkpoint'));
  }

  async tile(path: string): Promise<Uint8Array> {
    return this.get(`/${path}`);
  }

  /** Submits canonical entry bytes. Resolves to the log's answer, unverified. */
  async submit(entry: Uint8Array): Promise<SubmitResponse> {
    const r = await this.request('/v1/entries', { method: 'POST', headers: { 'Content-Type': 'application/cbor' }, body: entry });
    if (r.status !== 200 && r.status !== 201) throw errorFrom(r.status, r.headers, r.body, 'submission');
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(r.body));
    } catch {
      throw new MalformedError('the log answered the submission with invalid JSON');
    }
    return { ...checkSubmitResponse(parsed), status: r.status };
  }
}

function checkSubmitResponse(v: unknown): Omit<SubmitResponse, 'status'> {
  const o = v as Record<string, unknown>;
  const ok =
    typeof o === 'object' && o !== null &&
    Number.isSafeInteger(o['index']) && typeof o['leafHash'] === 'string' && typeof o['entry'] === 'string' &&
    typeof o['checkpoint'] === 'string' && typeof o['bundle'] === 'string' &&
    Array.isArray(o['inclusionProof']) && (o['inclusionProof'] as unknown[]).every((x) => typeof x === 'string');
  if (!ok) throw new MalformedError('the log answered the submission without the fields of docs/formats.md §10');
  return {
    index: o['index'] as number,
    leafHash: o['leafHash'] as string,
    entry: o['entry'] as string,
    checkpoint: o['checkpoint'] as string,
    inclusionProof: o['inclusionProof'] as string[],
    bundle: o['bundle'] as string,
  };
}

async function readBody(res: Response): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) throw new MalformedError(`response of ${declared} bytes is larger than ${MAX_RESPONSE_BYTES}`);
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf.length > MAX_RESPONSE_BYTES) throw new MalformedError(`response of ${buf.length} bytes is larger than ${MAX_RESPONSE_BYTES}`);
  return buf;
}

function retryAfter(header: string | null): number {
  if (header !== null && /^[0-9]{1,6}$/.test(header)) return Math.max(1, Number(header));
  return 1;
}

function errorFrom(status: number, headers: Headers, body: Uint8Array, what: string): VitrineError {
  let code = `http-${status}`;
  let message = `${what}: the log answered ${status}`;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') code = parsed.error;
    if (typeof parsed.message === 'string') message = `${what}: the log answered ${status} ${parsed.message}`;
  } catch {
    // Not a JSON error body; keep the generic message.
  }
  if (status === 404) return new NotFoundError(message, code);
  if (status === 503 || status === 429) return new PushbackError(message, retryAfter(headers.get('retry-after')), status);
  return new LogHttpError(status, code, message);
}
