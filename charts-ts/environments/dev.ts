/**
 * dev: fits kind, minikube or k3d on a laptop. Small requests, 2-3 replicas, no zone
 * spread, plain Ingress (any controller; class `traefik`), in-cluster MongoDB and Redis.
 */
import type { EnvironmentSettings } from '../settings.js';

const kubeSystem = { 'kubernetes.io/metadata.name': 'kube-system' };

/** Settings of the dev environment. */
export const settings: EnvironmentSettings = {
  name: 'dev',
  namespace: 'shop-dev',
  image: 'ghcr.io/example/shop:0.1.0',
  logLevel: 'debug',
  requestTimeoutMs: 8000,
  secretName: 'shop-secrets',
  // Grace = 2 + ceil((3000 + 10000) / 1000) + 5 = 20 s (charts-ts/lib/shutdown.ts).
  shutdown: { preStopSleepSeconds: 2, shutdownDelayMs: 3000, shutdownTimeoutMs: 10000, jobGraceMs: 15000, marginSeconds: 5 },
  sizing: {
    // Two replicas at least, so a killed or evicted pod never leaves a Service without an
    // endpoint (the PDB's maxUnavailable: 1 then keeps one); 6 pods fit the local cluster.
    default: { resources: { cpuRequestMillis: 50, cpuLimitMillis: 500, memoryMiB: 192 }, minReplicas: 2, maxReplicas: 3 },
  },
  autoscaling: { cpuUtilization: 70, memoryUtilization: 85 },
  spread: {},
  edge: {
    mode: 'ingress',
    ingress: { className: 'traefik', profile: 'none' },
    gateway: { className: 'traefik', namespace: 'shop-dev-edge', experimentalRetry: false },
    requestTimeoutSeconds: 15,
    backendTimeoutSeconds: 10,
    maxBodyMiB: 1,
    rateLimitPerSecond: 50,
    rateLimitBurst: 100,
    // Pod networks are private ranges on every common CNI (10.244/16, 10.42/16, 100.64/10, ...).
    trustedProxyCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'],
    exemptCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'],
    proxyHops: 1,
    // Traefik's Helm chart installs into `traefik`; k3s runs it in kube-system.
    peers: [{ namespaceLabels: { 'kubernetes.io/metadata.name': 'traefik' } }, { namespaceLabels: kubeSystem, podLabels: { 'app.kubernetes.io/name': 'traefik' } }],
  },
  network: {
    dns: { namespaceLabels: kubeSystem, podLabels: { 'k8s-app': 'kube-dns' } },
    // Prometheus (kube-prometheus-stack installed into `monitoring`) scrapes what the ServiceMonitors in k8s/dev/monitoring/ select.
    monitoring: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  },
  dataTier: {
    mode: 'in-cluster',
    mongo: {
      image: 'mongo:7.0.16',
      members: 3,
      replicaSetName: 'rs0',
      dataPath: '/data/db',
      // mongod sizes its cache from the node's RAM, not the container limit it would then exceed.
      extraArgs: ['--wiredTigerCacheSizeGB', '0.25'],
      storageGiB: 1,
      runAsUser: 999, // the image's mongodb user
      resources: { cpuRequestMillis: 100, cpuLimitMillis: 1000, memoryMiB: 640 },
    },
    redis: {
      image: 'redis:7.4.2',
      storageGiB: 1,
      runAsUser: 999, // the image's redis user
      resources: { cpuRequestMillis: 50, cpuLimitMillis: 500, memoryMiB: 128 },
    },
    spread: {},
  },
};
