/** The monitoring objects: one monitor per service, SLO burn-rate alerts, operations alerts, a dashboard. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allRenderings, committedObjects, K8S_DIR, type Manifest } from './manifests.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
}

const rulesOf = (objects: Manifest[]): Rule[] =>
  objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => (o.spec.groups as Array<{ rules: Rule[] }>).flatMap((g) => g.rules));

function balanced(expr: string): boolean {
  let depth = 0;
  for (const c of expr) {
    if ('([{'.includes(c)) depth += 1;
    if (')]}'.includes(c)) depth -= 1;
    if (depth < 0) return false;
  }
  return depth === 0;
}

describe('monitoring objects', async () => {
  for (const r of await allRenderings()) {
    test(`${r.label}: every service has exactly one ServiceMonitor (HTTP) or PodMonitor (worker) selecting its pods' /metrics`, () => {
      for (const s of r.services) {
        const kind = s.kind === 'http' ? 'ServiceMonitor' : 'PodMonitor';
        const monitors = r.objects.filter((o) => o.kind === kind && o.spec.selector.matchLabels['app.kubernetes.io/name'] === s.name);
        assert.equal(monitors.length, 1, `${kind} for ${s.name}`);
        const endpoint = (monitors[0].spec.endpoints ?? monitors[0].spec.podMetricsEndpoints)[0];
        assert.equal(endpoint.path, '/metrics');
        assert.equal(endpoint.port, 'http');
      }
    });

    test(`${r.label}: availability and latency each have a fast (page) and a slow (ticket) burn-rate alert over two windows`, () => {
      const rules = rulesOf(r.objects);
      for (const slo of ['Availability', 'Latency']) {
        for (const [speed, severity] of [['Fast', 'page'], ['Slow', 'ticket']]) {
          const alert = rules.find((rule) => rule.alert === `${slo}BudgetBurn${speed}`);
          assert.ok(alert, `${slo}BudgetBurn${speed}`);
          assert.equal(alert.labels?.severity, severity);
          const windows = [...alert.expr.matchAll(/:rate(\d+[mh])/g)].map((m) => m[1]);
          assert.equal(windows.length, 2, alert.expr);
          assert.notEqual(windows[0], windows[1]);
          for (const w of windows) assert.ok(rules.some((rule) => rule.record?.endsWith(`:rate${w}`)), `recording rule for ${w}`);
        }
      }
    });

    test(`${r.label}: queue backlog, failing jobs, stuck orders and restarting replicas alert; every expression is balanced`, () => {
      const rules = rulesOf(r.objects);
      for (const name of ['FulfillmentQueueBacklog', 'FulfillmentJobsFailing', 'OrdersStuck', 'ReplicasRestarting']) assert.ok(rules.some((rule) => rule.alert === name), name);
      for (const rule of rules) assert.ok(balanced(rule.expr), rule.expr);
      assert.ok(rules.find((rule) => rule.alert === 'ReplicasRestarting')?.expr.includes(`namespace="${r.settings.namespace}"`));
    });

    test(`${r.label}: the Grafana dashboard is valid JSON in a sidecar-labelled ConfigMap and shows every signal asked for`, () => {
      const map = r.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
      assert.ok(map, 'dashboard ConfigMap');
      const dashboard = JSON.parse(String(map.data?.['shop.json']));
      const exprs = (dashboard.panels as Array<{ targets: Array<{ expr: string }> }>).flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
      for (const signal of ['http_request_duration_seconds_count', 'status=~"5.."', 'histogram_quantile(0.99', 'http_requests_in_flight', 'nodejs_eventloop_lag_p99_seconds', 'cache_requests_total', 'inventory_holds_total', 'checkout_orders_total', 'queue_jobs{', 'outcome="failed"']) {
        assert.ok(exprs.includes(signal), signal);
      }
      const ids = dashboard.panels.map((p: { id: number }) => p.id);
      assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    });

    test(`${r.label}: request rate, error rate and p99 are shown per service and route`, () => {
      const map = r.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
      const panels = JSON.parse(String(map?.data?.['shop.json'])).panels as Array<{ title: string; targets: Array<{ expr: string }> }>;
      for (const title of ['Request rate', 'Error rate', 'p99 latency']) {
        const panel = panels.find((p) => p.title.startsWith(title));
        assert.ok(panel, title);
        const groupings = [...panel.targets[0]!.expr.matchAll(/by \(([^)]*)\)/g)].map((m) => m[1]!.split(',').map((l) => l.trim()));
        assert.ok(groupings.length > 0, title);
        for (const labels of groupings) assert.ok(labels.includes('service') && labels.includes('route'), `${title}: by (${labels.join(', ')})`);
      }
    });

    test(`${r.label}: queue depth is counted once, not once per pod (each checkout and fulfillment pod reports the whole queue): max by (queue, state), never summed across pods`, () => {
      const map = r.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
      const panelExprs = (JSON.parse(String(map?.data?.['shop.json'])).panels as Array<{ targets: Array<{ expr: string }> }>).flatMap((p) => p.targets.map((t) => t.expr));
      const backlog = rulesOf(r.objects).find((rule) => rule.alert === 'FulfillmentQueueBacklog');
      const depthQueries = [...panelExprs, backlog?.expr ?? ''].filter((e) => /\bqueue_jobs\{/.test(e));
      assert.equal(depthQueries.length, 2, 'the queue panel and the backlog alert read queue_jobs');
      for (const expr of depthQueries) {
        // The innermost aggregation over queue_jobs must be a max keeping queue and state.
        assert.match(expr, /max by \(queue, state\) \(queue_jobs\{/, expr);
        assert.doesNotMatch(expr, /sum by \([^)]*\) \(queue_jobs\{/, expr);
      }
    });
  }

  test('the monitoring objects are written apart (k8s/<env>/monitoring/), so `kubectl apply -f k8s/<env>` needs no Prometheus Operator', () => {
    for (const env of ['dev', 'prod']) {
      assert.ok(committedObjects(env).some((o) => o.kind === 'PrometheusRule'), `${env} has its rules`);
      const topLevel = readdirSync(join(K8S_DIR, env)).filter((f) => f.endsWith('.yaml'));
      for (const file of topLevel) assert.doesNotMatch(readFileSync(join(K8S_DIR, env, file), 'utf8'), /monitoring\.coreos\.com/, `${env}/${file}`);
      assert.match(readFileSync(join(K8S_DIR, env, 'monitoring', '50-observability.yaml'), 'utf8'), /kind: PrometheusRule/);
    }
  });
});
