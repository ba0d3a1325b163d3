/**
 * A lean HTTP/1.1 GET load generator for the read benchmarks: keep-alive
 * connections on raw sockets, one request in flight per connection, and
 * just enough response parsing (status line, Content-Length, body) to count
 * answers. node:http's client costs more CPU per request than the log's
 * read paths do, and on a 2-core machine the client shares the server's
 * cores, so a heavier client would measure itself.
 */
import { connect, type Socket } from 'node:net';

export interface LoadResult {
  /** 200 answers per second. */
  perSecond: number;
  ok: number;
  other: number;
  /** Answers whose body failed `check`. */
  bad: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** What a connection reports for each answer. */
export type OnAnswer = (status: number, body: Buffer, latencyMs: number) => void;

/**
 * One keep-alive connection that sends requests one after another until
 * `end` or until `next` returns undefined. `next` gives a whole request
 * (request line, headers and body) as bytes.
 */
function runConnection(port: number, next: () => Buffer | undefined, end: () => number, ready: Promise<void>, onWarm: () => void, onAnswer: OnAnswer): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let need = -1; // bytes of the current response (headers + body), once known
    let status = 0;
    let headerLen = 0;
    let sentAt = 0;
    const send = () => {
      const req = performance.now() < end() ? next() : undefined;
      if (req === undefined) {
        sock.end();
        resolve();
        return;
      }
      sentAt = performance.now();
      sock.write(req);
    };
    // Each connection first proves it was accepted (GET /healthz answered),
    // then waits for the start signal, so that the timed load never
    // includes connection set-up.
    let warm = true;
    sock.on('connect', () => sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    sock.on('error', reject);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (need < 0) {
        const at = buf.indexOf(HEADER_END);
        if (at < 0) return;
        const head = buf.subarray(0, at).toString('latin1');
        status = Number(head.slice(9, 12));
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (m === null) {
          reject(new Error(`answer without Content-Length: ${head.slice(0, 200)}`));
          sock.destroy();
          return;
        }
        headerLen = at + 4;
        need = headerLen + Number(m[1]);
      }
      if (buf.length < need) return;
      if (warm) {
        warm = false;
        buf = Buffer.alloc(0);
        need = -1;
        onWarm();
        void ready.then(send);
        return;
      }
      onAnswer(status, buf.subarray(headerLen, need), performance.now() - sentAt);
      buf = Buffer.alloc(0); // one request in flight: nothing follows the answer
      need = -1;
      send();
    });
  });
}

/**
 * Opens `connections` keep-alive connections, waits until the server has
 * answered a GET /healthz on each, then drives them all until `seconds`
 * pass or `next` runs out. `next(c)` gives connection c's next request, so
 * a connection can carry its own ordered stream. Returns the seconds the
 * timed part took.
 */
export async function drive(port: number, connections: number, seconds: number, next: (connection: number) => Buffer | undefined, onAnswer: OnAnswer): Promise<number> {
  let start = 0;
  let warm = 0;
  let go!: () => void;
  const ready = new Promise<void>((r) => (go = r));
  const onWarm = () => {
    if (++warm === connections) {
      start = performance.now();
      go();
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, c) => runConnection(port, () => next(c), () => start + seconds * 1000, ready, onWarm, onAnswer)));
  return (performance.now() - start) / 1000;
}

/** A whole POST request with a body, as bytes. */
export function postRequest(path: string, contentType: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}

/** Drives `connections` keep-alive connections for `seconds`; `nextPath` gives each request's path. */
export async function loadGet(port: number, connections: number, seconds: number, nextPath: () => string, check?: (body: Buffer) => boolean): Promise<LoadResult> {
  const r: LoadResult = { perSecond: 0, ok: 0, other: 0, bad: 0 };
  const elapsed = await drive(port, connections, seconds, () => Buffer.from(`GET ${nextPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'latin1'), (status, body) => {
    if (status !== 200) r.other++;
    else {
      r.ok++;
      if (check !== undefined && !check(body)) r.bad++;
    }
  });
  r.perSecond = r.ok / elapsed;
  return r;
}
