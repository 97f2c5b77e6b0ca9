/**
 * NetworkPolicies: deny everything in the namespace, then allow exactly the call graph
 * (charts-ts/services.ts `calls`), the edge to the public services, every service to
 * MongoDB and Redis (in-cluster pods, or managed CIDRs), and DNS. Ports are the pods'
 * ports (8080, 27017, 6379), because policies see traffic after Service translation.
 * Kubelet probes come from the node and are not subject to these policies on common CNIs.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CONTAINER_PORT, type ServiceDefinition } from '../services.js';
import type { DataTierSettings, Labels, PeerSelector } from '../settings.js';
import { DATA_CLIENT_COMPONENTS, PART_OF, selectorLabels } from './labels.js';
import { MONGO_NAME, MONGO_PORT } from './mongo-replica-set.js';
import { REDIS_NAME, REDIS_PORT, SENTINEL_PORT } from './redis.js';

/** Props of {@link ShopNetworkPolicies}. */
export interface ShopNetworkPoliciesProps {
  readonly services: readonly ServiceDefinition[];
  readonly dataTier: DataTierSettings;
  readonly edgePeers: readonly PeerSelector[];
  readonly dns: PeerSelector;
  readonly monitoring?: PeerSelector;
  readonly labels: Labels;
}

type Rule = { peers: k8s.NetworkPolicyPeer[]; port: number; protocol?: string };

/** Converts a settings selector into a policy peer; an empty selector would mean "everything", so it is refused. */
export function toPeer(p: PeerSelector): k8s.NetworkPolicyPeer {
  if (!p.namespaceLabels && !p.podLabels) throw new Error('charts-ts: a NetworkPolicy peer needs namespace or pod labels');
  return {
    namespaceSelector: p.namespaceLabels ? { matchLabels: { ...p.namespaceLabels } } : undefined,
    podSelector: p.podLabels ? { matchLabels: { ...p.podLabels } } : undefined,
  };
}

const podPeer = (labels: Labels): k8s.NetworkPolicyPeer => ({ podSelector: { matchLabels: { ...labels } } });
const dataClients: k8s.NetworkPolicyPeer = {
  podSelector: {
    matchLabels: { 'app.kubernetes.io/part-of': PART_OF },
    matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...DATA_CLIENT_COMPONENTS] }],
  },
};
// A rule with no peers would match every source/destination, so such rules are dropped, never written.
const toK8s = (rules: Rule[]) =>
  rules.filter((r) => r.peers.length > 0).map((r) => ({ peers: r.peers, ports: [{ port: k8s.IntOrString.fromNumber(r.port), protocol: r.protocol ?? 'TCP' }] }));

/** All NetworkPolicies of the namespace. */
export class ShopNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: ShopNetworkPoliciesProps) {
    super(scope, id);
    const policy = (name: string, podSelector: k8s.LabelSelector, ingress: Rule[], egress: Rule[], types = ['Ingress', 'Egress']) =>
      new k8s.KubeNetworkPolicy(this, name, {
        metadata: { name, labels: { ...props.labels } },
        spec: {
          podSelector,
          policyTypes: types,
          ingress: toK8s(ingress).map((r) => ({ from: r.peers, ports: r.ports })),
          egress: toK8s(egress).map((r) => ({ to: r.peers, ports: r.ports })),
        },
      });

    // An empty podSelector with both types and no rules: nothing in, nothing out.
    policy('default-deny-all', {}, [], []);
    const dns = [toPeer(props.dns)];
    policy('allow-dns-egress', {}, [], [
      { peers: dns, port: 53, protocol: 'UDP' },
      { peers: dns, port: 53, protocol: 'TCP' },
    ], ['Egress']);

    const data = props.dataTier;
    const mongoEgress: Rule =
      data.mode === 'in-cluster'
        ? { peers: [podPeer(selectorLabels(MONGO_NAME))], port: MONGO_PORT }
        : { peers: data.mongo.cidrs.map((cidr) => ({ ipBlock: { cidr } })), port: data.mongo.port };
    const redisEgress: Rule =
      data.mode === 'in-cluster'
        ? { peers: [podPeer(selectorLabels(REDIS_NAME))], port: REDIS_PORT }
        : { peers: data.redis.cidrs.map((cidr) => ({ ipBlock: { cidr } })), port: data.redis.port };

    // With Sentinel, clients ask the sentinels (26379) for the primary, then connect to it (6379).
    const sentinels = data.mode === 'in-cluster' && data.redis.sentinel;
    const sentinelEgress: Rule[] = sentinels ? [{ peers: [podPeer(selectorLabels(REDIS_NAME))], port: SENTINEL_PORT }] : [];

    for (const s of props.services) {
      const ingress: Rule[] = [];
      if (s.publicPathPrefixes.length > 0) ingress.push({ peers: props.edgePeers.map(toPeer), port: CONTAINER_PORT });
      const callers = props.services.filter((c) => c.calls.includes(s.name));
      if (callers.length > 0) ingress.push({ peers: callers.map((c) => podPeer(selectorLabels(c.name))), port: CONTAINER_PORT });
      if (props.monitoring) ingress.push({ peers: [toPeer(props.monitoring)], port: CONTAINER_PORT });
      const egress: Rule[] = s.calls.map((callee) => ({ peers: [podPeer(selectorLabels(callee))], port: CONTAINER_PORT }));
      egress.push(mongoEgress, redisEgress, ...sentinelEgress);
      policy(s.name, { matchLabels: { ...selectorLabels(s.name) } }, ingress, egress);
    }

    if (data.mode === 'in-cluster') {
      const mongo = selectorLabels(MONGO_NAME);
      const initiate = selectorLabels(`${MONGO_NAME}-initiate`);
      // Members replicate to each other; clients and the initiate Job connect in.
      policy(MONGO_NAME, { matchLabels: { ...mongo } }, [{ peers: [dataClients, podPeer(mongo), podPeer(initiate)], port: MONGO_PORT }], [
        { peers: [podPeer(mongo)], port: MONGO_PORT },
      ]);
      policy(`${MONGO_NAME}-initiate`, { matchLabels: { ...initiate } }, [], [{ peers: [podPeer(mongo)], port: MONGO_PORT }]);
      const redis = podPeer(selectorLabels(REDIS_NAME));
      // Sentinel: replicas sync from the primary, sentinels watch every server and talk to each other.
      const peerPorts = sentinels ? [REDIS_PORT, SENTINEL_PORT] : [];
      policy(REDIS_NAME, { matchLabels: { ...selectorLabels(REDIS_NAME) } }, [
        { peers: [dataClients], port: REDIS_PORT },
        ...(sentinels ? [{ peers: [dataClients], port: SENTINEL_PORT }] : []),
        ...peerPorts.map((port) => ({ peers: [redis], port })),
      ], peerPorts.map((port) => ({ peers: [redis], port })));
    }
  }
}
