import { test } from 'node:test';
import assert from 'node:assert/strict';
import { committedObjects } from './manifests.js';
import { SERVICES } from '../../charts-ts/services.js';

/** Every service's config behind the Ingress: the client is read through trusted proxies only, never from anyone's X-Forwarded-For. */
test('when a service runs behind the Ingress, then its config names trusted proxies, hops and exempt callers, none of them everyone', () => {
  for (const env of ['dev', 'prod']) {
    const configs = committedObjects(env).filter((o) => o.kind === 'ConfigMap' && (o as { data?: Record<string, string> }).data?.LOG_LEVEL !== undefined) as Array<{ metadata: { name: string }; data: Record<string, string> }>;
    assert.equal(configs.length, SERVICES.length, `${env}: one service config per service`);
    for (const { metadata, data } of configs) {
      const where = `${env} ${metadata.name}`;
      for (const key of ['EDGE_TRUSTED_PROXIES', 'EDGE_EXEMPT_CIDRS']) {
        const cidrs = (data[key] ?? '').split(',').filter(Boolean);
        assert.ok(cidrs.length > 0, `${where}: ${key} is set`);
        assert.ok(!cidrs.some((c) => c === '0.0.0.0/0' || c === '::/0'), `${where}: ${key} never trusts everyone`);
      }
      assert.match(data.EDGE_PROXY_HOPS ?? '', /^[1-3]$/, `${where}: EDGE_PROXY_HOPS`);
    }
  }
});

/** Synced rate limits split their allowed overshoot between EDGE_LIMIT_REPLICAS pods: fewer than the HPA may run would let a client past it. */
test('when a service scales out, then its config splits the rate limits\' overshoot between as many pods as its HPA may run', () => {
  for (const env of ['dev', 'prod']) {
    const objects = committedObjects(env) as Array<{ kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: { maxReplicas?: number; scaleTargetRef?: { name: string } } }>;
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    assert.ok(hpas.length > 0, `${env}: autoscalers`);
    for (const hpa of hpas) {
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.data?.LOG_LEVEL !== undefined && o.metadata.name.startsWith(hpa.spec?.scaleTargetRef?.name ?? '?'));
      assert.ok(config, `${env} ${hpa.metadata.name}: the service's config`);
      assert.equal(config.data?.EDGE_LIMIT_REPLICAS, String(hpa.spec?.maxReplicas), `${env} ${hpa.metadata.name}: EDGE_LIMIT_REPLICAS = maxReplicas`);
    }
  }
});
