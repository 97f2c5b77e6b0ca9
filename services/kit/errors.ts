/** One invalid input field, named the way the client sent it (`body.price.amount`). */
export interface FieldError {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  detail?: string;
  fields?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members of the problem body (e.g. `limit`, `max`). */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error type handlers throw. The error middleware turns it into an
 * RFC 9457 problem-JSON answer; anything else becomes a generic 500.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly expose = true;
  readonly detail: string | undefined;
  readonly fields: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    readonly status: number,
    readonly code: string,
    title: string,
    options: AppErrorOptions = {},
  ) {
    super(title, { cause: options.cause });
    this.detail = options.detail;
    this.fields = options.fields;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

/**
 * Builds an error without capturing a stack trace, for frequent answers that are
 * part of normal business and never logged (a sold-out 409 in a doorbuster rush):
 * V8 collects the frames on construction, and under `tsx` every trace also goes
 * through source maps once read. Everything else keeps its stack.
 */
export function withoutStack<T extends Error>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export const badRequest = (detail: string, fields?: FieldError[]) =>
  new AppError(400, 'validation_failed', 'Request is invalid', { detail, fields });

export const unauthorized = (detail = 'A valid admin token is required') =>
  new AppError(401, 'unauthorized', 'Unauthorized', { detail, headers: { 'www-authenticate': 'Bearer' } });

export const forbidden = (detail = 'Not allowed') => new AppError(403, 'forbidden', 'Forbidden', { detail });

export const notFound = (detail = 'Not found') => new AppError(404, 'not_found', 'Not found', { detail });

export const conflict = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new AppError(409, code, 'Conflict', { detail, extra });

export const unprocessable = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new AppError(422, code, 'Unprocessable request', { detail, extra });

export const unavailable = (code: string, detail: string, retryAfterS = 5) =>
  new AppError(503, code, 'Service unavailable', { detail, headers: { 'retry-after': String(retryAfterS) } });

/** Mongoose's errors for a value that does not fit its field: the input's fault, not the database's. */
const CALLER_ERROR_NAMES = new Set(['CastError', 'ValidationError', 'ValidatorError', 'StrictModeError', 'ZodError']);

/**
 * True when an error was caused by the request (an AppError or http-error below
 * 500, a validation or cast error), false when a dependency or our own code
 * failed. Circuit breakers count only the latter: a client sending bad input
 * must not open a breaker that then fails every other client (issue 9, item 1).
 */
export function isCallerError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { status?: unknown; statusCode?: unknown; name?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) return status >= 400 && status < 500;
  return typeof e.name === 'string' && CALLER_ERROR_NAMES.has(e.name);
}

/** The complement of isCallerError: what a breaker and a 503 are for. */
export const isDependencyFailure = (error: unknown): boolean => !isCallerError(error);
