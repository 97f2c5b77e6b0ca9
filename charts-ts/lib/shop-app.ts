/**
 * Assembles one environment: one cdk8s Chart per output file, so `kubectl apply -f k8s/<env>`
 * creates them in file-name order: namespace and guard rails, NetworkPolicies (deny first,
 * so no pod ever runs unprotected), data tier, one file per service, then the edge.
 */
import { App, Chart } from 'cdk8s';
import { SERVICES, assertValidServices, serviceUrl, type ServiceDefinition } from '../services.js';
import { sizingFor, type EnvironmentSettings } from '../settings.js';
import { DataTier } from './data-tier.js';
import { edgeRoutes } from './edge-routes.js';
import { imageRef } from './image.js';
import { redisClientConfig } from './redis.js';
import { ShopIngress } from './ingress.js';
import { ingressProfile } from './ingress-profiles.js';
import { ShopGateway } from './gateway.js';
import { PART_OF } from './labels.js';
import { ShopNamespace } from './namespace.js';
import { ShopNetworkPolicies } from './network-policies.js';
import { ServiceWorkload } from './service-workload.js';
import { footprint } from './footprint.js';
import { ShopObservability } from './observability.js';

/** Options for tests and the CLI. */
export interface ShopAppOptions {
  /** Overrides the environment's image (the `IMAGE` env var of `npm run synth`). */
  readonly image?: string;
  /** Replaces the service list (tests add a worker this way). @default SERVICES */
  readonly services?: readonly ServiceDefinition[];
}

/** A chart and the file it is written to. */
export interface OutputChart {
  readonly fileName: string;
  readonly chart: Chart;
}

/** Builds every chart of one environment inside a fresh cdk8s App. */
export function buildEnvironment(settings: EnvironmentSettings, options: ShopAppOptions = {}): OutputChart[] {
  const services = options.services ?? SERVICES;
  assertValidServices(services);
  const image = options.image ? imageRef(options.image) : imageRef(settings.image, settings.imageDigest);
  const ns = settings.namespace;
  const labels = { 'app.kubernetes.io/part-of': PART_OF, 'app.kubernetes.io/managed-by': 'cdk8s' };
  const app = new App();
  const out: OutputChart[] = [];
  const chart = (fileName: string, id: string, namespaced = true): Chart => {
    const c = new Chart(app, id, { namespace: namespaced ? ns : undefined, labels, disableResourceNameHashes: true });
    out.push({ fileName, chart: c });
    return c;
  };

  new ShopNamespace(chart('00-namespace.yaml', 'namespace', false), 'Namespace', {
    name: ns,
    labels: { ...labels, environment: settings.name },
    footprint: footprint(settings, services),
    gatewayNamespace: settings.edge.mode === 'ingress' ? undefined : settings.edge.gateway.namespace,
  });

  new ShopNetworkPolicies(chart('10-network-policies.yaml', 'network-policies'), 'Policies', {
    services,
    dataTier: settings.dataTier,
    edgePeers: settings.edge.peers,
    dns: settings.network.dns,
    monitoring: settings.network.monitoring,
    labels,
  });

  if (settings.dataTier.mode === 'in-cluster') {
    new DataTier(chart('20-data-tier.yaml', 'data-tier'), 'DataTier', { namespace: ns, settings: settings.dataTier });
  }

  const edge = settings.edge;
  const useIngress = edge.mode !== 'gateway';
  const profile = ingressProfile(useIngress ? edge.ingress.profile : 'none', edge, ns);
  for (const s of services) {
    const config: Record<string, string> = {
      LOG_LEVEL: settings.logLevel,
      REQUEST_TIMEOUT_MS: String(settings.requestTimeoutMs),
      EDGE_TRUSTED_PROXIES: edge.trustedProxyCidrs.join(','),
      EDGE_PROXY_HOPS: String(edge.proxyHops),
      EDGE_EXEMPT_CIDRS: edge.exemptCidrs.join(','),
      // Synced rate limits split their allowed overshoot between the most pods the HPA may run.
      EDGE_LIMIT_REPLICAS: String(sizingFor(settings, s.name).maxReplicas),
      ...(settings.dataTier.mode === 'in-cluster' ? redisClientConfig(ns, settings.dataTier.redis) : {}),
    };
    for (const callee of s.calls) config[`${callee.toUpperCase()}_URL`] = serviceUrl(callee, ns);
    new ServiceWorkload(chart(`30-${s.name}.yaml`, s.name), 'Workload', {
      definition: s,
      image,
      config,
      secretName: settings.secretName,
      sizing: sizingFor(settings, s.name),
      shutdown: settings.shutdown,
      spread: settings.spread,
      cpuUtilization: settings.autoscaling.cpuUtilization,
      memoryUtilization: settings.autoscaling.memoryUtilization,
      serviceAnnotations: s.publicPathPrefixes.length > 0 ? profile.serviceAnnotations : undefined,
    });
  }

  const routes = edgeRoutes(services);
  if (routes.length > 0) {
    const edgeChart = chart('40-edge.yaml', 'edge');
    if (useIngress) {
      new ShopIngress(edgeChart, 'Ingress', { edge, routes, profile, labels });
      profile.addObjects(edgeChart);
    }
    if (edge.mode !== 'ingress') new ShopGateway(edgeChart, 'Gateway', { namespace: ns, edge, routes, labels });
  }

  // Needs the Prometheus Operator's CRDs: a folder of its own, applied separately (docs/kubernetes.md).
  new ShopObservability(chart('monitoring/50-observability.yaml', 'observability'), 'Observability', { namespace: ns, services, labels });
  return out;
}
