/**
 * The services `npm start` runs and the edge proxy routes, with the same path
 * prefixes as the Ingress (charts-ts). Adding a service is one entry here.
 */
export interface LocalService {
  name: string;
  /** Path prefixes routed to this service by the edge proxy. */
  prefixes: string[];
  /** Replica i listens on basePort + i. */
  basePort: number;
  /** Other services it calls, as env var -> service name. */
  calls?: Record<string, string>;
}

export const localServices: LocalService[] = [
  { name: 'catalog', prefixes: ['/api/catalog'], basePort: 9100, calls: { INVENTORY_URL: 'inventory' } },
  { name: 'inventory', prefixes: ['/api/inventory'], basePort: 9200 },
  { name: 'cart', prefixes: ['/api/cart'], basePort: 9300, calls: { CATALOG_URL: 'catalog', INVENTORY_URL: 'inventory' } },
  { name: 'checkout', prefixes: ['/api/checkout', '/api/orders'], basePort: 9400, calls: { CART_URL: 'cart', INVENTORY_URL: 'inventory' } },
  { name: 'fulfillment', prefixes: ['/api/fulfillment'], basePort: 9500, calls: { CHECKOUT_URL: 'checkout' } },
  { name: 'customers', prefixes: ['/api/customers'], basePort: 9600, calls: { CART_URL: 'cart', CHECKOUT_URL: 'checkout' } },
  { name: 'support', prefixes: ['/api/support'], basePort: 9700, calls: { CHECKOUT_URL: 'checkout' } },
  // The page at `/` and its assets; `/` is the edge's fallback route, as in the Ingress.
  { name: 'storefront', prefixes: ['/'], basePort: 9800 },
];
