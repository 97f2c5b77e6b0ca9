/**
 * Label conventions (app.kubernetes.io/*). Selectors use only `name` and `part-of`, which
 * never change over a workload's life, so a selector never has to be edited in place
 * (Deployment selectors are immutable).
 */
import type { Labels } from '../settings.js';

/** `app.kubernetes.io/part-of` of everything in these charts. */
export const PART_OF = 'shop';

/** Role of a pod, used by NetworkPolicies to select all API pods or all data clients. */
export type Component = 'api' | 'worker' | 'database' | 'cache' | 'init';

/** The stable selector labels of a workload. */
export function selectorLabels(name: string): Labels {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': PART_OF };
}

/** Selector plus descriptive labels, for metadata and pod templates. */
export function workloadLabels(name: string, component: Component): Labels {
  return { ...selectorLabels(name), 'app.kubernetes.io/component': component };
}

/** Components that talk to MongoDB and Redis. */
export const DATA_CLIENT_COMPONENTS: readonly Component[] = ['api', 'worker'];
