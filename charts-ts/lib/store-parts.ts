/**
 * The pieces every in-cluster store (MongoDB, Redis) has alike: its own
 * ServiceAccount without a token, one ReadWriteOnce claim per pod that outlives
 * the pod, and a PDB that lets one pod go at a time so drains never block.
 */
import { k8s } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';

export function storeServiceAccount(scope: Construct, name: string, labels: Record<string, string>): void {
  new k8s.KubeServiceAccount(scope, 'ServiceAccount', {
    metadata: { name, labels: { ...labels } },
    automountServiceAccountToken: false,
  });
}

/** The `data` volume claim template; claims are kept when the set is deleted or scaled. */
export function dataClaimTemplate(labels: Record<string, string>, storage: { storageClassName?: string; storageGiB: number }): k8s.KubePersistentVolumeClaimProps {
  return {
    metadata: { name: 'data', labels: { ...labels } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: storage.storageClassName,
      resources: { requests: { storage: k8s.Quantity.fromString(`${storage.storageGiB}Gi`) } },
    },
  };
}

export const KEEP_CLAIMS = { whenDeleted: 'Retain', whenScaled: 'Retain' } as const;

/** At most one pod of the store unavailable; unhealthy pods may always be evicted. */
export function storePdb(scope: Construct, name: string, labels: Record<string, string>, selector: Record<string, string>): void {
  new k8s.KubePodDisruptionBudget(scope, 'Pdb', {
    metadata: { name, labels: { ...labels } },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(1),
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: { ...selector } },
    },
  });
}
