import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Per-request context, carried through awaits so every log line has the request id. */
export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The current request id, if this code runs inside a request. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Paths never written to logs: credentials, cookies, tokens, payment data. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-token"]',
  'req.headers["x-cart-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.cartToken',
  '*.adminToken',
  '*.card',
  '*.cardNumber',
  '*.cvc',
  'config.MONGODB_URI',
  'config.REDIS_URL',
  'config.REDIS_PASSWORD',
  'config.REDIS_SENTINEL_PASSWORD',
  '*.sentinelPassword',
  'config.ADMIN_TOKEN',
];

export interface LoggerOptions {
  service: string;
  level?: string;
  destination?: DestinationStream;
}

/** The one pino logger of a process: JSON, request id mixed in, secrets redacted. */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service, pid: process.pid },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
