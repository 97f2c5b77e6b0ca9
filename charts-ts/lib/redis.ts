/**
 * Redis with AOF persistence (`appendonly yes`, fsync every second) on a PVC per pod, behind a
 * headless governing Service. Two shapes:
 * - one pod (dev): services use REDIS_URL; a restart costs seconds of cache misses and
 *   fail-open limits, the AOF carries queues and counters over;
 * - Sentinel (prod, `sentinel` set): N pods, ordinal 0 primary at first start, the rest its
 *   replicas, a sentinel beside each; services find the primary through REDIS_SENTINELS.
 *   Bootstrap and failover costs: docs/redis-failover.md.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { InClusterRedisSettings, SpreadSettings } from '../settings.js';
import { imageRef } from './image.js';
import { selectorLabels, workloadLabels } from './labels.js';
import { k8sResources } from './quantities.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, topologySpreadConstraints } from './pod-spec.js';
import { BOOTSTRAP_SH, REDIS_PRESTOP_SH, REDIS_READY_SH, SENTINEL_READY_SH } from './redis-scripts.js';
import { dataClaimTemplate, KEEP_CLAIMS, storePdb, storeServiceAccount } from './store-parts.js';

/** Name of the StatefulSet and its headless Service. */
export const REDIS_NAME = 'redis';
/** Redis port. */
export const REDIS_PORT = 6379;
/** Sentinel port. */
export const SENTINEL_PORT = 26379;
/** The name the sentinels monitor the primary under (REDIS_SENTINEL_NAME). */
export const SENTINEL_MASTER_NAME = 'shop';

/** Props of {@link RedisStore}. */
export interface RedisStoreProps {
  readonly namespace: string;
  readonly settings: InClusterRedisSettings;
  readonly spread: SpreadSettings;
}

/** The connection string services should get in REDIS_URL for this data tier (any pod in Sentinel mode: only its credentials count). */
export function inClusterRedisUrl(namespace: string): string {
  return `redis://${REDIS_NAME}.${namespace}.svc.cluster.local:${REDIS_PORT}`;
}

/** Non-secret Redis settings for the services' ConfigMaps: the sentinels, when there are any. */
export function redisClientConfig(namespace: string, s: InClusterRedisSettings): Record<string, string> {
  if (!s.sentinel) return {};
  const hosts = Array.from({ length: s.sentinel.replicas }, (_, i) => `${REDIS_NAME}-${i}.${REDIS_NAME}.${namespace}.svc.cluster.local:${SENTINEL_PORT}`);
  // REDIS_LOCK_REPLICAS: a stock lock is on a replica before its section runs (kit/lock.ts).
  return { REDIS_SENTINELS: hosts.join(','), REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME, REDIS_LOCK_REPLICAS: '1' };
}

const tcp = (port: number) => ({ tcpSocket: { port: k8s.IntOrString.fromNumber(port) } });
const script = (name: string) => ({ exec: { command: ['sh', `/scripts/${name}`] } });

/** Redis StatefulSet, headless Service, PDB; in Sentinel mode also the scripts ConfigMap and sentinels. */
export class RedisStore extends Construct {
  constructor(scope: Construct, id: string, props: RedisStoreProps) {
    super(scope, id);
    const s = props.settings;
    const ha = s.sentinel;
    const labels = workloadLabels(REDIS_NAME, 'cache');
    const selector = selectorLabels(REDIS_NAME);
    const image = imageRef(s.image, s.imageDigest);
    // Bull keeps jobs in Redis: evicting keys would drop them, so writes fail at the cap instead.
    const maxMemoryMiB = Math.floor(s.resources.memoryMiB * 0.8);
    if (ha && (ha.quorum < 2 || ha.quorum > ha.replicas || ha.replicas < 3)) throw new Error('charts-ts: Redis Sentinel needs >= 3 replicas and 2 <= quorum <= replicas');

    storeServiceAccount(this, REDIS_NAME, labels);

    new k8s.KubeService(this, 'Headless', {
      metadata: { name: REDIS_NAME, labels: { ...labels } },
      spec: {
        clusterIp: 'None',
        // Sentinels and replicas must resolve each other while still unready (a replica is unready until synced).
        publishNotReadyAddresses: Boolean(ha),
        selector: { ...selector },
        ports: [
          { name: 'redis', port: REDIS_PORT, targetPort: k8s.IntOrString.fromNumber(REDIS_PORT) },
          ...(ha ? [{ name: 'sentinel', port: SENTINEL_PORT, targetPort: k8s.IntOrString.fromNumber(SENTINEL_PORT) }] : []),
        ],
      },
    });

    const security = restrictedContainerSecurityContext(s.runAsUser);
    const redisProbes = {
      // Replaying a large AOF can take a while: startup allows it before liveness counts.
      startupProbe: { ...tcp(REDIS_PORT), periodSeconds: 5, failureThreshold: 60 },
      // Ready = answers commands (and, for a replica, is linked to its primary); alive = the port accepts.
      readinessProbe: { ...(ha ? script('redis-ready.sh') : { exec: { command: ['sh', '-c', `[ "$(redis-cli -p ${REDIS_PORT} PING)" = PONG ]`] } }), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 2 },
      livenessProbe: { ...tcp(REDIS_PORT), periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
    };
    const env = ha
      ? [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'DOMAIN', value: `${REDIS_NAME}.${props.namespace}.svc.cluster.local` },
          { name: 'MASTER_NAME', value: SENTINEL_MASTER_NAME },
          { name: 'REPLICAS', value: String(ha.replicas) },
        ]
      : [];
    const mounts = (...extra: k8s.VolumeMount[]) => [{ name: 'data', mountPath: '/data' }, ...extra];
    const haMounts = [{ name: 'conf', mountPath: '/conf' }, { name: 'scripts', mountPath: '/scripts', readOnly: true }];

    const redis: k8s.Container = {
      name: 'redis',
      image,
      command: ['redis-server'],
      args: ha
        ? ['/conf/redis.conf']
        : [
            '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', '/data', '--port', String(REDIS_PORT),
            '--maxmemory', `${maxMemoryMiB}mb`, '--maxmemory-policy', 'noeviction',
            // The command bypasses the image entrypoint that would add this; NetworkPolicy is the access control.
            '--protected-mode', 'no',
          ],
      ...(ha ? { env } : {}),
      ports: [{ name: 'redis', containerPort: REDIS_PORT }],
      resources: k8sResources(s.resources),
      securityContext: security,
      ...redisProbes,
      ...(ha ? { lifecycle: { preStop: { exec: { command: ['sh', '/scripts/redis-prestop.sh'] } } } } : {}),
      volumeMounts: ha ? mounts(...haMounts) : mounts(),
    };
    const containers: k8s.Container[] = [redis];
    const initContainers: k8s.Container[] = [];
    const volumes: k8s.Volume[] = [];
    if (ha) {
      new k8s.KubeConfigMap(this, 'Scripts', {
        metadata: { name: `${REDIS_NAME}-scripts`, labels: { ...labels } },
        data: { 'bootstrap.sh': BOOTSTRAP_SH, 'redis-ready.sh': REDIS_READY_SH, 'sentinel-ready.sh': SENTINEL_READY_SH, 'redis-prestop.sh': REDIS_PRESTOP_SH },
      });
      initContainers.push({
        name: 'bootstrap',
        image,
        command: ['sh', '/scripts/bootstrap.sh'],
        env: [
          ...env,
          { name: 'QUORUM', value: String(ha.quorum) },
          { name: 'DOWN_AFTER_MS', value: String(ha.downAfterMs) },
          { name: 'FAILOVER_TIMEOUT_MS', value: String(ha.failoverTimeoutMs) },
          { name: 'MAXMEMORY_MB', value: String(maxMemoryMiB) },
        ],
        resources: k8sResources(ha.resources),
        securityContext: security,
        volumeMounts: haMounts,
      });
      containers.push({
        name: 'sentinel',
        image,
        command: ['redis-sentinel'],
        args: ['/conf/sentinel.conf'],
        env,
        ports: [{ name: 'sentinel', containerPort: SENTINEL_PORT }],
        resources: k8sResources(ha.resources),
        securityContext: security,
        startupProbe: { ...tcp(SENTINEL_PORT), periodSeconds: 2, failureThreshold: 30 },
        readinessProbe: { ...script('sentinel-ready.sh'), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 2 },
        livenessProbe: { ...tcp(SENTINEL_PORT), periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
        volumeMounts: haMounts,
      });
      // The configs must be writable (Sentinel and CONFIG REWRITE persist role changes), so they live in an emptyDir copy.
      volumes.push(
        { name: 'conf', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
        { name: 'scripts', configMap: { name: `${REDIS_NAME}-scripts`, defaultMode: 0o555 } },
      );
    }

    new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { name: REDIS_NAME, labels: { ...labels } },
      spec: {
        serviceName: REDIS_NAME,
        replicas: ha?.replicas ?? 1,
        // All pods start together; the bootstrap, not start order, decides the primary.
        podManagementPolicy: ha ? 'Parallel' : undefined,
        selector: { matchLabels: { ...selector } },
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            serviceAccountName: REDIS_NAME,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(s.runAsUser),
            // preStop hands the primary role over (up to 20 s) before redis-server gets SIGTERM.
            terminationGracePeriodSeconds: ha ? 45 : 30,
            topologySpreadConstraints: topologySpreadConstraints(props.spread, selector),
            ...(initContainers.length > 0 ? { initContainers } : {}),
            containers,
            ...(volumes.length > 0 ? { volumes } : {}),
          },
        },
        volumeClaimTemplates: [dataClaimTemplate(labels, s)],
        persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
      },
    });

    // One pod at a time; with Sentinel, an unsynced replica is unready, so a drain waits for it to catch up.
    storePdb(this, REDIS_NAME, labels, selector);
  }
}
