/**
 * Structured logging: one JSON object per line, one line per event worth
 * knowing (start, batch committed, witness results, errors). Never pass
 * secrets or rejected input to it.
 */
export type Logger = (event: string, fields?: Record<string, unknown>) => void;

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return (event, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
  };
}

export const silentLogger: Logger = () => {};
