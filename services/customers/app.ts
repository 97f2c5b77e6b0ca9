import type Koa from 'koa';
import type { Connection } from 'mongoose';
import { createKoaApp, customerTokenKey, pingMongo, pingRedis, systemClock, type Clock, type Health, type Logger, type Metrics, type Redis } from '../kit/index.js';
import { createCustomersClients, type CustomersClients } from './clients.js';
import type { CustomersConfig } from './config.js';
import type { CustomersModels } from './models.js';
import { createPasswordHasher, type PasswordHasher } from './domain/passwords.js';
import { createSignInLimiter } from './domain/limiter.js';
import { createCustomersRouter } from './routes.js';
import { customersApiDoc } from './openapi.js';

export interface CustomersAppDeps {
  config: CustomersConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  models: CustomersModels;
  /** Failure counters and the token deny-list, shared by every replica. */
  redis: Redis;
  /** Redis key prefix of the failure counters; tests use one per file. */
  limiterPrefix?: string;
  clock?: Clock;
  /** Defaults to HTTP clients for CART_URL and CHECKOUT_URL. */
  clients?: CustomersClients;
  /** Defaults to scrypt with CUSTOMERS_SCRYPT_LOG_N. */
  passwords?: PasswordHasher;
}

export interface CustomersApp {
  app: Koa;
  clients: CustomersClients;
}

/** Builds the customers app and its clients from dependencies; nothing listens or connects here. */
export function createCustomersApp(input: CustomersAppDeps): CustomersApp {
  const { config, logger, metrics, health, redis } = input;
  const clients = input.clients ?? createCustomersClients({ cartUrl: config.CART_URL, checkoutUrl: config.CHECKOUT_URL, timeoutMs: config.CUSTOMERS_CALL_TIMEOUT_MS, logger, metrics });
  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS }, cors: config, edge: { config, redis } });
  const passwords = input.passwords ?? createPasswordHasher(config.CUSTOMERS_SCRYPT_LOG_N);
  // Hash the dummy now, so the first unknown-email sign-in is not the one that pays for it.
  void passwords.dummyHash;
  const router = createCustomersRouter({
    models: input.models,
    passwords,
    limiter: createSignInLimiter(redis, config, input.limiterPrefix),
    redis,
    clock: input.clock ?? systemClock,
    customerKey: customerTokenKey(config.CUSTOMER_TOKEN_SECRET),
    tokenTtlS: config.CUSTOMER_TOKEN_TTL_S,
    clients,
  });
  customersApiDoc().serve(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { app, clients };
}

/** Accounts live in MongoDB, counters and revocations in Redis: both are needed to sign in. */
export function addCustomersChecks(health: Health, connection: Connection, redis: Redis): void {
  health.addCheck('mongo', () => pingMongo(connection));
  health.addCheck('redis', () => pingRedis(redis));
}
