/** Every synthesized object validates against the Kubernetes / Gateway API OpenAPI schemas (kubernetes-models). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigMap, LimitRange, Namespace, ResourceQuota, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { allRenderings, committedObjects, type Manifest } from './manifests.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Model = new (data: any) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ResourceQuota': ResourceQuota,
  'v1/LimitRange': LimitRange,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'gateway.networking.k8s.io/v1/Gateway': Gateway,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};
/** Controller CRDs with no published model; listed so a new unknown kind fails instead of slipping by. */
const NO_MODEL = new Set(['traefik.io/v1alpha1/Middleware', 'traefik.io/v1alpha1/ServersTransport']);

const gvk = (o: Manifest) => `${o.apiVersion}/${o.kind}`;

function validate(o: Manifest): void {
  const Model = MODELS[gvk(o)];
  if (!Model) {
    assert.ok(NO_MODEL.has(gvk(o)), `no validator for ${gvk(o)}: add its model to schema.test.ts`);
    return;
  }
  new Model(o).validate();
}

describe('schema validation', async () => {
  for (const r of await allRenderings()) {
    test(`${r.label}: every object validates against its OpenAPI schema`, () => {
      for (const o of r.objects) {
        assert.doesNotThrow(() => validate(o), `${gvk(o)} ${o.metadata.name}`);
      }
    });
  }

  test('the validator is real: a Deployment with a string containerPort is rejected', () => {
    const deployment = committedObjects('dev').find((o) => o.kind === 'Deployment')!;
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    assert.throws(() => validate(broken));
  });

  test('the Gateway validator is real: an HTTPRoute timeout that is not a duration is rejected', async () => {
    const route = (await allRenderings()).flatMap((r) => r.objects).find((o) => o.kind === 'HTTPRoute')!;
    const broken = structuredClone(route);
    broken.spec.rules[0].timeouts.request = 'fifteen seconds';
    assert.throws(() => validate(broken));
  });
});
