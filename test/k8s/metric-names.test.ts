/**
 * Every metric the dashboard and the PrometheusRule ask for is one a service really
 * emits: each service app is started in this process (as the OpenAPI tests do) and
 * its /metrics read; histogram and summary series (_bucket, _sum, _count) count.
 * Names the rules record themselves, and kube-state-metrics' `kube_*`, are the only others.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { committedObjects, type Manifest } from './manifests.js';
import { DOCUMENTED_SERVICES } from '../openapi/services.js';

/** Metrics from outside the shop's services: kube-state-metrics (installed with kube-prometheus-stack). */
const EXTERNAL = /^kube_/;
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels, strings or durations. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:])(?!\s*\()/g)].map((m) => m[0]);
  return [...new Set(names.filter((n) => !KEYWORDS.has(n.toLowerCase())))];
}

/** Series names a /metrics text exposes, from its `# TYPE` lines. */
function exposedNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => {
    if (type === 'histogram') return [name!, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    if (type === 'summary') return [name!, `${name}_sum`, `${name}_count`];
    return [name!];
  });
}

interface Rule { record?: string; alert?: string; expr: string }

function queriesOf(objects: Manifest[]): { rules: Rule[]; panels: Array<{ title: string; expr: string }> } {
  const rules = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => (o.spec.groups as Array<{ rules: Rule[] }>).flatMap((g) => g.rules));
  const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
  const dashboard = JSON.parse(String(map?.data?.['shop.json'])) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  return { rules, panels: dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr }))) };
}

test('the PromQL name extraction finds metrics and skips functions, keywords, labels, strings and durations', () => {
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (service, le) (rate(a_seconds_bucket{service=~"$service",le="0.5"}[5m])))'), ['a_seconds_bucket']);
  assert.deepEqual(metricNames('sum by (queue) (max by (queue, state) (b{state=~"x|y"})) > 500 and on (queue) c_total offset 5m'), ['b', 'c_total']);
  assert.deepEqual(metricNames('shop:http_error_ratio:rate1h > (14.4 * 0.001000)'), ['shop:http_error_ratio:rate1h']);
});

describe('metric names in the dashboard and the alerts', () => {
  const emitted = new Set<string>();
  const running: Array<{ close(): Promise<void> }> = [];
  before(async () => {
    for (const service of DOCUMENTED_SERVICES) {
      const app = await service.start();
      running.push(app);
      const text = (await request(app.app.callback()).get('/metrics').expect(200)).text;
      for (const name of exposedNames(text)) emitted.add(name);
    }
  });
  after(async () => {
    for (const app of running) await app.close();
  });

  test('the services expose what the checks rely on (the request histogram, default metrics)', () => {
    for (const name of ['http_request_duration_seconds_count', 'http_request_duration_seconds_bucket', 'nodejs_eventloop_lag_p99_seconds']) assert.ok(emitted.has(name), name);
  });

  for (const env of ['dev', 'prod']) {
    test(`${env}: every metric in a dashboard panel or a rule is emitted by a service, recorded by a rule, or kube-state-metrics'`, () => {
      const { rules, panels } = queriesOf(committedObjects(env));
      const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
      const unknown: string[] = [];
      for (const { where, expr } of [...rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })), ...panels.map((p) => ({ where: `panel "${p.title}"`, expr: p.expr }))]) {
        const names = metricNames(expr);
        assert.ok(names.length > 0, `${where}: no metric found in ${expr}`);
        for (const name of names) if (!emitted.has(name) && !recorded.has(name) && !EXTERNAL.test(name)) unknown.push(`${where}: ${name}`);
      }
      assert.deepEqual(unknown, []);
    });
  }
});
