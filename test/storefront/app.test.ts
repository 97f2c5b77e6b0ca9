import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { loadConfig } from '../../services/kit/index.js';
import { storefrontConfigShape } from '../../services/storefront/config.js';
import { createStorefrontApp } from '../../services/storefront/app.js';
import { testObservability } from '../helpers/env.js';
import { DOCUMENTED_SERVICES } from '../openapi/services.js';

const app = createStorefrontApp({ config: loadConfig(storefrontConfigShape, {}), ...testObservability('storefront') });
const server = request(app.callback());

test('when the page is asked for, then it is HTML cached as a public browse page (the kit\'s policy), with a same-origin CSP', async () => {
  const page = await server.get('/').expect(200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.headers['cache-control'], /^public, max-age=\d+/);
  assert.ok(page.headers.etag);
  assert.match(page.headers['content-security-policy'], /default-src 'self'/);
  assert.match(page.headers['content-security-policy'], /connect-src 'self'/);
  assert.match(page.text, /<script type="module" src="\/storefront\/app.js">/);
});

test('when an asset is asked for again with its ETag, then 304; its scripts are cacheable', async () => {
  const first = await server.get('/storefront/app.js').expect(200);
  assert.match(first.headers['content-type'], /^text\/javascript/);
  assert.match(first.headers['cache-control'], /^public, max-age=\d+/);
  const again = await server.get('/storefront/app.js').set('if-none-match', first.headers.etag).expect(304);
  assert.equal(again.text, '');
  await server.get('/storefront/style.css').expect(200).expect('content-type', /^text\/css/);
  // app.js imports its logic module from beside it; the module's type declarations are for the tests only.
  assert.match((await server.get('/storefront/app.js')).text, /from '\.\/logic\.js'/);
  await server.get('/storefront/logic.js').expect(200).expect('content-type', /^text\/javascript/);
  await server.get('/storefront/logic.d.ts').expect(404);
});

test('when a file that is not one of the page assets is asked for, then 404; a write method on the page, 405 with Allow', async () => {
  await server.get('/storefront/..%2Fconfig.ts').expect(404);
  await server.get('/storefront/config.ts').expect(404);
  const refused = await server.post('/').send({}).expect(405);
  assert.match(refused.headers.allow, /GET/);
});

test('when /docs is opened, then the API reference page loads swagger-ui from this origin and the merged document names every service', async () => {
  const page = await server.get('/docs').expect(200);
  assert.match(page.text, /src="\/docs\/swagger-ui-bundle.js"/);
  await server.get('/docs/swagger-ui-bundle.js').expect(200).expect('content-type', /javascript/);
  await server.get('/docs/swagger-ui.css').expect(200).expect('content-type', /css/);
  const merged = await server.get('/docs/openapi.json').expect(200);
  assert.equal(merged.body.openapi, '3.1.0');
  // Every service with a document (test/openapi/services.ts) is in the merged one.
  assert.deepEqual(merged.body.tags.map((t: { name: string }) => t.name).sort(), DOCUMENTED_SERVICES.filter((s) => s.doc).map((s) => s.name).sort());
  assert.ok(merged.body.paths['/api/cart/cart/lines'].post);
  await server.get('/docs/nothing.js').expect(404);
});
