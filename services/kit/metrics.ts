import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  httpInFlight: client.Gauge;
  /** Counters and gauges that other kit parts (cache, breaker, queues) register here. */
  counter(name: string, help: string, labelNames?: string[]): client.Counter<string>;
  gauge(name: string, help: string, labelNames?: string[]): client.Gauge<string>;
}

/**
 * One registry per app (not the global one), so several apps can live in one
 * test process. Default metrics include event-loop delay percentiles.
 */
export function createMetrics(service: string): Metrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const httpDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpInFlight = new client.Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served',
    registers: [registry],
  });
  // One metric per name, whoever asks for it first creates it (prom-client refuses duplicates).
  const made = new Map<string, client.Counter<string> | client.Gauge<string>>();
  function once<M extends client.Counter<string> | client.Gauge<string>>(name: string, make: () => M): M {
    let metric = made.get(name);
    if (!metric) {
      metric = make();
      made.set(name, metric);
    }
    return metric as M;
  }
  return {
    registry,
    httpDuration,
    httpInFlight,
    counter: (name, help, labelNames = []) => once(name, () => new client.Counter({ name, help, labelNames, registers: [registry] })),
    gauge: (name, help, labelNames = []) => once(name, () => new client.Gauge({ name, help, labelNames, registers: [registry] })),
  };
}
