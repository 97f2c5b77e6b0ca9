/**
 * Namespace, ResourceQuota and LimitRange. The quota is computed from the workloads at
 * their HPA maximum plus rollout surge, so a 30x spike is never stopped by a quota that
 * someone forgot to raise, while a runaway (or a typo of maxReplicas: 3000) still is.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { Labels } from '../settings.js';
import { cpu, memory } from './quantities.js';

/** Sum of what the namespace may run at once. */
export interface Footprint {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryMiB: number;
  readonly pods: number;
  readonly persistentVolumeClaims: number;
  readonly storageGiB: number;
  /** Largest single container, which the LimitRange must admit. */
  readonly maxContainerCpuMillis: number;
  readonly maxContainerMemoryMiB: number;
}

/** Props of {@link ShopNamespace}. */
export interface ShopNamespaceProps {
  readonly name: string;
  readonly labels: Labels;
  readonly footprint: Footprint;
  /** A separate namespace for the Gateway, created alongside (no quota: the controller sizes its proxies). */
  readonly gatewayNamespace?: string;
  /** Multiplier over the footprint for rollout surge (25%) and one-off Jobs. @default 1.3 */
  readonly headroom?: number;
}

/** The namespace and its guard rails. */
export class ShopNamespace extends Construct {
  constructor(scope: Construct, id: string, props: ShopNamespaceProps) {
    super(scope, id);
    const f = props.footprint;
    const h = props.headroom ?? 1.3;
    const up = (n: number): number => Math.ceil(n * h);

    new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          // Every pod here meets the `restricted` Pod Security Standard; admission enforces it.
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });

    if (props.gatewayNamespace && props.gatewayNamespace !== props.name) {
      new k8s.KubeNamespace(this, 'GatewayNamespace', {
        metadata: { name: props.gatewayNamespace, labels: { ...props.labels } },
      });
    }

    new k8s.KubeResourceQuota(this, 'Quota', {
      metadata: { name: 'shop-quota', namespace: props.name, labels: { ...props.labels } },
      spec: {
        hard: {
          'requests.cpu': k8s.Quantity.fromString(cpu(up(f.cpuRequestMillis))),
          'limits.cpu': k8s.Quantity.fromString(cpu(up(f.cpuLimitMillis))),
          'requests.memory': k8s.Quantity.fromString(memory(up(f.memoryMiB))),
          'limits.memory': k8s.Quantity.fromString(memory(up(f.memoryMiB))),
          pods: k8s.Quantity.fromNumber(up(f.pods)),
          persistentvolumeclaims: k8s.Quantity.fromNumber(f.persistentVolumeClaims),
          'requests.storage': k8s.Quantity.fromString(`${f.storageGiB}Gi`),
          // Exposure goes through the Ingress/Gateway only.
          'services.loadbalancers': k8s.Quantity.fromNumber(0),
          'services.nodeports': k8s.Quantity.fromNumber(0),
        },
      },
    });

    new k8s.KubeLimitRange(this, 'Limits', {
      metadata: { name: 'shop-limits', namespace: props.name, labels: { ...props.labels } },
      spec: {
        limits: [
          {
            type: 'Container',
            // Applied only to containers that declare nothing (none here do; a hand-run debug pod would).
            default: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('128Mi') },
            defaultRequest: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('128Mi') },
            max: {
              cpu: k8s.Quantity.fromString(cpu(f.maxContainerCpuMillis)),
              memory: k8s.Quantity.fromString(memory(f.maxContainerMemoryMiB)),
            },
          },
        ],
      },
    });
  }
}
