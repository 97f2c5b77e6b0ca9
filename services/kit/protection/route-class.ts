import type { RouteClass } from './config.js';

/**
 * One rule of the route-class map: requests whose path starts with `prefix`
 * (and whose method is in `methods`, when given) are of `class`. The longest
 * matching prefix wins; among equal prefixes, a rule with methods wins.
 */
export interface RouteClassRule {
  prefix: string;
  methods?: readonly string[];
  class: RouteClass;
}

const READ = ['GET', 'HEAD'] as const;

/**
 * The platform's paths (the Ingress routes in docs/kubernetes.md). A service
 * adds or overrides rules with `createKoaApp({ edge: { routes } })`; anything
 * unmatched is `admin`: no-store, never for crawlers, limited, shed last.
 */
export const DEFAULT_ROUTE_CLASSES: readonly RouteClassRule[] = [
  { prefix: '/api/catalog', methods: READ, class: 'browse' },
  { prefix: '/api/catalog', class: 'admin' },
  { prefix: '/api/inventory/availability', methods: READ, class: 'browse' },
  { prefix: '/api/inventory', class: 'admin' },
  { prefix: '/api/cart', class: 'cart' },
  { prefix: '/api/checkout', class: 'checkout' },
  { prefix: '/api/orders', class: 'checkout' },
  { prefix: '/api/customers', class: 'account' },
  { prefix: '/api/support/faq', methods: READ, class: 'browse' },
  { prefix: '/api/support', class: 'ticket' },
  { prefix: '/api/admin', class: 'admin' },
  // The storefront page, its assets and the API reference: public pages, cached like browsing.
  { prefix: '/storefront', methods: READ, class: 'browse' },
  { prefix: '/docs', methods: READ, class: 'browse' },
  { prefix: '/', methods: READ, class: 'browse' },
];

export type RouteClassifier = (method: string, path: string) => RouteClass;

/** A classifier over `rules` (service rules first, then the defaults); first match wins. */
export function createRouteClassifier(rules: readonly RouteClassRule[], fallback: RouteClass = 'admin'): RouteClassifier {
  const ordered = [...rules]
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => b.rule.prefix.length - a.rule.prefix.length || Number(Boolean(b.rule.methods)) - Number(Boolean(a.rule.methods)) || a.index - b.index)
    .map(({ rule }) => rule);
  return function classifyRoute(method: string, path: string): RouteClass {
    for (const rule of ordered) {
      if (!path.startsWith(rule.prefix)) continue;
      const boundary = path.length === rule.prefix.length || path[rule.prefix.length] === '/' || rule.prefix.endsWith('/');
      if (!boundary) continue;
      if (rule.methods && !rule.methods.includes(method)) continue;
      return rule.class;
    }
    return fallback;
  };
}
