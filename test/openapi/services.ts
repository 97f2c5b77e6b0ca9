/**
 * Every service app with its API document, for the OpenAPI tests. A new
 * service adds one entry: how to build its real app, and its ApiDoc.
 */
import type Koa from 'koa';
import { loadConfig, type ApiDoc } from '../../services/kit/index.js';
import { catalogApiDoc } from '../../services/catalog/openapi.js';
import { cartApiDoc } from '../../services/cart/openapi.js';
import { inventoryApiDoc } from '../../services/inventory/openapi.js';
import { customersApiDoc } from '../../services/customers/openapi.js';
import { supportApiDoc } from '../../services/support/openapi.js';
import { checkoutApiDoc } from '../../services/checkout/openapi.js';
import { fulfillmentApiDoc } from '../../services/fulfillment/openapi.js';
import { systemClock } from '../../services/kit/index.js';
import { startCartStack } from '../cart/helpers.js';
import { startInventory } from '../inventory/helpers.js';
import { startCatalog } from '../helpers/catalog.js';
import { startCustomers } from '../customers/helpers.js';
import { startSupport } from '../support/helpers.js';
import { startCheckoutStack } from '../checkout/helpers.js';
import { storefrontConfigShape } from '../../services/storefront/config.js';
import { createStorefrontApp } from '../../services/storefront/app.js';
import { testObservability, uniqueName } from '../helpers/env.js';

export interface DocumentedService {
  name: string;
  doc?: () => ApiDoc;
  start(): Promise<{ app: Koa; close(): Promise<void> }>;
}

export const DOCUMENTED_SERVICES: DocumentedService[] = [
  {
    name: 'catalog',
    doc: catalogApiDoc,
    async start() {
      const catalog = await startCatalog({ dbName: uniqueName(import.meta.url) });
      return { app: catalog.app, close: () => catalog.close() };
    },
  },
  {
    name: 'inventory',
    doc: inventoryApiDoc,
    async start() {
      const inv = await startInventory({ dbName: uniqueName(import.meta.url) });
      return { app: inv.app, close: () => inv.close() };
    },
  },
  {
    name: 'cart',
    doc: cartApiDoc,
    async start() {
      const stack = await startCartStack({ dbName: uniqueName(import.meta.url), clock: systemClock });
      return { app: stack.cart.app, close: () => stack.close() };
    },
  },
  {
    name: 'checkout',
    doc: checkoutApiDoc,
    async start() {
      const stack = await startCheckoutStack({ dbName: uniqueName(import.meta.url), clock: systemClock });
      return { app: stack.checkout.app, close: () => stack.close() };
    },
  },
  {
    name: 'fulfillment',
    doc: fulfillmentApiDoc,
    async start() {
      const stack = await startCheckoutStack({ dbName: uniqueName(import.meta.url), clock: systemClock });
      return { app: stack.fulfillment.app, close: () => stack.close() };
    },
  },
  {
    name: 'customers',
    doc: customersApiDoc,
    async start() {
      const customers = await startCustomers({ dbName: uniqueName(import.meta.url) });
      return { app: customers.app, close: () => customers.close() };
    },
  },
  {
    name: 'support',
    doc: supportApiDoc,
    async start() {
      const support = await startSupport({ dbName: uniqueName(import.meta.url) });
      return { app: support.app, close: () => support.close() };
    },
  },
  {
    name: 'storefront',
    async start() {
      const app = createStorefrontApp({ config: loadConfig(storefrontConfigShape, {}), ...testObservability('storefront') });
      return { app, close: async () => undefined };
    },
  },
];
