/** Formats the numeric resource settings as Kubernetes quantities. */
import { k8s } from 'cdk8s-plus-27';
import type { ResourceSpec } from '../settings.js';

/** `250` -> `250m`. */
export function cpu(millis: number): string {
  return `${millis}m`;
}

/** `256` -> `256Mi`. */
export function memory(mib: number): string {
  return `${mib}Mi`;
}

/** A container's `resources` block; memory request = limit so the scheduler never overcommits memory. */
export function resourceRequirements(r: ResourceSpec): {
  requests: Record<string, string>;
  limits: Record<string, string>;
} {
  if (r.cpuRequestMillis > r.cpuLimitMillis) throw new Error('charts-ts: cpu request above its limit');
  return {
    requests: { cpu: cpu(r.cpuRequestMillis), memory: memory(r.memoryMiB) },
    limits: { cpu: cpu(r.cpuLimitMillis), memory: memory(r.memoryMiB) },
  };
}

/**
 * V8 old-space cap for a container memory limit: 75% leaves room for new space, code and
 * native buffers, so Node collects garbage before the kernel OOM-kills the pod.
 */
export function nodeHeapMiB(memoryLimitMiB: number): number {
  return Math.floor(memoryLimitMiB * 0.75);
}

/** The same block in the generated k8s types, for objects written without cdk8s-plus. */
export function k8sResources(r: ResourceSpec): k8s.ResourceRequirements {
  const q = resourceRequirements(r);
  const map = (m: Record<string, string>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, k8s.Quantity.fromString(v)]));
  return { requests: map(q.requests), limits: map(q.limits) };
}
