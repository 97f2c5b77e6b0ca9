/**
 * Redis with AOF persistence (`--appendonly yes`, fsync every second) on a PVC. One
 * replica: queue jobs and rate-limit counters survive a restart through the AOF, and the
 * services degrade (cache miss, fail-open limits) during the seconds it is away; a managed
 * Redis with failover is the answer for more (`dataTier.mode: external`).
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { InClusterRedisSettings, SpreadSettings } from '../settings.js';
import { selectorLabels, workloadLabels } from './labels.js';
import { k8sResources } from './quantities.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, topologySpreadConstraints } from './pod-spec.js';
import { dataClaimTemplate, KEEP_CLAIMS, storePdb, storeServiceAccount } from './store-parts.js';

/** Name of the StatefulSet and its Service. */
export const REDIS_NAME = 'redis';
/** Redis port. */
export const REDIS_PORT = 6379;

/** Props of {@link RedisStore}. */
export interface RedisStoreProps {
  readonly settings: InClusterRedisSettings;
  readonly spread: SpreadSettings;
}

/** The connection string services should get in REDIS_URL for this data tier. */
export function inClusterRedisUrl(namespace: string): string {
  return `redis://${REDIS_NAME}.${namespace}.svc.cluster.local:${REDIS_PORT}`;
}

/** Redis StatefulSet, Service and PDB. */
export class RedisStore extends Construct {
  constructor(scope: Construct, id: string, props: RedisStoreProps) {
    super(scope, id);
    const s = props.settings;
    const labels = workloadLabels(REDIS_NAME, 'cache');
    const selector = selectorLabels(REDIS_NAME);
    // Bull keeps jobs in Redis: evicting keys would drop them, so writes fail at the cap instead.
    const maxMemoryMiB = Math.floor(s.resources.memoryMiB * 0.8);

    storeServiceAccount(this, REDIS_NAME, labels);

    new k8s.KubeService(this, 'Service', {
      metadata: { name: REDIS_NAME, labels: { ...labels } },
      spec: {
        selector: { ...selector },
        ports: [{ name: 'redis', port: REDIS_PORT, targetPort: k8s.IntOrString.fromNumber(REDIS_PORT) }],
      },
    });

    const tcp = { tcpSocket: { port: k8s.IntOrString.fromNumber(REDIS_PORT) } };
    new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { name: REDIS_NAME, labels: { ...labels } },
      spec: {
        serviceName: REDIS_NAME,
        replicas: 1,
        selector: { matchLabels: { ...selector } },
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            serviceAccountName: REDIS_NAME,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(s.runAsUser),
            terminationGracePeriodSeconds: 30,
            topologySpreadConstraints: topologySpreadConstraints(props.spread, selector),
            containers: [
              {
                name: 'redis',
                image: s.image,
                command: ['redis-server'],
                args: [
                  '--appendonly', 'yes',
                  '--appendfsync', 'everysec',
                  '--dir', '/data',
                  '--port', String(REDIS_PORT),
                  '--maxmemory', `${maxMemoryMiB}mb`,
                  '--maxmemory-policy', 'noeviction',
                ],
                ports: [{ name: 'redis', containerPort: REDIS_PORT }],
                resources: k8sResources(s.resources),
                securityContext: restrictedContainerSecurityContext(s.runAsUser),
                // Replaying a large AOF can take a while: startup allows it before liveness counts.
                startupProbe: { ...tcp, periodSeconds: 5, failureThreshold: 60 },
                readinessProbe: { ...tcp, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
                livenessProbe: { ...tcp, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [dataClaimTemplate(labels, s)],
        persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
      },
    });

    // A single replica: allowing its eviction keeps drains possible; the AOF carries the data over.
    storePdb(this, REDIS_NAME, labels, selector);
  }
}
