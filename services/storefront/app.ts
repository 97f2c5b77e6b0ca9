import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type Koa from 'koa';
import { createKoaApp, type Health, type Logger, type Metrics } from '../kit/index.js';
import type { StorefrontConfig } from './config.js';
import { createDocsRouter } from './docs.js';
import { allApiDocs } from './api-docs.js';

export interface StorefrontDeps {
  config: StorefrontConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  /** Folder of index.html, app.js, style.css (defaults to ./public beside this module). */
  publicDir?: string;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * A page, not an API: its scripts, styles and fetches come from this origin
 * only (the Ingress serves the page and the APIs under one host).
 */
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Reads the files once at start: a handful of small files, served from memory with strong ETags. */
function loadAssets(dir: string, assetMaxAgeS: number): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (!type) continue;
    const body = fs.readFileSync(`${dir}/${name}`);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const cacheControl = ext === '.html' ? 'public, max-age=0' : `public, max-age=${assetMaxAgeS}, stale-while-revalidate=${assetMaxAgeS}`;
    assets.set(name, { body, type, etag, cacheControl });
  }
  return assets;
}

/** Builds the storefront's Koa app: `/` is the page, `/storefront/<file>` its assets, `/docs` the API reference. */
export function createStorefrontApp(deps: StorefrontDeps): Koa {
  const { config, logger, metrics, health } = deps;
  const dir = deps.publicDir ?? fileURLToPath(new URL('./public', import.meta.url));
  const assets = loadAssets(dir, config.STOREFRONT_ASSET_MAX_AGE_S);
  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, cors: config, edge: { config } });
  const router = new Router();
  const send = (ctx: Koa.Context, name: string) => {
    const asset = assets.get(name);
    if (!asset) return;
    ctx.set('content-security-policy', PAGE_CSP);
    ctx.set('cache-control', asset.cacheControl);
    ctx.set('etag', asset.etag);
    ctx.type = asset.type;
    if (ctx.get('if-none-match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
  };
  router.get('/', (ctx) => send(ctx, 'index.html'));
  router.get('/storefront/:file', (ctx) => send(ctx, ctx.params.file));
  const docs = createDocsRouter(allApiDocs());
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  app.use(docs.routes());
  app.use(docs.allowedMethods({ throw: true }));
  return app;
}
