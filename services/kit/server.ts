import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from './log.js';
import type { Health } from './health.js';
import { sleep, withTimeout } from './timeout.js';

export interface Closer {
  name: string;
  close: () => Promise<unknown>;
}

export interface ServeOptions {
  app: Koa;
  logger: Logger;
  health: Health;
  host: string;
  port: number;
  /** Readiness is red but requests are still served for this long (endpoint removal). */
  shutdownDelayMs: number;
  /** In-flight requests get this long to finish once the listener is closed. */
  shutdownTimeoutMs: number;
  /** Closed in order after HTTP has drained: queues, then Redis, then Mongo. */
  closers?: Closer[];
  /** Defaults to process.exit; tests pass their own. */
  exit?: (code: number) => void;
}

export interface RunningServer {
  server: http.Server;
  port: number;
  /** Runs the whole drain sequence; resolves with the exit code it chose. */
  shutdown: (reason: string) => Promise<number>;
}

/**
 * Listens and wires SIGTERM/SIGINT to a graceful drain:
 * readiness red -> keep serving `shutdownDelayMs` -> stop accepting -> wait for
 * in-flight up to `shutdownTimeoutMs` -> close dependencies -> exit 0.
 * A forced-exit timer (unref'd) guarantees the process ends.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { app, logger, health } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const server = http.createServer(app.callback());
  // Keep-alive longer than typical balancer idle timeouts, so the balancer closes first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, 'listening');

  let shuttingDown: Promise<number> | undefined;
  const shutdown = (reason: string) => {
    shuttingDown ??= drain(reason);
    return shuttingDown;
  };

  async function drain(reason: string): Promise<number> {
    const hardDeadline = options.shutdownDelayMs + options.shutdownTimeoutMs + 5_000;
    const force = setTimeout(() => {
      logger.error({ hardDeadline }, 'shutdown overran its deadline, forcing exit');
      exit(1);
    }, hardDeadline);
    force.unref();
    logger.info({ reason, delayMs: options.shutdownDelayMs, timeoutMs: options.shutdownTimeoutMs }, 'draining');
    health.startDraining();
    await sleep(options.shutdownDelayMs);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let code = 0;
    try {
      await withTimeout(closed, options.shutdownTimeoutMs, 'http drain');
    } catch (error) {
      logger.warn({ err: error }, 'in-flight requests did not finish in time; closing connections');
      server.closeAllConnections();
      code = 1;
    }
    for (const closer of options.closers ?? []) {
      try {
        await withTimeout(closer.close(), 5_000, `closing ${closer.name}`);
      } catch (error) {
        logger.warn({ err: error, closer: closer.name }, 'close failed');
      }
    }
    health.close();
    clearTimeout(force);
    logger.info({ code }, 'stopped');
    return code;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    void shutdown(signal).then(exit);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  server.on('close', () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
  return { server, port, shutdown };
}

/** The settings `serve` reads from a service's config (kit/config.ts's base shape). */
export interface ServeConfig {
  HOST: string;
  PORT: number;
  SHUTDOWN_DELAY_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
}

/** `serve` with listen address and drain timings taken from the service's config: what every main.ts does. */
export function serveWithConfig(config: ServeConfig, options: Pick<ServeOptions, 'app' | 'logger' | 'health' | 'closers'>): Promise<RunningServer> {
  return serve({
    ...options,
    host: config.HOST,
    port: config.PORT,
    shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}
