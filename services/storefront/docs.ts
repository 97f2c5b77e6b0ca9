import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Router from '@koa/router';
import { mergeApiDocs, type ApiDoc } from '../kit/index.js';

/** swagger-ui may set inline styles; everything else is same-origin. */
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT = "window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: false });\n";

/**
 * The API reference at `/docs`: one OpenAPI 3.1 document merged from every
 * service's (`/docs/openapi.json`) rendered by swagger-ui, served from the npm
 * package (no CDN). The per-service documents stay at `/api/<service>/openapi.json`.
 */
export function createDocsRouter(docs: ApiDoc[]): Router {
  const uiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files: Record<string, { type: string; body: Buffer | string }> = {
    'swagger-ui.css': { type: 'text/css; charset=utf-8', body: fs.readFileSync(path.join(uiDir, 'swagger-ui.css')) },
    'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', body: fs.readFileSync(path.join(uiDir, 'swagger-ui-bundle.js')) },
    'init.js': { type: 'text/javascript; charset=utf-8', body: INIT },
  };
  let merged: string | undefined;
  const router = new Router({ prefix: '/docs' });
  router.get('/', (ctx) => {
    ctx.set('content-security-policy', DOCS_CSP);
    ctx.set('cache-control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });
  router.get('/openapi.json', (ctx) => {
    merged ??= JSON.stringify(mergeApiDocs(docs, { title: 'Shop API', version: '1.0.0', description: 'Every public, admin and internal operation of the shop\'s services. Errors are application/problem+json.' }));
    ctx.set('cache-control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = merged;
  });
  router.get('/:file', (ctx) => {
    const file = files[ctx.params.file];
    if (!file) return;
    ctx.set('content-security-policy', DOCS_CSP);
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.type = file.type;
    ctx.body = file.body;
  });
  return router;
}
