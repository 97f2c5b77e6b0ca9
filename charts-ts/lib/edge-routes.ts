/** The public routes, derived from the service list; shared by the Ingress and the HTTPRoute. */
import { SERVICE_PORT, type ServiceDefinition } from '../services.js';

/** One path prefix and the Service behind it. */
export interface EdgeRoute {
  readonly pathPrefix: string;
  readonly serviceName: string;
  readonly servicePort: number;
}

/** Every public prefix of every HTTP service, in service-list order. No rewrite: routes carry their prefix. */
export function edgeRoutes(services: readonly ServiceDefinition[]): EdgeRoute[] {
  return services
    .filter((s) => s.kind === 'http')
    .flatMap((s) => s.publicPathPrefixes.map((pathPrefix) => ({ pathPrefix, serviceName: s.name, servicePort: SERVICE_PORT })));
}
