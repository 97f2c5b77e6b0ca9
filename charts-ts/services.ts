/**
 * The services deployed from the one shop image, as one typed list. Adding a service
 * (checkout, support, the fulfillment worker) is one entry here; every construct,
 * route and NetworkPolicy is derived from it.
 */

/** Every service the image knows (`SERVICE` env var), deployed or planned. */
export type ServiceName = 'catalog' | 'inventory' | 'cart' | 'checkout' | 'support' | 'fulfillment';

/** Keys of the operator-made Secret (docs/kubernetes.md). */
export type SecretKey = 'MONGODB_URI' | 'REDIS_URL' | 'ADMIN_TOKEN';

/** What the charts need to know about one service. */
export interface ServiceDefinition {
  readonly name: ServiceName;
  /** `http` gets a Service and may be public; `worker` (queue consumer) gets neither. */
  readonly kind: 'http' | 'worker';
  /** Path prefixes routed by the public edge, unchanged (routes carry their prefix); empty = internal. */
  readonly publicPathPrefixes: readonly string[];
  /** Services this one calls over HTTP: env `<NAME>_URL` plus NetworkPolicy paths. */
  readonly calls: readonly ServiceName[];
  /** Secret keys mounted as env vars. */
  readonly secrets: readonly SecretKey[];
}

const ALL_SECRETS: readonly SecretKey[] = ['MONGODB_URI', 'REDIS_URL', 'ADMIN_TOKEN'];

/** The deployed services (DESIGN.md "Services and what each owns"). */
export const SERVICES: readonly ServiceDefinition[] = [
  { name: 'catalog', kind: 'http', publicPathPrefixes: ['/api/catalog'], calls: [], secrets: ALL_SECRETS },
  // inventory's admin and internal routes are reached only by cart (later checkout), never the edge.
  { name: 'inventory', kind: 'http', publicPathPrefixes: [], calls: [], secrets: ALL_SECRETS },
  { name: 'cart', kind: 'http', publicPathPrefixes: ['/api/cart'], calls: ['catalog', 'inventory'], secrets: ALL_SECRETS },
  { name: 'checkout', kind: 'http', publicPathPrefixes: ['/api/checkout', '/api/orders'], calls: ['cart', 'inventory'], secrets: ALL_SECRETS },
  // http, not worker: it serves probes, metrics and the admin-only queue dashboard over its Service; it calls checkout to move order status.
  { name: 'fulfillment', kind: 'http', publicPathPrefixes: ['/api/fulfillment'], calls: ['checkout'], secrets: ALL_SECRETS },
  // Later, one line:
  // { name: 'support', kind: 'http', publicPathPrefixes: ['/api/support'], calls: [], secrets: ALL_SECRETS },
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
