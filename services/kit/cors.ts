import cors from '@koa/cors';
import type { Context, Middleware } from 'koa';

/** The CORS part of the base config (CORS_* variables; see baseConfigShape). */
export interface CorsSettings {
  /** Origins a browser storefront may call from (`https://shop.example`); `*` allows any; empty allows none. */
  CORS_ORIGINS: readonly string[];
  CORS_METHODS: readonly string[];
  CORS_ALLOW_HEADERS: readonly string[];
  CORS_EXPOSE_HEADERS: readonly string[];
  /** How long a browser may reuse a preflight answer. */
  CORS_MAX_AGE_S: number;
}

/**
 * CORS for browser storefronts on other origins (@koa/cors). Only listed
 * origins get `Access-Control-Allow-Origin` (echoed, with `Vary: Origin`); any
 * other origin gets no CORS header, so the browser keeps the answer from the
 * page. Preflights are answered here, before authentication and rate limits:
 * a browser never sends credentials with them. No cookies are used, so no
 * `Allow-Credentials` (tokens travel in `Authorization` and `X-Cart-Token`).
 */
export function corsMiddleware(settings: CorsSettings): Middleware {
  const allowed = new Set(settings.CORS_ORIGINS);
  const any = allowed.has('*');
  return cors({
    origin: (ctx: Context) => {
      const origin = ctx.get('origin');
      return origin && (any || allowed.has(origin)) ? origin : '';
    },
    allowMethods: [...settings.CORS_METHODS],
    allowHeaders: [...settings.CORS_ALLOW_HEADERS],
    exposeHeaders: [...settings.CORS_EXPOSE_HEADERS],
    maxAge: settings.CORS_MAX_AGE_S,
    credentials: false,
    keepHeadersOnError: true,
  });
}
