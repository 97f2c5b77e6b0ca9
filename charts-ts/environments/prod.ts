/**
 * prod: sized for a 30x spike (HPA 3 -> 40-60 pods per service), spread over nodes and
 * zones, F5 NGINX Ingress and Gateway API side by side, in-cluster replica set spread one
 * member per node. Switch `dataTier` to `mode: 'external'` for managed MongoDB/Redis.
 */
import type { EnvironmentSettings } from '../settings.js';

const byName = (name: string) => ({ 'kubernetes.io/metadata.name': name });

/** Settings of the prod environment. */
export const settings: EnvironmentSettings = {
  name: 'prod',
  namespace: 'shop',
  image: 'ghcr.io/example/shop:0.1.0',
  logLevel: 'info',
  requestTimeoutMs: 8000,
  secretName: 'shop-secrets',
  // Kit defaults. Grace = 5 + ceil((5000 + 20000) / 1000) + 5 = 35 s (charts-ts/lib/shutdown.ts).
  shutdown: { preStopSleepSeconds: 5, shutdownDelayMs: 5000, shutdownTimeoutMs: 20000, jobGraceMs: 60000, marginSeconds: 5 },
  sizing: {
    default: { resources: { cpuRequestMillis: 250, cpuLimitMillis: 1000, memoryMiB: 384 }, minReplicas: 3, maxReplicas: 30 },
    overrides: {
      catalog: { maxReplicas: 60 }, // browsing takes the brunt of a spike
      cart: { maxReplicas: 40 },
      inventory: { maxReplicas: 20 },
    },
  },
  // 60% leaves room to absorb the first seconds of a spike while new pods start.
  autoscaling: { cpuUtilization: 60, memoryUtilization: 80 },
  spread: { hostname: 'ScheduleAnyway', zone: 'ScheduleAnyway' },
  edge: {
    mode: 'both',
    host: 'shop.example.com',
    tlsSecretName: 'shop-tls',
    ingress: { className: 'nginx', profile: 'nginx-inc' },
    gateway: { className: 'nginx', namespace: 'shop-edge', experimentalRetry: false },
    requestTimeoutSeconds: 15,
    backendTimeoutSeconds: 10,
    maxBodyMiB: 1,
    rateLimitPerSecond: 100,
    rateLimitBurst: 200,
    // F5 NGINX Ingress Controller's namespace, and the Gateway's (its proxies run there).
    peers: [{ namespaceLabels: byName('nginx-ingress') }, { namespaceLabels: byName('shop-edge') }],
  },
  network: {
    dns: { namespaceLabels: byName('kube-system'), podLabels: { 'k8s-app': 'kube-dns' } },
    monitoring: { namespaceLabels: byName('monitoring') },
  },
  dataTier: {
    mode: 'in-cluster',
    mongo: {
      image: 'mongo:7.0.16',
      members: 3,
      replicaSetName: 'rs0',
      dataPath: '/data/db',
      extraArgs: ['--wiredTigerCacheSizeGB', '1'],
      storageGiB: 50,
      runAsUser: 999,
      resources: { cpuRequestMillis: 1000, cpuLimitMillis: 2000, memoryMiB: 3072 },
    },
    redis: {
      image: 'redis:7.4.2',
      storageGiB: 10,
      runAsUser: 999,
      resources: { cpuRequestMillis: 500, cpuLimitMillis: 1000, memoryMiB: 1024 },
    },
    // Two members on one node would lose the majority with that node: one per node, hard.
    spread: { hostname: 'DoNotSchedule', zone: 'ScheduleAnyway' },
  },
};
