/** What the namespace runs at its largest: every workload at HPA maximum plus the data tier. */
import type { ServiceDefinition } from '../services.js';
import { sizingFor, type EnvironmentSettings, type ResourceSpec } from '../settings.js';
import { INITIATE_JOB_RESOURCES, hasInitiateJob } from './mongo-replica-set.js';
import type { Footprint } from './namespace.js';

/** Sums requests, limits, pods and storage for the ResourceQuota and LimitRange. */
export function footprint(settings: EnvironmentSettings, services: readonly ServiceDefinition[]): Footprint {
  const parts: { res: ResourceSpec; count: number }[] = services.map((s) => {
    const sizing = sizingFor(settings, s.name);
    return { res: sizing.resources, count: sizing.maxReplicas };
  });
  let pvcs = 0;
  let storage = 0;
  const d = settings.dataTier;
  if (d.mode === 'in-cluster') {
    const redisPods = d.redis.sentinel?.replicas ?? 1;
    parts.push({ res: d.mongo.resources, count: d.mongo.members }, { res: d.redis.resources, count: redisPods });
    // A sentinel container beside every Redis server.
    if (d.redis.sentinel) parts.push({ res: d.redis.sentinel.resources, count: redisPods });
    if (hasInitiateJob(d.mongo)) parts.push({ res: INITIATE_JOB_RESOURCES, count: 1 });
    pvcs = d.mongo.members + redisPods;
    storage = d.mongo.members * d.mongo.storageGiB + redisPods * d.redis.storageGiB;
  }
  const sum = (f: (r: ResourceSpec) => number) => parts.reduce((acc, p) => acc + f(p.res) * p.count, 0);
  return {
    cpuRequestMillis: sum((r) => r.cpuRequestMillis),
    cpuLimitMillis: sum((r) => r.cpuLimitMillis),
    memoryMiB: sum((r) => r.memoryMiB),
    pods: parts.reduce((acc, p) => acc + p.count, 0),
    persistentVolumeClaims: pvcs,
    storageGiB: storage,
    maxContainerCpuMillis: Math.max(...parts.map((p) => p.res.cpuLimitMillis)),
    maxContainerMemoryMiB: Math.max(...parts.map((p) => p.res.memoryMiB)),
  };
}
