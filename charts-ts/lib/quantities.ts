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
  const disk = ephemeralStorage(r);
  return {
    requests: { cpu: cpu(r.cpuRequestMillis), memory: memory(r.memoryMiB), 'ephemeral-storage': memory(disk.requestMiB) },
    limits: { cpu: cpu(r.cpuLimitMillis), memory: memory(r.memoryMiB), 'ephemeral-storage': memory(disk.limitMiB) },
  };
}

/**
 * Node disk a container may use when its settings say nothing: room for the 64 MiB /tmp
 * emptyDir plus container logs (the kubelet counts both), with a request that keeps the
 * scheduler honest about it.
 */
export const DEFAULT_EPHEMERAL_STORAGE = { requestMiB: 128, limitMiB: 512 } as const;

/** The ephemeral-storage request and limit of a resource spec, checked. */
export function ephemeralStorage(r: ResourceSpec): { requestMiB: number; limitMiB: number } {
  const disk = r.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE;
  if (disk.requestMiB > disk.limitMiB) throw new Error('charts-ts: ephemeral-storage request above its limit');
  return disk;
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
