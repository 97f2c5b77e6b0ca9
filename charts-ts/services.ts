/**
 * The services deployed from the one shop image, as one typed list. Adding a service
 * (checkout, support, the fulfillment worker) is one entry here; every construct,
 * route and NetworkPolicy is derived from it.
 */

/** Every service the image knows (`SERVICE` env var), deployed or planned. */
export type ServiceName = 'catalog' | 'inventory' | 'cart' | 'checkout' | 'customers' | 'support' | 'fulfillment' | 'storefront';

/**
 * Keys of the operator-made Secret (docs/kubernetes.md "Secrets"). Each is a
 * separate credential, and a service mounts only those it needs (issue 9, item 9).
 * A service that only verifies a bearer token gets its SHA-256, never the token:
 * - ADMIN_TOKEN_SHA256: digest of the admin token; every service with admin routes
 *   verifies it, none sends it (operators and seeding hold the token, outside the cluster);
 * - INTERNAL_TOKEN: the service token, for the services that send it (to inventory,
 *   to cart's internal routes, to checkout's fulfillment route);
 * - INTERNAL_TOKEN_SHA256: its digest, for inventory, which only verifies it;
 * - CUSTOMER_TOKEN_SECRET: HMAC key of customer tokens (signed by customers, checked by cart, checkout, support).
 */
export type SecretKey = 'MONGODB_URI' | 'REDIS_URL' | 'ADMIN_TOKEN_SHA256' | 'INTERNAL_TOKEN' | 'INTERNAL_TOKEN_SHA256' | 'CUSTOMER_TOKEN_SECRET';

/** A Secret key mounted as the env var of the same name, or under another name (a caller's `INVENTORY_TOKEN` is inventory's `INTERNAL_TOKEN`). */
export type SecretRef = SecretKey | { readonly env: string; readonly key: SecretKey };

/** The env var name and Secret key of a reference. */
export const secretEnv = (ref: SecretRef): { env: string; key: SecretKey } => (typeof ref === 'string' ? { env: ref, key: ref } : ref);

/** What the charts need to know about one service. */
export interface ServiceDefinition {
  readonly name: ServiceName;
  /** `http` gets a Service and may be public; `worker` (queue consumer) gets neither. */
  readonly kind: 'http' | 'worker';
  /** Path prefixes routed by the public edge, unchanged (routes carry their prefix); empty = internal. */
  readonly publicPathPrefixes: readonly string[];
  /** Services this one calls over HTTP: env `<NAME>_URL` plus NetworkPolicy paths. */
  readonly calls: readonly ServiceName[];
  /** Secret keys mounted as env vars: only what this service needs. */
  readonly secrets: readonly SecretRef[];
}

const STORES: readonly SecretRef[] = ['MONGODB_URI', 'REDIS_URL'];
/** What a caller of inventory's internal API mounts. */
const INVENTORY_CALLER: SecretRef = { env: 'INVENTORY_TOKEN', key: 'INTERNAL_TOKEN' };

/** The deployed services (DESIGN.md "Services and what each owns"). */
export const SERVICES: readonly ServiceDefinition[] = [
  { name: 'catalog', kind: 'http', publicPathPrefixes: ['/api/catalog'], calls: ['inventory'], secrets: [...STORES, 'ADMIN_TOKEN_SHA256', INVENTORY_CALLER] },
  // inventory's admin and internal routes are reached only by services (cart, catalog, checkout), never the edge; it verifies both tokens and sends neither.
  { name: 'inventory', kind: 'http', publicPathPrefixes: [], calls: [], secrets: [...STORES, 'ADMIN_TOKEN_SHA256', 'INTERNAL_TOKEN_SHA256'] },
  // No admin credential: cart has no admin routes. Its internal routes (for checkout) check the same service token it sends to inventory.
  { name: 'cart', kind: 'http', publicPathPrefixes: ['/api/cart'], calls: ['catalog', 'inventory'], secrets: [...STORES, INVENTORY_CALLER, 'CUSTOMER_TOKEN_SECRET'] },
  // customers signs customer tokens; it calls cart (merge at sign-in) and checkout (order history) with the customer's own token.
  { name: 'customers', kind: 'http', publicPathPrefixes: ['/api/customers'], calls: ['cart', 'checkout'], secrets: [...STORES, 'CUSTOMER_TOKEN_SECRET'] },
  { name: 'support', kind: 'http', publicPathPrefixes: ['/api/support'], calls: ['checkout'], secrets: [...STORES, 'ADMIN_TOKEN_SHA256', 'CUSTOMER_TOKEN_SECRET'] },
  // The storefront page and the API reference: static files, no secrets, the edge's fallback route.
  { name: 'storefront', kind: 'http', publicPathPrefixes: ['/'], calls: [], secrets: [] },
  // checkout verifies the admin token (admin routes, admin order reads) and sends the service token (cart, inventory; restock included).
  { name: 'checkout', kind: 'http', publicPathPrefixes: ['/api/checkout', '/api/orders'], calls: ['cart', 'inventory'], secrets: [...STORES, 'ADMIN_TOKEN_SHA256', 'INTERNAL_TOKEN', 'CUSTOMER_TOKEN_SECRET'] },
  // http, not worker: it serves probes, metrics and the admin-only queue dashboard over its Service; it calls checkout to move order status.
  { name: 'fulfillment', kind: 'http', publicPathPrefixes: ['/api/fulfillment'], calls: ['checkout'], secrets: [...STORES, 'ADMIN_TOKEN_SHA256', 'INTERNAL_TOKEN'] },
];

/** Port every service listens on inside the pod (`PORT`). */
export const CONTAINER_PORT = 8080;
/** Port of each ClusterIP Service; `<NAME>_URL` points here. */
export const SERVICE_PORT = 80;

/** In-cluster URL of a service, as given to its callers. */
export function serviceUrl(name: ServiceName, namespace: string): string {
  return `http://${name}.${namespace}.svc.cluster.local:${SERVICE_PORT}`;
}

/** Checks the list once: unique names, known callees, workers neither public nor called. */
export function assertValidServices(services: readonly ServiceDefinition[]): void {
  const byName = new Map(services.map((s) => [s.name, s]));
  if (byName.size !== services.length) throw new Error('charts-ts: duplicate service name in the service list');
  for (const s of services) {
    if (s.kind === 'worker' && s.publicPathPrefixes.length > 0) {
      throw new Error(`charts-ts: worker ${s.name} cannot have public paths`);
    }
    for (const callee of s.calls) {
      const target = byName.get(callee);
      if (!target) throw new Error(`charts-ts: ${s.name} calls ${callee}, which is not deployed`);
      if (target.kind !== 'http') throw new Error(`charts-ts: ${s.name} calls worker ${callee}, which serves no HTTP`);
    }
  }
}
