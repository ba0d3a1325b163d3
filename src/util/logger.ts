/**
 * Structured logging: one JSON object per line, one line per event worth
 * knowing (start, batch committed, witness results, errors), written with
 * pino. The line format is documented in docs/operations.md ("Log lines"):
 * {"level": "info", "time": RFC 3339 UTC, "event": name, ...fields}, nothing
 * else (no pid or hostname). Never pass secrets or rejected input to it.
 */
import { pino } from 'pino';

export type Logger = (event: string, fields?: Record<string, unknown>) => void;

/**
 * A logger writing to `out`: a function taking each line (tests), or a file
 * descriptor (default 2, stderr), written synchronously so that a line is
 * out before the process can die and stays in order with other output.
 */
export function jsonLogger(out: ((line: string) => void) | { fd: number } = { fd: 2 }): Logger {
  const dest = typeof out === 'function' ? { write: out } : pino.destination({ fd: out.fd, sync: true });
  const p = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, dest);
  return (event, fields = {}) => p.info({ event, ...fields });
}

export const silentLogger: Logger = () => {};
