import { randomUUID } from 'node:crypto';
import type { Context, Next, Middleware } from 'koa';
import { AppError, badRequest, isCallerError } from './errors.js';
import { requestContext, type Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Health } from './health.js';
import { findOperatorKeys } from './validate.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The caller's request id when it looks sane, else a new one (shared with the local edge). */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Takes the caller's `x-request-id` when it looks sane, else makes one; echoes it back. */
export function requestId(): Middleware {
  return function requestIdMiddleware(ctx: Context, next: Next) {
    const id = requestIdFrom(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('x-request-id', id);
    return next();
  };
}

/**
 * Carries the request id through every await (AsyncLocalStorage), so deep log
 * lines and outgoing calls have it. On Node 20 this costs ~10 us per request
 * (promise hooks), which is why a service's cache fast path runs before it.
 */
export function requestContextScope(): Middleware {
  return function requestContextMiddleware(ctx: Context, next: Next) {
    return requestContext.run({ requestId: String(ctx.state.requestId) }, next);
  };
}

function routeLabel(ctx: Context): string {
  if (typeof ctx.state.route === 'string') return ctx.state.route;
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return QUIET_PATHS.has(ctx.path) ? ctx.path : 'unmatched';
}

export interface AccessLogOptions {
  /** Share of fast, successful requests that get an access-log line (0..1). */
  sample: number;
  /** Requests slower than this are always logged. */
  slowMs: number;
}

/**
 * Request metrics for every request, and an access log: every error (4xx/5xx),
 * every slow request, and a sample of the rest; refusals of the edge protection
 * are logged by it instead, aggregated. At 30x traffic a line per cached
 * read costs a third of a catalog replica's CPU and mostly repeats what the
 * Ingress logs and the metrics count. Health and metrics endpoints stay out.
 * A handler marks an expected, frequent refusal with `ctx.state.routine = true`:
 * it is then sampled like a success (a doorbuster's thousands of sold-out 409s
 * would otherwise cost a JSON line each; the request histogram still counts them).
 */
export function observe(logger: Logger, metrics: Metrics, health: Health, access: AccessLogOptions = { sample: 1, slowMs: 500 }): Middleware {
  function done(ctx: Context, started: bigint): void {
    metrics.httpInFlight.dec();
    // While draining, ask keep-alive clients to reconnect elsewhere.
    if (health.isDraining && !ctx.headerSent) ctx.set('connection', 'close');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeLabel(ctx);
    metrics.httpDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
    const ms = Math.round(seconds * 1e4) / 10;
    // A routine refusal (ctx.state.routine, e.g. a sold-out 409 in a rush) is counted above but logged only as sampled.
    const notable = (ctx.status >= 400 && ctx.state.routine !== true) || ms >= access.slowMs;
    // Requests the edge protection refused are in its own aggregated log (docs/edge-protection.md): a flood must not write a line each.
    if (!QUIET_PATHS.has(ctx.path) && ctx.state.edgeRefused !== true && (notable || Math.random() < access.sample)) {
      const entry = { requestId: ctx.state.requestId, method: ctx.method, route, path: ctx.path, status: ctx.status, ms };
      if (ctx.status >= 500) logger.warn(entry, 'request failed');
      else logger.info(entry, 'request');
    }
  }
  // Not an async function: one promise less on every request's path.
  return function observeMiddleware(ctx: Context, next: Next) {
    const started = process.hrtime.bigint();
    metrics.httpInFlight.inc();
    return next().then(
      () => done(ctx, started),
      (error: unknown) => {
        done(ctx, started);
        throw error;
      },
    );
  };
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  type?: string;
}

/** Statuses a router or body parser answers on its own: kept as they are, with a problem body. */
const PROTOCOL_CODES: Record<number, string> = {
  405: 'method_not_allowed',
  406: 'not_acceptable',
  411: 'length_required',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  501: 'not_implemented',
};

/** The methods the routes matching this path accept (from @koa/router's `ctx.matched`), for `Allow`. */
function allowedMethodsOf(ctx: Context): string[] {
  const matched = (ctx as Context & { matched?: Array<{ methods?: string[] }> }).matched ?? [];
  return [...new Set(matched.flatMap((layer) => layer.methods ?? []))];
}

/**
 * First middleware after the request id: every error becomes a problem-JSON body
 * (RFC 9457). AppErrors and http-errors marked `expose` keep their message; a
 * router's 405 or 501 stays what it is, and every 405 carries `Allow` (RFC 9110
 * 15.5.6) whether the router threw it or set it. Every 5xx is logged with its
 * cause; unknown errors are answered as a bare 500.
 */
export function problemErrors(logger: Logger): Middleware {
  return async function problemErrorsMiddleware(ctx: Context, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError(404, 'not_found', 'Not found', { detail: `no route for ${ctx.method} ${ctx.path}` });
      // A router told not to throw sets 405/501 and Allow but no body.
      if ((ctx.status === 405 || ctx.status === 501) && (ctx.body === undefined || ctx.body === null)) throw Object.assign(new Error(ctx.message), { status: ctx.status, expose: true });
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500) {
        const known = error instanceof AppError || problem.status === 501;
        if (known) logger.warn({ err: error, status: problem.status }, 'answered with a server error');
        else logger.error({ err: error }, 'unhandled error');
      }
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
      if (problem.status === 405 || problem.status === 501) {
        const allow = ctx.response.get('allow') || allowedMethodsOf(ctx).join(', ');
        if (allow) ctx.set('allow', allow);
      }
      ctx.body = { ...problem.body, requestId: ctx.state.requestId };
    }
  };
}

function toProblem(error: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  if (error instanceof AppError) {
    const body: Record<string, unknown> = { type: `urn:problem:${error.code}`, title: error.message, status: error.status, ...error.extra };
    if (error.detail) body.detail = error.detail;
    if (error.fields) body.errors = error.fields;
    return { status: error.status, headers: error.headers, body };
  }
  const httpish = (error ?? {}) as HttpishError;
  const status = httpish.status ?? httpish.statusCode ?? 500;
  if (PROTOCOL_CODES[status] && (status < 500 ? httpish.expose : true)) {
    return { status, headers: {}, body: { type: `urn:problem:${PROTOCOL_CODES[status]}`, title: httpish.message ?? 'Request not supported', status } };
  }
  if (status < 500 && httpish.expose) {
    const fields = status === 400 ? [{ field: 'body', message: httpish.message ?? 'invalid' }] : undefined;
    const body: Record<string, unknown> = { type: 'urn:problem:bad_request', title: httpish.message ?? 'Bad request', status };
    if (fields) body.errors = fields;
    return { status, headers: {}, body };
  }
  // A value mongoose could not cast or validate reached a query: the input's fault (see isCallerError).
  if (isCallerError(error)) {
    return { status: 400, headers: {}, body: { type: 'urn:problem:validation_failed', title: 'Request is invalid', status: 400, detail: 'a value does not fit its field' } };
  }
  return { status: 500, headers: {}, body: { type: 'urn:problem:internal', title: 'Internal server error', status: 500 } };
}

/**
 * Answers 503 if a handler runs past `ms`. The handler is not cancelled (Node has
 * no way to), but the client and the balancer stop waiting for it. One timer per
 * request and no extra promise: this sits on every request's path.
 */
export function requestTimeout(ms: number): Middleware {
  const body = (requestId: unknown) =>
    JSON.stringify({ type: 'urn:problem:request_timeout', title: 'Request timed out', status: 503, detail: `no answer within ${ms} ms`, requestId });
  return async function requestTimeoutMiddleware(ctx: Context, next: Next) {
    if (ms <= 0) return next();
    const timer = setTimeout(() => {
      if (ctx.res.headersSent) return;
      ctx.res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1', 'x-request-id': String(ctx.state.requestId ?? '') });
      ctx.res.end(body(ctx.state.requestId));
    }, ms);
    try {
      await next();
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Parses JSON bodies only for methods that carry one; GET and HEAD skip the parser. */
export function jsonBody(parser: Middleware): Middleware {
  return async function jsonBodyMiddleware(ctx: Context, next: Next) {
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS') return next();
    return parser(ctx, next);
  };
}

type HelmetLike = (req: unknown, res: unknown, next: (error?: unknown) => void) => void;

/**
 * Runs helmet once against a recording response and returns the headers it set.
 * Our options are static, so every response can get the recorded list: the same
 * output as running helmet per request, without its per-request middleware chain.
 */
export function recordHelmetHeaders(helmetMiddleware: HelmetLike): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: string | number | string[]) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  helmetMiddleware({ headers: {} }, recorder, (error) => {
    if (error) throw error;
  });
  return headers;
}

/** Security headers chosen by helmet, recorded once (recordHelmetHeaders) and set on every response. */
export function securityHeaders(helmetMiddleware: HelmetLike): Middleware {
  const headers = recordHelmetHeaders(helmetMiddleware);
  return function securityHeadersMiddleware(ctx: Context, next: Next) {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    return next();
  };
}

/**
 * Query keys like `price[$gt]` and body keys like `$gt` or `a.b`, anywhere in the
 * JSON, are refused before any handler sees them: the one operator-injection guard
 * for every route, whether or not its handler validates with zod.
 */
export function rejectOperatorInput(): Middleware {
  return async function rejectOperatorInputMiddleware(ctx: Context, next: Next) {
    const bad = Object.keys(ctx.query)
      .filter((key) => /[$[\].\0]/.test(key))
      .map((key) => ({ field: `query.${key}`, message: 'operator-like parameters are not allowed' }));
    if (bad.length > 0) throw badRequest('query contains operator-like parameters', bad);
    const bodyKeys = findOperatorKeys((ctx.request as { body?: unknown }).body, 'body');
    if (bodyKeys.length > 0) throw badRequest('body contains operator-like keys', bodyKeys);
    await next();
  };
}

/** `/healthz`, `/readyz` and `/metrics`, answered before routing and body parsing. */
export function probes(health: Health, metrics: Metrics): Middleware {
  return async function probesMiddleware(ctx: Context, next: Next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      const live = health.live();
      ctx.status = live ? 200 : 503;
      ctx.body = { status: live ? 'ok' : 'stalled' };
    } else if (ctx.path === '/readyz') {
      const report = await health.ready();
      ctx.status = report.ready ? 200 : 503;
      ctx.body = { status: report.ready ? 'ready' : report.draining ? 'draining' : 'not ready', checks: report.checks };
    } else if (ctx.path === '/metrics') {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    } else {
      return next();
    }
    ctx.set('cache-control', 'no-store');
  };
}

