import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import httpProxy from 'http-proxy';
import { apiSecurityHeaders, requestIdFrom } from '../../services/kit/index.js';

export interface EdgeRoute {
  service: string;
  prefixes: string[];
  upstreams: string[];
}

interface Upstream {
  service: string;
  target: string;
  healthy: boolean;
  /** When the last probe that found it ready was sent (ms since epoch). */
  readySince: number;
}

export interface EdgeOptions {
  port: number;
  host?: string;
  routes: EdgeRoute[];
  /** How often each replica's /readyz is polled. */
  healthIntervalMs?: number;
  log?: (line: string) => void;
  /** Bearer token that may read `/edge/status` from anywhere (the admin token). */
  adminToken?: string;
  /** Whether loopback clients may read `/edge/status` without the token (default true). */
  statusFromLoopback?: boolean;
}

export interface Edge {
  server: http.Server;
  /** Healthy replica count per service, for status lines. */
  status(): Record<string, { healthy: number; total: number }>;
  /** Each replica as the edge sees it (ready or not), for chaos recovery timing. */
  readiness(): Array<{ service: string; target: string; ready: boolean; checkedAt: number }>;
  close(): Promise<void>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The kit's API security headers: the edge's own answers carry the same as every service answer. */
const SECURITY_HEADERS = Object.fromEntries(apiSecurityHeaders());

function problem(res: http.ServerResponse, status: number, title: string, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = String(res.getHeader('x-request-id') ?? '');
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify({ type: `urn:problem:edge_${status}`, title, status, detail, requestId }));
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The topology (replica addresses, ports) is for the operator: loopback clients or the admin token only. */
function mayReadStatus(req: http.IncomingMessage, options: EdgeOptions): boolean {
  if ((options.statusFromLoopback ?? true) && isLoopback(req.socket.remoteAddress)) return true;
  const header = req.headers.authorization ?? '';
  if (!options.adminToken || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice(7).trim()), digest(options.adminToken));
}

/**
 * The local stand-in for the Ingress: routes the same path prefixes, balances
 * round-robin over replicas whose /readyz is green, and retries an idempotent
 * request once on another replica when the connection fails (a killed pod).
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const log = options.log ?? (() => undefined);
  const upstreams = new Map<string, Upstream[]>();
  for (const route of options.routes) upstreams.set(route.service, route.upstreams.map((target) => ({ service: route.service, target, healthy: false, readySince: 0 })));
  const prefixes = options.routes.flatMap((route) => route.prefixes.map((prefix) => ({ prefix, service: route.service }))).sort((a, b) => b.prefix.length - a.prefix.length);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ agent, xfwd: true, proxyTimeout: 30_000 });
  const cursor = new Map<string, number>();

  function pick(service: string, exclude?: string): Upstream | undefined {
    const healthy = (upstreams.get(service) ?? []).filter((u) => u.healthy && u.target !== exclude);
    if (healthy.length === 0) return undefined;
    const next = (cursor.get(service) ?? 0) + 1;
    cursor.set(service, next);
    return healthy[next % healthy.length];
  }

  async function probe(upstream: Upstream): Promise<void> {
    const was = upstream.healthy;
    const sentAt = Date.now();
    try {
      const response = await fetch(`${upstream.target}/readyz`, { signal: AbortSignal.timeout(800) });
      upstream.healthy = response.status === 200;
      if (upstream.healthy) upstream.readySince = sentAt;
    } catch {
      upstream.healthy = false;
    }
    if (was !== upstream.healthy) log(`edge: ${upstream.service} ${upstream.target} is ${upstream.healthy ? 'ready' : 'NOT ready'}`);
  }
  const probeAll = () => Promise.all([...upstreams.values()].flat().map(probe));
  await probeAll();
  const timer = setInterval(() => void probeAll(), options.healthIntervalMs ?? 1_000);

  function forward(req: http.IncomingMessage, res: http.ServerResponse, service: string, attempt: number, exclude?: string): void {
    const upstream = pick(service, exclude);
    if (!upstream) {
      problem(res, 503, 'No ready replica', `no replica of ${service} is ready`, { 'retry-after': '1' });
      return;
    }
    proxy.web(req, res, { target: upstream.target }, (error: NodeJS.ErrnoException) => {
      upstream.healthy = false;
      const canRetry = attempt === 0 && IDEMPOTENT.has(req.method ?? '') && !res.headersSent;
      log(`edge: ${req.method} ${req.url} -> ${upstream.target} failed (${error.code ?? error.message})${canRetry ? ', retrying on another replica' : ''}`);
      if (canRetry) forward(req, res, service, 1, upstream.target);
      else problem(res, 502, 'Bad gateway', `${service} replica failed: ${error.code ?? error.message}`);
    });
  }

  const server = http.createServer((req, res) => {
    // One request id from the edge on: the replica echoes it, the edge's own answers carry it.
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/edge/status' && mayReadStatus(req, options)) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ routes: prefixes, replicas: status() }, null, 2));
      return;
    }
    // Longest prefix first; `/` (the storefront page) is the fallback, as in the Ingress.
    const match = prefixes.find(({ prefix }) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`));
    if (match) return forward(req, res, match.service, 0);
    problem(res, 404, 'Not found', `no service routes ${path}`);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });

  function status() {
    return Object.fromEntries([...upstreams].map(([service, list]) => [service, { healthy: list.filter((u) => u.healthy).length, total: list.length }]));
  }

  return {
    server,
    status,
    readiness: () => [...upstreams.values()].flat().map((u) => ({ service: u.service, target: u.target, ready: u.healthy, checkedAt: u.readySince })),
    async close() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      proxy.close();
      agent.destroy();
    },
  };
}
