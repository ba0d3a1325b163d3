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

/** One keep-alive connection that sends GETs one after another until `end`. */
function runConnection(port: number, nextPath: () => string, end: number, check: ((body: Buffer) => boolean) | undefined, r: LoadResult): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let need = -1; // bytes of the current response (headers + body), once known
    let status = 0;
    let headerLen = 0;
    const send = () => {
      if (performance.now() >= end) {
        sock.end();
        resolve();
        return;
      }
      sock.write(`GET ${nextPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    };
    sock.on('connect', send);
    sock.on('error', reject);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
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
        const body = buf.subarray(headerLen, need);
        if (status === 200) {
          r.ok++;
          if (check !== undefined && !check(body)) r.bad++;
        } else r.other++;
        buf = buf.subarray(need);
        need = -1;
        if (buf.length === 0) buf = Buffer.alloc(0);
        send();
        return;
      }
    });
  });
}

/** Drives `connections` keep-alive connections for `seconds`; `nextPath` gives each request's path. */
export async function loadGet(port: number, connections: number, seconds: number, nextPath: () => string, check?: (body: Buffer) => boolean): Promise<LoadResult> {
  const r: LoadResult = { perSecond: 0, ok: 0, other: 0, bad: 0 };
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, () => runConnection(port, nextPath, end, check, r)));
  r.perSecond = r.ok / ((performance.now() - start) / 1000);
  return r;
}
