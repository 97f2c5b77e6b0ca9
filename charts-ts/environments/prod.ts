/**
 * prod: sized for a 30x spike (HPA 3 -> 40-60 pods per service), spread over nodes and
 * zones, F5 NGINX Ingress and Gateway API side by side, in-cluster replica set spread one
 * member per node. Switch `dataTier` to `mode: 'external'` for managed MongoDB/Redis.
 */
import type { EnvironmentSettings } from '../settings.js';

const byName = (name: string) => ({ 'kubernetes.io/metadata.name': name });

/**
 * Multi-arch index digests of the official images, as public repositories pin them (not
 * pulled here). Verify (`docker buildx imagetools inspect mongo:7.0.16`) and replace them with
 * your registry's digests, e.g. of a mirrored copy; a policy test requires prod's data tier pinned.
 */
const MONGO_7_0_16_DIGEST = 'sha256:c630c59342c1493d50345136df2af14a76b9e827dd5316bfabee07a0880a5f3a';
const REDIS_7_4_2_DIGEST = 'sha256:fbdbaea47b9ae4ecc2082ecdb4e1cea81e32176ffb1dcf643d422ad07427e5d9';

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
    // Pod networks are private ranges on every common CNI (10.244/16, 10.42/16, 100.64/10, ...).
    trustedProxyCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'],
    exemptCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'],
    proxyHops: 2,
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
      // Replace with the digest in your registry (docs/kubernetes.md, "Images by digest").
      imageDigest: MONGO_7_0_16_DIGEST,
      members: 3,
      replicaSetName: 'rs0',
      dataPath: '/data/db',
      extraArgs: ['--wiredTigerCacheSizeGB', '1'],
      storageGiB: 50,
      // Above 10000 like the services; volumes made by the image's uid 999 need a one-off chown (docs/kubernetes.md).
      runAsUser: 10001,
      resources: { cpuRequestMillis: 1000, cpuLimitMillis: 2000, memoryMiB: 3072 },
    },
    redis: {
      image: 'redis:7.4.2',
      imageDigest: REDIS_7_4_2_DIGEST,
      storageGiB: 10,
      runAsUser: 10001,
      resources: { cpuRequestMillis: 500, cpuLimitMillis: 1000, memoryMiB: 1024 },
      // Primary + 2 replicas, a sentinel in each pod; 2 of 3 sentinels agree before a failover (docs/redis-failover.md).
      sentinel: {
        replicas: 3,
        quorum: 2,
        downAfterMs: 5000,
        failoverTimeoutMs: 60000,
        resources: { cpuRequestMillis: 50, cpuLimitMillis: 200, memoryMiB: 64, ephemeralStorage: { requestMiB: 64, limitMiB: 256 } },
      },
    },
    // Two members on one node would lose the majority with that node: one per node, hard.
    spread: { hostname: 'DoNotSchedule', zone: 'ScheduleAnyway' },
  },
};
