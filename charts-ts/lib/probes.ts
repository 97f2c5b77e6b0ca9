/**
 * Probes on the kit's endpoints (services/kit health), each with its own purpose:
 * - startup `/healthz`: the process booted; holds liveness off for up to 60 s of slow start.
 * - readiness `/readyz`: Mongo/Redis reachable and not draining; fails fast (2 x 5 s) so a
 *   pod that lost its database or is shutting down leaves the Endpoints quickly.
 * - liveness `/healthz`: the event loop still turns; tolerant (3 x 10 s) and dependency-free,
 *   so a database blip makes pods unready but never restarts the whole fleet at once.
 */
import { Duration } from 'cdk8s';
import { Probe } from 'cdk8s-plus-27';
import { CONTAINER_PORT } from '../services.js';

/** Startup, readiness and liveness probes of an HTTP-speaking shop container. */
export function httpProbes(port: number = CONTAINER_PORT): { startup: Probe; readiness: Probe; liveness: Probe } {
  return {
    startup: Probe.fromHttpGet('/healthz', {
      port,
      periodSeconds: Duration.seconds(2),
      timeoutSeconds: Duration.seconds(1),
      failureThreshold: 30,
    }),
    readiness: Probe.fromHttpGet('/readyz', {
      port,
      periodSeconds: Duration.seconds(5),
      timeoutSeconds: Duration.seconds(2),
      failureThreshold: 2,
      successThreshold: 1,
    }),
    liveness: Probe.fromHttpGet('/healthz', {
      port,
      periodSeconds: Duration.seconds(10),
      timeoutSeconds: Duration.seconds(3),
      failureThreshold: 3,
    }),
  };
}
