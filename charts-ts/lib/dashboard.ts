/**
 * The Grafana dashboard of the shop, as data (schemaVersion 39): one row of
 * golden signals per service and route, then the sale-day specifics (cache,
 * holds, checkouts, queue). A `service` variable filters every panel.
 */

interface Target {
  expr: string;
  legendFormat: string;
}

let nextId = 1;

function panel(title: string, unit: string, targets: Target[], x: number, y: number, w = 12, h = 8) {
  return {
    id: nextId++,
    type: 'timeseries',
    title,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { x, y, w, h },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] } },
    targets: targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i) })),
  };
}

const sel = 'service=~"$service"';

/** Panels in reading order: is it up, is it fast, is it busy, then the business. */
export function shopDashboard(services: readonly string[]) {
  nextId = 1;
  const panels = [
    panel('Request rate by service and route', 'reqps', [{ expr: `sum by (service, route) (rate(http_request_duration_seconds_count{${sel}}[5m]))`, legendFormat: '{{service}} {{route}}' }], 0, 0),
    panel('Error rate (5xx share) by service and route', 'percentunit', [{ expr: `sum by (service, route) (rate(http_request_duration_seconds_count{${sel},status=~"5.."}[5m])) / sum by (service, route) (rate(http_request_duration_seconds_count{${sel}}[5m]))`, legendFormat: '{{service}} {{route}}' }], 12, 0),
    panel('p99 latency by service and route', 's', [{ expr: `histogram_quantile(0.99, sum by (service, route, le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`, legendFormat: '{{service}} {{route}}' }], 0, 8),
    panel('4xx by service and status (bots, limits, bad input)', 'reqps', [{ expr: `sum by (service, status) (rate(http_request_duration_seconds_count{${sel},status=~"4.."}[5m]))`, legendFormat: '{{service}} {{status}}' }], 12, 8),
    panel('In-flight requests', 'short', [{ expr: `sum by (service) (http_requests_in_flight{${sel}})`, legendFormat: '{{service}}' }], 0, 16, 8),
    panel('Event-loop delay p99', 's', [{ expr: `max by (service) (nodejs_eventloop_lag_p99_seconds{${sel}})`, legendFormat: '{{service}}' }], 8, 16, 8),
    panel('Cache hit ratio', 'percentunit', [{ expr: `sum by (service) (rate(cache_requests_total{${sel},result=~"hit|shared"}[5m])) / sum by (service) (rate(cache_requests_total{${sel}}[5m]))`, legendFormat: '{{service}}' }], 16, 16, 8),
    panel('Holds on limited stock by outcome', 'ops', [{ expr: 'sum by (outcome) (rate(inventory_holds_total[5m]))', legendFormat: '{{outcome}}' }], 0, 24, 8),
    panel('Checkouts by outcome', 'reqps', [{ expr: 'sum by (outcome) (rate(checkout_orders_total[5m]))', legendFormat: '{{outcome}}' }], 8, 24, 8),
    panel('Fulfillment queue depth and failures', 'short', [
      // Every pod with the queue (checkout, fulfillment) reports the whole queue's counts: max, not sum.
      { expr: 'max by (queue, state) (queue_jobs{state=~"waiting|active|delayed|failed"})', legendFormat: '{{queue}} {{state}}' },
      // Outcomes are counted by the worker that ran the job, once: sum.
      { expr: 'sum by (queue) (rate(queue_job_outcomes_total{outcome="failed"}[5m]))', legendFormat: '{{queue}} failed/s' },
    ], 16, 24, 8),
    panel('Edge protection decisions', 'reqps', [{ expr: `sum by (decision) (rate(edge_requests_total{${sel}}[5m]))`, legendFormat: '{{decision}}' }], 0, 32, 12),
    panel('Pod restarts (15m)', 'short', [{ expr: 'sum by (pod) (increase(kube_pod_container_status_restarts_total[15m]))', legendFormat: '{{pod}}' }], 12, 32, 12),
  ];
  return {
    title: 'Shop: sale day',
    uid: 'shop-sale-day',
    tags: ['shop'],
    schemaVersion: 39,
    time: { from: 'now-3h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
        { name: 'service', type: 'custom', label: 'Service', multi: true, includeAll: true, query: services.join(','), current: { text: 'All', value: '$__all' } },
      ],
    },
    panels,
  };
}
