import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type Koa from 'koa';
import type Router from '@koa/router';
import request from 'supertest';
import { createRouteClassifier, DEFAULT_ROUTE_CLASSES, ManualClock } from '../../services/kit/index.js';
import { uniqueName } from '../helpers/env.js';
import { startCheckoutStack } from '../checkout/helpers.js';
import { startCustomers } from '../customers/helpers.js';
import { startSupport } from '../support/helpers.js';

/** A service app to walk, with sample values for its route parameters (anything else gets `x`). */
interface Walked {
  name: string;
  app: Koa;
  params?: Record<string, string>;
}

/** Every (method, path template) of every router mounted on `app` (@koa/router marks its dispatcher with `.router`). */
function routesOf(app: Koa): Array<{ method: string; path: string }> {
  const routers = app.middleware.map((fn) => (fn as { router?: Router }).router).filter((router): router is Router => router !== undefined);
  return routers.flatMap((router) => router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => ({ method, path: String(layer.path) }))));
}

const classify = createRouteClassifier(DEFAULT_ROUTE_CLASSES);
const stack = await startCheckoutStack({ dbName: uniqueName(import.meta.url), clock: new ManualClock(Date.now()) });
const customers = await startCustomers({ dbName: uniqueName(import.meta.url) });
const support = await startSupport({ dbName: uniqueName(import.meta.url) });
after(() => Promise.all([stack.close(), customers.close(), support.close()]));

test('when every registered route of every service is called, then public browse reads carry the shared cache policy with an ETag (304 on revalidation) and everything else is no-store', async () => {
  const product = await stack.catalog.createProduct({ sku: 'SKU-WALK-1', slug: 'walk-kettle', name: 'Kettle', price: { amount: 1999, currency: 'EUR' } });
  // A new service is one more line here.
  const services: Walked[] = [
    { name: 'catalog', app: stack.catalog.app, params: { idOrSlug: product.slug } },
    { name: 'cart', app: stack.cart.app },
    { name: 'inventory', app: stack.inv.app, params: { sku: 'SKU-WALK-1' } },
    { name: 'checkout', app: stack.checkout.app },
    { name: 'fulfillment', app: stack.fulfillment.app },
    { name: 'customers', app: customers.app },
    { name: 'support', app: support.app },
  ];
  let publicReads = 0;
  let walked = 0;
  for (const service of services) {
    const server = request(service.app.callback());
    const routes = routesOf(service.app);
    assert.ok(routes.length > 0, `${service.name} has routes`);
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, (_match, name: string) => service.params?.[name] ?? 'x');
      const call = server[route.method.toLowerCase() as 'get'](path);
      const response = route.method === 'GET' || route.method === 'DELETE' ? await call : await call.send({});
      const where = `${service.name} ${route.method} ${route.path} -> ${response.status}`;
      const cacheControl = String(response.headers['cache-control'] ?? '');
      walked += 1;
      const browse = classify(route.method, path) === 'browse';
      if (!browse || response.status >= 300) {
        assert.equal(cacheControl, 'no-store', where);
        continue;
      }
      if (/no-store|private/.test(cacheControl)) continue; // a browse route may narrow the policy (e.g. live stock)
      publicReads += 1;
      for (const directive of ['public', 'max-age=', 's-maxage=', 'stale-while-revalidate=', 'stale-if-error=']) assert.ok(cacheControl.includes(directive), `${where}: ${cacheControl} lacks ${directive}`);
      const etag = response.headers.etag;
      assert.ok(etag, `${where}: no ETag`);
      await server.get(path).set('if-none-match', String(etag)).expect(304);
    }
  }
  assert.ok(walked >= 20, `walked ${walked} routes`);
  assert.ok(publicReads >= 3, `checked ${publicReads} public reads`);
});
