/**
 * The one small error hierarchy of Vitrine. Every parser and core function
 * throws one of these; the HTTP layer maps them to statuses in one place
 * (src/http/errors.ts) and the CLI maps them to exit codes. Messages name
 * the field and the rule that broke, and never carry secrets.
 */

/** Base class: `code` is a stable machine-readable identifier. */
export class VitrineError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input that does not parse: wrong syntax, wrong length, non-canonical text form. HTTP 400. */
export class MalformedError extends VitrineError {
  constructor(message: string, code = 'malformed') {
    super(code, message);
  }
}

/** Well-formed input that breaks a rule: bad signature, non-canonical CBOR, field rule. HTTP 422. */
export class InvalidError extends VitrineError {
  constructor(message: string, code = 'invalid') {
    super(code, message);
  }
}

/** Unknown index, hash, origin or path. HTTP 404. */
export class NotFoundError extends VitrineError {
  constructor(message: string, code = 'not-found') {
    super(code, message);
  }
}

/** A compare-and-swap lost, or a witness's known size differs. HTTP 409. */
export class ConflictError extends VitrineError {
  readonly size: bigint;
  constructor(message: string, size: bigint, code = 'conflict') {
    super(code, message);
    this.size = size;
  }
}

/** Not signed by a key we trust (witness protocol). HTTP 403. */
export class ForbiddenError extends VitrineError {
  constructor(message: string, code = 'forbidden') {
    super(code, message);
  }
}

/** Body larger than the configured limit. HTTP 413. */
export class TooLargeError extends VitrineError {
  constructor(message: string, code = 'too-large') {
    super(code, message);
  }
}

/** Content type we do not accept. HTTP 415. */
export class UnsupportedMediaTypeError extends VitrineError {
  constructor(message: string, code = 'unsupported-media-type') {
    super(code, message);
  }
}

/**
 * Pushback: the pool is full, the log is shutting down, the witness quorum
 * was not reached in time (503), or the client is rate limited (429).
 * `retryAfter` is in whole seconds.
 */
export class PushbackError extends VitrineError {
  readonly retryAfter: number;
  readonly status: 429 | 503;
  constructor(message: string, retryAfter: number, status: 429 | 503 = 503, code = status === 429 ? 'rate-limited' : 'unavailable') {
    super(code, message);
    this.retryAfter = retryAfter;
    this.status = status;
  }
}
