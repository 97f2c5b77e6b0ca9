/**
 * Controller profiles for the Ingress. The community ingress-nginx controller was retired in
 * March 2026, so nothing here depends on it: with profile `none` the Ingress is plain and
 * portable; a profile adds the settings one maintained controller understands (timeouts,
 * body size, retries of idempotent requests only, a first-line rate limit). The services'
 * own Redis-backed limits stay the real defence; this one only sheds floods early.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { EdgeSettings, IngressProfileName, Labels } from '../settings.js';

/** What a profile adds: annotations, and controller CRD objects when it needs them. */
export interface IngressProfile {
  readonly ingressAnnotations: Labels;
  /** Put on the public Services (Traefik reads upstream timeouts there). */
  readonly serviceAnnotations: Labels;
  /** Creates the controller-specific objects (CRDs that must exist in the cluster). */
  readonly addObjects: (scope: Construct) => void;
}

const none: IngressProfile = { ingressAnnotations: {}, serviceAnnotations: {}, addObjects: () => undefined };

/**
 * F5 NGINX Ingress Controller (nginx.org/* annotations, open source edition).
 * `proxy-next-upstream` without `non_idempotent`: NGINX never passes a POST/PATCH that was
 * already sent to a second upstream, so only idempotent requests are retried. 503 is not
 * retried: it is the services' load-shedding answer, and retrying it would amplify a spike.
 */
function nginxInc(e: EdgeSettings): IngressProfile {
  return {
    ingressAnnotations: {
      'nginx.org/proxy-connect-timeout': '2s',
      'nginx.org/proxy-read-timeout': `${e.backendTimeoutSeconds}s`,
      'nginx.org/proxy-send-timeout': `${e.backendTimeoutSeconds}s`,
      'nginx.org/client-max-body-size': `${e.maxBodyMiB}m`,
      'nginx.org/proxy-next-upstream': 'error timeout http_502',
      'nginx.org/proxy-next-upstream-tries': '2',
      'nginx.org/proxy-next-upstream-timeout': `${e.requestTimeoutSeconds}s`,
      'nginx.org/limit-req-rate': `${e.rateLimitPerSecond}r/s`,
      'nginx.org/limit-req-burst': String(e.rateLimitBurst),
      'nginx.org/limit-req-no-delay': 'true',
      'nginx.org/limit-req-key': '${binary_remote_addr}',
      'nginx.org/limit-req-zone-size': '10m',
      'nginx.org/limit-req-reject-code': '429',
    },
    serviceAnnotations: {},
    addObjects: () => undefined,
  };
}

/**
 * Traefik v3 (traefik.io/v1alpha1 Middleware and ServersTransport CRDs). Retry keeps
 * `retryNonIdempotentMethod: false`; that field exists in Traefik releases that include
 * traefik/traefik#12667 (2026). Older releases prune the unknown field and retry any method
 * on connection errors, so use this profile with a current Traefik.
 */
function traefik(e: EdgeSettings, namespace: string): IngressProfile {
  const ref = (name: string) => `${namespace}-${name}@kubernetescrd`;
  const middleware = (scope: Construct, name: string, spec: Record<string, unknown>) =>
    new ApiObject(scope, name, { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name }, spec });
  return {
    ingressAnnotations: {
      // Order matters: reject floods before buffering bodies or retrying.
      'traefik.ingress.kubernetes.io/router.middlewares': ['shop-rate-limit', 'shop-body-limit', 'shop-retry'].map(ref).join(','),
    },
    serviceAnnotations: { 'traefik.ingress.kubernetes.io/service.serverstransport': ref('shop-upstream') },
    addObjects: (scope) => {
      middleware(scope, 'shop-rate-limit', {
        rateLimit: { average: e.rateLimitPerSecond, burst: e.rateLimitBurst, period: '1s' },
      });
      middleware(scope, 'shop-body-limit', { buffering: { maxRequestBodyBytes: e.maxBodyMiB * 1024 * 1024 } });
      middleware(scope, 'shop-retry', {
        retry: { attempts: 2, initialInterval: '50ms', retryNonIdempotentMethod: false },
      });
      new ApiObject(scope, 'shop-upstream', {
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'ServersTransport',
        metadata: { name: 'shop-upstream' },
        spec: { forwardingTimeouts: { dialTimeout: '2s', responseHeaderTimeout: `${e.backendTimeoutSeconds}s` } },
      });
    },
  };
}

/** The profile named in the settings. */
export function ingressProfile(name: IngressProfileName, edge: EdgeSettings, namespace: string): IngressProfile {
  switch (name) {
    case 'none':
      return none;
    case 'nginx-inc':
      return nginxInc(edge);
    case 'traefik':
      return traefik(edge, namespace);
  }
}
