/**
 * Pod-level hardening and scheduling shared by every workload, written through the escape
 * hatch where cdk8s-plus-27 has no property for it:
 * - seccomp `RuntimeDefault` (plus' PodSecurityContext has no seccomp field) and
 *   `capabilities.drop: [ALL]` (plus' Capability enum has no `ALL`);
 * - `topologySpreadConstraints` instead of plus' `spread: true`, which writes *required*
 *   anti-affinity that caps replicas at the number of nodes/zones and fights the HPA;
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import type { Labels, SpreadMode, SpreadSettings } from '../settings.js';

/** Every container drops all capabilities, cannot escalate and has a read-only root. */
export function restrictedContainerSecurityContext(uid: number): k8s.SecurityContext {
  return {
    runAsUser: uid,
    runAsGroup: uid,
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Pod security context matching Pod Security Standards `restricted`. */
export function restrictedPodSecurityContext(uid: number): k8s.PodSecurityContext {
  return {
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    // Only chown a volume when its group is wrong: large PVCs would otherwise delay every start.
    fsGroupChangePolicy: 'OnRootMismatch',
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Soft or hard spread over nodes and zones; `pod-template-hash` keeps a rollout's new pods spread too. */
export function topologySpreadConstraints(
  spread: SpreadSettings,
  matchLabels: Labels,
  matchLabelKeys: readonly string[] = [],
): k8s.TopologySpreadConstraint[] {
  const constraint = (topologyKey: string, mode: SpreadMode): k8s.TopologySpreadConstraint => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: mode,
    labelSelector: { matchLabels: { ...matchLabels } },
    ...(matchLabelKeys.length > 0 ? { matchLabelKeys: [...matchLabelKeys] } : {}),
  });
  const out: k8s.TopologySpreadConstraint[] = [];
  if (spread.hostname) out.push(constraint('kubernetes.io/hostname', spread.hostname));
  if (spread.zone) out.push(constraint('topology.kubernetes.io/zone', spread.zone));
  return out;
}

/**
 * Adds what cdk8s-plus-27 cannot express to a Deployment made by it: seccomp, drop ALL, spread;
 * and drops plus' `cdk8s.io/metadata.addr` pod label, which encodes the
 * construct path and would change pod labels whenever the code is refactored.
 */
export function patchPlusPodTemplate(
  deployment: ApiObject,
  options: { spread: k8s.TopologySpreadConstraint[] },
): void {
  const spec = '/spec/template/spec';
  deployment.addJsonPatch(
    JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
    JsonPatch.add(`${spec}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    JsonPatch.add(`${spec}/containers/0/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    JsonPatch.add(`${spec}/containers/0/securityContext/capabilities`, { drop: ['ALL'] }),
  );
  if (options.spread.length > 0) {
    deployment.addJsonPatch(JsonPatch.add(`${spec}/topologySpreadConstraints`, options.spread));
  }
}
