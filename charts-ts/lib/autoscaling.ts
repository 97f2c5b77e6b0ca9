/**
 * HorizontalPodAutoscaler (autoscaling/v2) and PodDisruptionBudget of one workload.
 *
 * Scale-up is sized for a 30x spike: no stabilization window and, every 15 s, the larger
 * of +100% or +4 pods, so 3 pods reach 96 in about 75 s (3, 7, 14, 28, 56, ...), bounded
 * by maxReplicas and the namespace quota. Scale-down waits 5 min and sheds at most 10%
 * per minute, so a second wave right after the first does not find the fleet gone.
 *
 * The PDB uses `maxUnavailable: 1`, not `minAvailable`: it allows one eviction at any
 * replica count, including the HPA minimum, so a node drain is slowed, never blocked.
 * `unhealthyPodEvictionPolicy: AlwaysAllow` lets a drain evict pods that are not ready
 * anyway (crash-looping), which would otherwise hold the budget forever.
 */
import { Duration } from 'cdk8s';
import {
  Deployment,
  HorizontalPodAutoscaler,
  Metric,
  MetricTarget,
  Replicas,
  ScalingStrategy,
  k8s,
} from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { Labels, WorkloadSizing } from '../settings.js';

/** Props of {@link WorkloadAutoscaling}. */
export interface WorkloadAutoscalingProps {
  readonly name: string;
  readonly deployment: Deployment;
  readonly selector: Labels;
  readonly labels: Labels;
  readonly sizing: WorkloadSizing;
  /** Target average CPU utilization, percent of the request. */
  readonly cpuUtilization: number;
  /** Target average memory utilization, percent of the request. */
  readonly memoryUtilization: number;
}

/** HPA plus a PDB that is compatible with the HPA minimum. */
export class WorkloadAutoscaling extends Construct {
  constructor(scope: Construct, id: string, props: WorkloadAutoscalingProps) {
    super(scope, id);
    const { minReplicas, maxReplicas } = props.sizing;
    if (minReplicas < 1 || maxReplicas < minReplicas) {
      throw new Error(`charts-ts: ${props.name} needs 1 <= minReplicas <= maxReplicas`);
    }

    new HorizontalPodAutoscaler(this, 'Hpa', {
      metadata: { name: props.name, labels: { ...props.labels } },
      target: props.deployment,
      minReplicas,
      maxReplicas,
      metrics: [
        Metric.resourceCpu(MetricTarget.averageUtilization(props.cpuUtilization)),
        Metric.resourceMemory(MetricTarget.averageUtilization(props.memoryUtilization)),
      ],
      scaleUp: {
        strategy: ScalingStrategy.MAX_CHANGE,
        stabilizationWindow: Duration.seconds(0),
        policies: [
          { replicas: Replicas.percent(100), duration: Duration.seconds(15) },
          { replicas: Replicas.absolute(4), duration: Duration.seconds(15) },
        ],
      },
      scaleDown: {
        strategy: ScalingStrategy.MAX_CHANGE,
        stabilizationWindow: Duration.minutes(5),
        policies: [{ replicas: Replicas.percent(10), duration: Duration.minutes(1) }],
      },
    });

    new k8s.KubePodDisruptionBudget(this, 'Pdb', {
      metadata: { name: props.name, labels: { ...props.labels } },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
        selector: { matchLabels: { ...props.selector } },
      },
    });
  }
}
