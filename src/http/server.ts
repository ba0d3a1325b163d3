/**
 * The one way Vitrine makes an HTTP server (the log, the monitor, and the
 * test harness that stands in for them), so that every listener keeps idle
 * keep-alive connections open longer than its clients do.
 *
 * Why: a server that closes an idle keep-alive connection races a client
 * that is just then sending its next request on it. The request lands on a
 * closed socket, the kernel answers with a reset, and the client sees
 * ECONNRESET for a request the server never read (a POST is not retried by
 * most clients). Node's default of 5 s loses that race easily: fetch
 * (undici) keeps a socket for the server's hint minus one second, and a
 * client whose event loop stalls past that, under load, reuses it anyway.
 * 65 s is beyond undici's 4 s default and the 60 s of common load balancers,
 * so in practice the client closes first. Go's http.Transport keeps idle
 * connections 90 s; its retry of requests that failed on a reused
 * connection covers the rest for idempotent requests.
 */
import { createServer, type RequestListener, type Server } from 'node:http';

/** How long an idle keep-alive connection stays open on the server. */
export const KEEP_ALIVE_MS = 65_000;

export function createHttpServer(handler?: RequestListener): Server {
  const server = handler ? createServer(handler) : createServer();
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Kept above the keep-alive timeout (Node's default is 60 s), so that the
  // headers timer never ends a connection the keep-alive timer still keeps.
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  return server;
}
