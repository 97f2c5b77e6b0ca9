/**
 * Test helpers over synthesized manifests: loading committed YAML, synthesizing variants,
 * and the few Kubernetes semantics the policy tests need (label selection).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { SERVICES, type ServiceDefinition } from '../../charts-ts/services.js';
import type { EnvironmentSettings } from '../../charts-ts/settings.js';
import { loadEnvironments, synthEnvironment } from '../../charts-ts/synth.js';
import type { ShopAppOptions } from '../../charts-ts/lib/shop-app.js';

/** A parsed manifest; tests read it loosely and assert on what they need. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

/** One synthesized environment (committed or a test variant). */
export interface Rendered {
  readonly label: string;
  readonly settings: EnvironmentSettings;
  readonly services: readonly ServiceDefinition[];
  readonly objects: Manifest[];
}

/** Repository root k8s/ folder. */
export const K8S_DIR = fileURLToPath(new URL('../../k8s/', import.meta.url));

/** Parses multi-document YAML text. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter((m) => m !== null);
}

/** Objects of the committed k8s/<env>/ folder. */
export function committedObjects(env: string): Manifest[] {
  const dir = join(K8S_DIR, env);
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
  return files.flatMap((f) => parseManifests(readFileSync(f, 'utf8')));
}

/** Synthesizes in memory. */
export function render(label: string, settings: EnvironmentSettings, options: ShopAppOptions = {}): Rendered {
  const files = synthEnvironment(settings, options);
  return { label, settings, services: options.services ?? SERVICES, objects: [...files.values()].flatMap(parseManifests) };
}

/** Fulfillment deployed as a bare queue worker (no HTTP side), to exercise the construct's worker branch. */
export const TEST_WORKER: ServiceDefinition = { name: 'fulfillment', kind: 'worker', publicPathPrefixes: [], calls: [], secrets: ['MONGODB_URI', 'REDIS_URL'] };

/**
 * Every committed environment plus variants that exercise the other branches: external
 * data tier, Traefik profile with Gateway and experimental retry, and a worker.
 */
export async function allRenderings(): Promise<Rendered[]> {
  const envs = await loadEnvironments();
  const out = envs.map((e) => render(e.name, e));
  const base = envs.find((e) => e.name === 'prod') ?? envs[0]!;
  const dev = envs.find((e) => e.name === 'dev') ?? envs[0]!;
  out.push(
    render(`${base.name}+external-data+worker`, {
      ...base,
      dataTier: { mode: 'external', mongo: { cidrs: ['10.20.0.0/16'], port: 27017 }, redis: { cidrs: ['10.30.0.0/24'], port: 6380 } },
    }, { services: SERVICES.map((s) => (s.name === TEST_WORKER.name ? TEST_WORKER : s)) }),
    render(`${dev.name}+traefik+gateway`, {
      ...dev,
      edge: { ...dev.edge, mode: 'both', ingress: { className: 'traefik', profile: 'traefik' }, gateway: { ...dev.edge.gateway, experimentalRetry: true } },
    }),
  );
  return out;
}

/** Does a label selector (matchLabels + In/NotIn/Exists) select these labels? Empty selects all. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function selects(selector: any, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A workload with a pod template. */
export interface Workload {
  readonly object: Manifest;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly pod: any;
  readonly podLabels: Record<string, string>;
}

/** Deployments, StatefulSets and Jobs. */
export function workloads(objects: Manifest[]): Workload[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({ object: o, pod: o.spec.template.spec, podLabels: o.spec.template.metadata?.labels ?? {} }));
}

/** Objects of one kind. */
export function ofKind(objects: Manifest[], kind: string): Manifest[] {
  return objects.filter((o) => o.kind === kind);
}
