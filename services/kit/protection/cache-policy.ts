import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { EdgeConfig, RouteClass } from './config.js';

/** `Cache-Control` of public browse responses, for browsers (max-age) and shared caches (s-maxage). */
export function publicCacheControl(config: EdgeConfig): string {
  return `public, max-age=${config.EDGE_CACHE_MAX_AGE_S}, s-maxage=${config.EDGE_CACHE_S_MAXAGE_S}, stale-while-revalidate=${config.EDGE_CACHE_SWR_S}, stale-if-error=${config.EDGE_CACHE_SIE_S}`;
}

const DIRECTIVES = ['s-maxage', 'stale-while-revalidate', 'stale-if-error'] as const;

/**
 * The one caching policy (docs/edge-protection.md): successful GET/HEAD of a
 * browse route is public, with s-maxage, stale-while-revalidate,
 * stale-if-error and an ETag (304 when the client has it). A route may narrow
 * that (`private`, `no-store`) or set its own max-age; missing directives are
 * added. Everything else, and every error, is `no-store`.
 */
export function applyCachePolicy(ctx: Context, routeClass: RouteClass, config: EdgeConfig, policy: string): void {
  const cacheable = routeClass === 'browse' && (ctx.method === 'GET' || ctx.method === 'HEAD') && ((ctx.status >= 200 && ctx.status < 300) || ctx.status === 304);
  if (!cacheable) {
    ctx.set('cache-control', 'no-store');
    return;
  }
  const existing = ctx.response.get('cache-control');
  if (!existing) ctx.set('cache-control', policy);
  else if (!/no-store|private/.test(existing)) ctx.set('cache-control', completed(existing, config));
  if (ctx.status === 200 && !ctx.response.get('etag')) addEtag(ctx);
}

/** Routes send a handful of distinct headers; remember their completed forms (bounded). */
const completedForms = new Map<string, string>();

function completed(existing: string, config: EdgeConfig): string {
  const key = `${config.EDGE_CACHE_S_MAXAGE_S}|${config.EDGE_CACHE_SWR_S}|${config.EDGE_CACHE_SIE_S}|${existing}`;
  let form = completedForms.get(key);
  if (form === undefined) {
    form = complete(existing, config);
    if (completedForms.size < 256) completedForms.set(key, form);
  }
  return form;
}

function complete(existing: string, config: EdgeConfig): string {
  // A route's own max-age is how long its answer is true (1 s for live availability):
  // shared caches must not keep it longer, so s-maxage never exceeds it.
  const routeMaxAge = /(?:^|[\s,])max-age=(\d+)/.exec(existing)?.[1];
  const values: Record<(typeof DIRECTIVES)[number], number> = {
    's-maxage': routeMaxAge === undefined ? config.EDGE_CACHE_S_MAXAGE_S : Math.min(Number(routeMaxAge), config.EDGE_CACHE_S_MAXAGE_S),
    'stale-while-revalidate': config.EDGE_CACHE_SWR_S,
    'stale-if-error': config.EDGE_CACHE_SIE_S,
  };
  const missing = DIRECTIVES.filter((name) => !existing.includes(`${name}=`)).map((name) => `${name}=${values[name]}`);
  return missing.length === 0 ? existing : `${existing}, ${missing.join(', ')}`;
}

/** A strong ETag over the body for browse routes that did not set one; streams are left alone. */
function addEtag(ctx: Context): void {
  const body: unknown = ctx.body;
  let bytes: string | Buffer;
  if (typeof body === 'string' || Buffer.isBuffer(body)) bytes = body;
  else if (body !== null && typeof body === 'object' && typeof (body as { pipe?: unknown }).pipe !== 'function') bytes = JSON.stringify(body);
  else return;
  ctx.etag = createHash('sha1').update(bytes).digest('base64url').slice(0, 27);
  if ((ctx.get('if-none-match') || ctx.get('if-modified-since')) && ctx.fresh) ctx.status = 304;
}
