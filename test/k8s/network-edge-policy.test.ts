/** NetworkPolicies cover every pod and allow exactly the call graph; edge routes reach real Services and ports. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allRenderings, ofKind, selects, workloads, type Manifest, type Rendered } from './manifests.js';

const renderings = await allRenderings();

const policiesFor = (r: Rendered, labels: Record<string, string>) =>
  ofKind(r.objects, 'NetworkPolicy').filter((p) => selects(p.spec.podSelector, labels));

/** Is traffic from pod A to pod B on `port` allowed (same namespace, pod selectors only)? */
function allowed(r: Rendered, from: Record<string, string>, to: Record<string, string>, port: number): { egress: boolean; ingress: boolean } {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const hit = (rules: any[] | undefined, peerKey: 'from' | 'to', labels: Record<string, string>) =>
    (rules ?? []).some(
      (rule) =>
        rule.ports?.some((p: { port: number }) => p.port === port) &&
        rule[peerKey]?.some((peer: { podSelector?: unknown; namespaceSelector?: unknown }) => !peer.namespaceSelector && selects(peer.podSelector, labels)),
    );
  return {
    egress: policiesFor(r, from).some((p) => hit(p.spec.egress, 'to', to)),
    ingress: policiesFor(r, to).some((p) => hit(p.spec.ingress, 'from', from)),
  };
}

const podLabelsOf = (r: Rendered, name: string) =>
  workloads(r.objects).find((w) => w.object.metadata.name === name)!.podLabels;

/** The Service named `name`, its pods, and whether `port` reaches a container port. */
function backendReaches(r: Rendered, name: string, port: number): string | undefined {
  const svc = ofKind(r.objects, 'Service').find((s) => s.metadata.name === name);
  if (!svc) return `no Service ${name}`;
  const sp = svc.spec.ports.find((p: { port: number }) => p.port === port);
  if (!sp) return `Service ${name} has no port ${port}`;
  const pods = workloads(r.objects).filter((w) => selects({ matchLabels: svc.spec.selector }, w.podLabels));
  if (pods.length === 0) return `Service ${name} selects no pods`;
  const ok = pods.every((w) => w.pod.containers.some((c: { ports?: { containerPort: number }[] }) => c.ports?.some((cp) => cp.containerPort === sp.targetPort)));
  return ok ? undefined : `Service ${name} targetPort ${sp.targetPort} is not a container port`;
}

for (const r of renderings) {
  describe(r.label, () => {
    test('a default-deny policy selects every pod for both ingress and egress, with no rules', () => {
      const deny = ofKind(r.objects, 'NetworkPolicy').find((p) => p.metadata.name === 'default-deny-all')!;
      assert.deepEqual(deny.spec.podSelector, {});
      assert.deepEqual([...deny.spec.policyTypes].sort(), ['Egress', 'Ingress']);
      assert.equal((deny.spec.ingress ?? []).length + (deny.spec.egress ?? []).length, 0);
    });
    test('every pod is also selected by a specific allow policy', () => {
      for (const w of workloads(r.objects)) {
        const specific = policiesFor(r, w.podLabels).filter((p) => Object.keys(p.spec.podSelector).length > 0);
        assert.ok(specific.length > 0, w.object.metadata.name);
      }
    });
    test('every pod may resolve DNS over UDP and TCP 53', () => {
      for (const w of workloads(r.objects)) {
        const ports = policiesFor(r, w.podLabels).flatMap((p) => (p.spec.egress ?? []).flatMap((e: { ports: { port: number; protocol: string }[] }) => e.ports.filter((x) => x.port === 53).map((x) => x.protocol)));
        assert.deepEqual([...new Set(ports)].sort(), ['TCP', 'UDP'], w.object.metadata.name);
      }
    });
    test('no rule has an empty peer list (which would mean "anyone")', () => {
      for (const p of ofKind(r.objects, 'NetworkPolicy')) {
        for (const rule of p.spec.ingress ?? []) assert.ok(rule.from?.length > 0, p.metadata.name);
        for (const rule of p.spec.egress ?? []) assert.ok(rule.to?.length > 0, p.metadata.name);
      }
    });
    test('every call in the service graph is allowed on both ends on 8080, and nothing else between services', () => {
      const http = r.services.filter((s) => s.kind === 'http');
      for (const a of r.services) {
        for (const b of http) {
          if (a.name === b.name) continue;
          const got = allowed(r, podLabelsOf(r, a.name), podLabelsOf(r, b.name), 8080);
          const want = a.calls.includes(b.name);
          assert.deepEqual(got, { egress: want, ingress: want }, `${a.name} -> ${b.name}`);
        }
      }
    });
    test('callers get the callee URL in their ConfigMap and it names an existing Service port', () => {
      for (const s of r.services) {
        const cm = ofKind(r.objects, 'ConfigMap').find((m) => m.metadata.name === `${s.name}-config`)!;
        for (const callee of s.calls) {
          const url = new URL(cm.data![`${callee.toUpperCase()}_URL`]!);
          assert.equal(url.hostname, `${callee}.${r.settings.namespace}.svc.cluster.local`);
          assert.equal(backendReaches(r, callee, Number(url.port || 80)), undefined); // URL drops the default :80
        }
      }
    });
    test('every service reaches MongoDB and Redis (pods in-cluster, CIDRs when managed)', () => {
      const d = r.settings.dataTier;
      for (const s of r.services) {
        const egress = policiesFor(r, podLabelsOf(r, s.name)).flatMap((p: Manifest) => p.spec.egress ?? []);
        if (d.mode === 'in-cluster') {
          assert.ok(allowed(r, podLabelsOf(r, s.name), podLabelsOf(r, 'mongo'), 27017).ingress, `${s.name} -> mongo`);
          assert.ok(allowed(r, podLabelsOf(r, s.name), podLabelsOf(r, 'redis'), 6379).egress, `${s.name} -> redis`);
        } else {
          const cidrs = (port: number) => egress.filter((e: { ports: { port: number }[] }) => e.ports.some((p) => p.port === port)).flatMap((e: { to: { ipBlock?: { cidr: string } }[] }) => e.to.map((t) => t.ipBlock?.cidr));
          assert.deepEqual(cidrs(d.mongo.port), [...d.mongo.cidrs]);
          assert.deepEqual(cidrs(d.redis.port), [...d.redis.cidrs]);
        }
      }
    });
    test('only public services admit the edge; inventory is never public', () => {
      for (const s of r.services) {
        const fromNamespaces = policiesFor(r, podLabelsOf(r, s.name))
          .flatMap((p) => p.spec.ingress ?? [])
          .filter((rule: { from: { namespaceSelector?: unknown }[]; ports: { port: number }[] }) => rule.from.some((f) => f.namespaceSelector) && rule.ports.some((p) => p.port === 8080));
        const monitoring = r.settings.network.monitoring ? 1 : 0;
        assert.equal(fromNamespaces.length, (s.publicPathPrefixes.length > 0 ? 1 : 0) + monitoring, s.name);
      }
      assert.ok(!r.services.find((s) => s.name === 'inventory')?.publicPathPrefixes.length);
    });
    test('Prometheus may scrape every pod a ServiceMonitor or PodMonitor selects, on the port it scrapes (the default-deny would drop it otherwise)', () => {
      const monitors = r.objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');
      assert.ok(monitors.length > 0, 'monitors');
      const monitoring = r.settings.network.monitoring;
      assert.ok(monitoring, `${r.label} has monitors but no network.monitoring peer: its scrapes are denied`);
      const fromMonitoring = (peer: { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: { matchLabels?: Record<string, string> } }) =>
        JSON.stringify(peer.namespaceSelector?.matchLabels ?? null) === JSON.stringify(monitoring.namespaceLabels ?? null) &&
        JSON.stringify(peer.podSelector?.matchLabels ?? null) === JSON.stringify(monitoring.podLabels ?? null);
      for (const monitor of monitors) {
        // A ServiceMonitor selects Services (then their pods), a PodMonitor pods.
        const podSelectors = monitor.kind === 'PodMonitor'
          ? [monitor.spec.selector]
          : ofKind(r.objects, 'Service').filter((svc) => selects(monitor.spec.selector, svc.metadata.labels)).map((svc) => ({ matchLabels: svc.spec.selector }));
        const pods = workloads(r.objects).filter((w) => podSelectors.some((selector) => selects(selector, w.podLabels)));
        assert.ok(pods.length > 0, `${monitor.kind} ${monitor.metadata.name} selects pods`);
        for (const w of pods) {
          // Endpoints name the port `http`: the container port of that name.
          const port = w.pod.containers.flatMap((c: { ports?: { name?: string; containerPort: number }[] }) => c.ports ?? []).find((p: { name?: string }) => p.name === 'http')?.containerPort;
          assert.ok(port, `${w.object.metadata.name} has a port named http`);
          const admitted = policiesFor(r, w.podLabels).some((p) => (p.spec.ingress ?? []).some((rule: { from: Array<Parameters<typeof fromMonitoring>[0]>; ports: { port: number }[] }) =>
            rule.ports.some((p) => p.port === port) && rule.from.some(fromMonitoring)));
          assert.ok(admitted, `${w.object.metadata.name}: Prometheus may not reach :${port}`);
        }
      }
    });
    test('Ingress paths reach existing Services, ports and pods', () => {
      const paths = ofKind(r.objects, 'Ingress').flatMap((i) => i.spec.rules.flatMap((rule: { http: { paths: unknown[] } }) => rule.http.paths));
      if (r.settings.edge.mode !== 'gateway') assert.ok(paths.length > 0);
      for (const p of paths as { path: string; backend: { service: { name: string; port: { number: number } } } }[]) {
        assert.equal(backendReaches(r, p.backend.service.name, p.backend.service.port.number), undefined, p.path);
      }
    });
    test('HTTPRoute backends reach existing Services, ports and pods, and every rule has timeouts', () => {
      const rules = ofKind(r.objects, 'HTTPRoute').flatMap((h) => h.spec.rules);
      if (r.settings.edge.mode !== 'ingress') assert.ok(rules.length > 0);
      for (const rule of rules) {
        assert.ok(rule.timeouts?.request && rule.timeouts?.backendRequest);
        for (const b of rule.backendRefs) assert.equal(backendReaches(r, b.name, b.port), undefined, b.name);
      }
    });
    test('retries are only configured on GET/HEAD rules', () => {
      for (const rule of ofKind(r.objects, 'HTTPRoute').flatMap((h) => h.spec.rules)) {
        if (!rule.retry) continue;
        for (const m of rule.matches) assert.ok(['GET', 'HEAD'].includes(m.method), JSON.stringify(m));
      }
      for (const i of ofKind(r.objects, 'Ingress')) {
        assert.doesNotMatch(JSON.stringify(i.metadata), /non_idempotent|retryNonIdempotentMethod":true/);
      }
    });
  });
}
