/**
 * Gateway API (gateway.networking.k8s.io/v1), the Ingress' successor: a Gateway and one
 * HTTPRoute with the same prefixes. Per prefix there are two rules: GET/HEAD (idempotent,
 * may be retried) and everything else (never retried). Method matches rank above plain
 * path matches, so the split is exact.
 *
 * - `timeouts` (request, backendRequest) is in the v1 standard channel.
 * - `retry` is experimental (GEP-1731, Gateway API v1.2+): written only when
 *   `edge.gateway.experimentalRetry` is true, i.e. when the experimental CRDs are installed;
 *   the standard CRDs would reject or prune it.
 * Body size and rate limits have no standard field; they belong to implementation
 * policies (e.g. NGINX Gateway Fabric ClientSettingsPolicy) and are left to the platform.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { IGatewaySpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewaySpec';
import type { IHTTPRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteSpec';
import type { IHTTPRouteRule } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteRule';
import type { EdgeSettings, Labels } from '../settings.js';
import type { EdgeRoute } from './edge-routes.js';

/** Props of {@link ShopGateway}. */
export interface ShopGatewayProps {
  /** The app namespace, where the HTTPRoute and Services live. */
  readonly namespace: string;
  readonly edge: EdgeSettings;
  readonly routes: readonly EdgeRoute[];
  readonly labels: Labels;
}

const API_VERSION = 'gateway.networking.k8s.io/v1';

/** Gateway + HTTPRoute. */
export class ShopGateway extends Construct {
  constructor(scope: Construct, id: string, props: ShopGatewayProps) {
    super(scope, id);
    const { edge } = props;
    const hostname = edge.host;
    const gatewayNs = edge.gateway.namespace;
    // Only routes from the app namespace may attach to this Gateway.
    const allowedRoutes = {
      namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': props.namespace } } },
    };
    const listeners: IGatewaySpec['listeners'] = [{ name: 'http', protocol: 'HTTP', port: 80, hostname, allowedRoutes }];
    if (edge.tlsSecretName) {
      listeners.push({
        name: 'https',
        protocol: 'HTTPS',
        port: 443,
        hostname,
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: edge.tlsSecretName }] },
        allowedRoutes,
      });
    }
    const gatewaySpec: IGatewaySpec = { gatewayClassName: edge.gateway.className, listeners };
    new ApiObject(this, 'Gateway', {
      apiVersion: API_VERSION,
      kind: 'Gateway',
      metadata: { name: 'shop', namespace: gatewayNs, labels: { ...props.labels } },
      spec: gatewaySpec,
    });

    const timeouts = { request: `${edge.requestTimeoutSeconds}s`, backendRequest: `${edge.backendTimeoutSeconds}s` };
    if (edge.backendTimeoutSeconds > edge.requestTimeoutSeconds) {
      throw new Error('charts-ts: edge.backendTimeoutSeconds must not exceed requestTimeoutSeconds');
    }
    // HTTPRoute allows at most 16 rules; two per prefix leaves room for eight prefixes.
    if (props.routes.length > 8) throw new Error('charts-ts: too many public prefixes for one HTTPRoute');
    const rules: IHTTPRouteRule[] = props.routes.flatMap((r) => {
      const path = { type: 'PathPrefix' as const, value: r.pathPrefix };
      const backendRefs = [{ name: r.serviceName, port: r.servicePort }];
      const idempotent: IHTTPRouteRule = {
        matches: [{ path, method: 'GET' }, { path, method: 'HEAD' }],
        backendRefs,
        timeouts,
        // 502 only: 503 is the services' load shedding, which a retry would amplify.
        ...(edge.gateway.experimentalRetry ? { retry: { attempts: 2, backoff: '100ms', codes: [502] } } : {}),
      };
      return [idempotent, { matches: [{ path }], backendRefs, timeouts }];
    });
    const routeSpec: IHTTPRouteSpec = {
      parentRefs: [{ name: 'shop', namespace: gatewayNs }],
      hostnames: hostname ? [hostname] : undefined,
      rules,
    };
    new ApiObject(this, 'HttpRoute', {
      apiVersion: API_VERSION,
      kind: 'HTTPRoute',
      metadata: { name: 'shop', labels: { ...props.labels } },
      spec: routeSpec,
    });
  }
}
