import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import helmet from 'helmet';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Health } from './health.js';
import type { Middleware } from 'koa';
import { corsMiddleware, type CorsSettings } from './cors.js';
import { jsonBody, observe, type AccessLogOptions, probes, problemErrors, recordHelmetHeaders, rejectOperatorInput, requestContextScope, requestId, requestTimeout, securityHeaders } from './middleware.js';
import { createEdgeProtection, edgeConfig, type EdgeOptions } from './protection/index.js';

export interface KoaAppOptions {
  logger: Logger;
  metrics: Metrics;
  health: Health;
  /** Largest JSON body accepted, e.g. '256kb'; larger gets 413. */
  bodyLimit?: string;
  requestTimeoutMs?: number;
  /** Trust X-Forwarded-* from the edge proxy / Ingress. */
  proxy?: boolean;
  /** Access-log sampling; errors and slow requests are always logged. */
  accessLog?: AccessLogOptions;
  /**
   * Answers hot, cached reads before the costlier layers (request scope, error
   * mapping, timeout, body parsing, routing); calls `next` for anything else.
   * Request id, metrics, access log and security headers still apply.
   */
  fastPath?: Middleware;
  /** CORS for browser storefronts (the CORS_* settings of the base config); none when absent. */
  cors?: CorsSettings;
  /**
   * Edge protection (bots, rate limits, admission control, cache policy):
   * pass the service config and its Redis. Without it the defaults apply with
   * per-process limits. See docs/edge-protection.md.
   */
  edge?: EdgeOptions;
}

/**
 * The headers OWASP's REST Security Cheat Sheet asks of a JSON API (nosniff,
 * frame denial, a deny-all CSP, HSTS); helmet's browser-page headers (DNS
 * prefetch, download options, cross-origin policies...) are off: they protect
 * HTML documents, and each costs a header on every response.
 */
const API_SECURITY_HEADERS = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: { policy: 'no-referrer' as const },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  xContentTypeOptions: true,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' as const },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** The security headers of every API answer, as name/value pairs: for proxies in front of the services (the local edge). */
export function apiSecurityHeaders(): Array<[string, string]> {
  return recordHelmetHeaders(helmet(API_SECURITY_HEADERS) as Parameters<typeof recordHelmetHeaders>[0]);
}

/**
 * The Koa app every service starts from: the edge's bad-bot screen, request
 * id, access log and metrics, security headers, CORS, edge protection, an
 * optional fast path for cached reads, request scope
 * (AsyncLocalStorage), problem-JSON errors, probes, request timeout, JSON body
 * parsing with a size limit, and operator-injection guards. The service then
 * mounts its routers. No listening here (see server.ts).
 */
export function createKoaApp(options: KoaAppOptions): Koa {
  const { logger, metrics, health } = options;
  const app = new Koa({ proxy: options.proxy ?? true });
  app.silent = true;
  app.on('error', (error: unknown) => logger.error({ err: error }, 'koa error'));
  const edge = createEdgeProtection({ config: edgeConfig(), ...options.edge, logger, metrics, answerHeaders: apiSecurityHeaders(), draining: () => health.isDraining });
  // Bad bots are answered before anything else runs: a flood of them costs a classification and a 403 each.
  app.use(edge.screen);
  app.use(requestId());
  app.use(observe(logger, metrics, health, options.accessLog));
  app.use(securityHeaders(helmet(API_SECURITY_HEADERS) as Parameters<typeof securityHeaders>[0]));
  // Before the fast path, authentication and any limiter: a preflight carries no credentials.
  if (options.cors) app.use(corsMiddleware(options.cors));
  app.use(edge.middleware);
  if (options.fastPath) app.use(options.fastPath);
  app.use(requestContextScope());
  app.use(problemErrors(logger));
  app.use(probes(health, metrics));
  app.use(requestTimeout(options.requestTimeoutMs ?? 10_000));
  app.use(
    jsonBody(bodyParser({
      enableTypes: ['json'],
      jsonLimit: options.bodyLimit ?? '256kb',
      encoding: 'utf-8',
      onError(error: Error & { status?: number }) {
        throw Object.assign(error, { status: error.status ?? 400, expose: true });
      },
    })),
  );
  app.use(rejectOperatorInput());
  return app;
}
