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
