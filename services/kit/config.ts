import { createHash } from 'node:crypto';
import { z } from 'zod';
import { edgeConfigShape } from './protection/config.js';

/** Thrown when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const mongoUri = z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI');
const redisUrl = z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL');
const hostPortList = z
  .string()
  .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'must be host:port[,host:port...]');
const ms = (fallback: number) => z.coerce.number().int().min(0).max(600_000).default(fallback);
/** A comma-separated list, trimmed, empties dropped. */
const list = <T extends z.ZodTypeAny>(item: T, fallback: string) =>
  z.string().default(fallback).transform((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean)).pipe(z.array(item));
const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be header names separated by commas');

/**
 * Settings every service shares. Defaults are documented in the README's
 * configuration table; secrets (MONGODB_URI, REDIS_URL, ADMIN_TOKEN or
 * ADMIN_TOKEN_SHA256...) have none.
 * SHUTDOWN_* must match the manifests' preStop and grace period (charts-ts).
 */
export const baseConfigShape = {
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MONGODB_URI: mongoUri,
  REDIS_URL: redisUrl,
  /**
   * Sentinel mode (docs/redis-failover.md): the sentinels to ask for the primary. When set,
   * REDIS_URL's host is not used; its user, password, database and TLS scheme still are.
   */
  REDIS_SENTINELS: hostPortList.optional(),
  /** The primary's name as the sentinels monitor it. */
  REDIS_SENTINEL_NAME: z.string().min(1).default('shop'),
  /** Password of the sentinels (AUTH to sentinel), if they require one. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Password of the Redis servers; overrides the one in REDIS_URL. */
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** Sentinel mode: a lock counts as taken once this many replicas acknowledged it (WAIT); 0 = off. */
  REDIS_LOCK_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
  /** Time readiness stays red while the process keeps serving, so load balancers drop it. */
  SHUTDOWN_DELAY_MS: ms(5_000),
  /** Deadline for in-flight requests once the server stops accepting. */
  SHUTDOWN_TIMEOUT_MS: ms(20_000),
  REQUEST_TIMEOUT_MS: ms(10_000),
  /** Share of fast 2xx/3xx requests written to the access log (errors and slow ones always are). */
  ACCESS_LOG_SAMPLE: z.coerce.number().min(0).max(1).default(0.01),
  /** Requests slower than this are always written to the access log. */
  ACCESS_LOG_SLOW_MS: z.coerce.number().int().min(0).default(500),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb').default('256kb'),
  /** Browser origins allowed to call the API (`https://shop.example,https://m.shop.example`, or `*`); none by default. */
  CORS_ORIGINS: list(z.string().regex(/^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/, 'must be origins like https://shop.example separated by commas, or *'), ''),
  CORS_METHODS: list(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']), 'GET,HEAD,POST,PUT,PATCH,DELETE'),
  /** Request headers a storefront may send. */
  CORS_ALLOW_HEADERS: list(headerName, 'Content-Type,Authorization,X-Cart-Token,Idempotency-Key,X-Request-Id,If-None-Match'),
  /** Response headers a storefront's script may read. */
  CORS_EXPOSE_HEADERS: list(headerName, 'X-Request-Id,Retry-After,ETag,Location,X-Cache,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset,RateLimit-Policy'),
  /** How long browsers cache a preflight answer (Chromium caps it at 2 h). */
  CORS_MAX_AGE_S: z.coerce.number().int().min(0).max(86_400).default(600),
  /** Bots, rate limits, shedding, cache policy: docs/edge-protection.md. */
  ...edgeConfigShape,
} as const;

export const adminTokenSchema = z.string().min(16, 'must be at least 16 characters');

const SHA256_OF = 'sha256-of:';

/**
 * `<TOKEN>_SHA256`: the hex SHA-256 of a bearer token that a service only
 * verifies, never sends. Such a service is given the digest instead of the
 * token, so a compromised pod cannot use the token itself. loadConfig requires
 * the token or its digest, and, when both are set, that they agree.
 */
export function tokenSha256Schema(tokenName: string) {
  return z.string().regex(/^[0-9a-f]{64}$/, `must be the SHA-256 of ${tokenName} as 64 lowercase hex digits`).optional().describe(`${SHA256_OF}${tokenName}`);
}

/**
 * The admin credential of a service with admin routes: ADMIN_TOKEN_SHA256 (the
 * manifests; no service sends the admin token, so no pod needs it) or
 * ADMIN_TOKEN (local runs, tests, back-compat). One of them is required.
 */
export const adminCredentialShape = {
  ADMIN_TOKEN: adminTokenSchema.optional(),
  ADMIN_TOKEN_SHA256: tokenSha256Schema('ADMIN_TOKEN'),
} as const;

/** Hex SHA-256 of a token, as `<TOKEN>_SHA256` expects it (`printf %s "$TOKEN" | sha256sum`). */
export const sha256Hex = (token: string) => createHash('sha256').update(token).digest('hex');

/** Problems of the token/digest pairs in `shape` (see tokenSha256Schema): neither given, or both given and different. */
function tokenPairProblems(shape: z.ZodRawShape, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(shape)) {
    const tokenName = schema.description?.startsWith(SHA256_OF) ? schema.description.slice(SHA256_OF.length) : undefined;
    if (!tokenName || !(tokenName in shape)) continue;
    const token = env[tokenName];
    const digest = env[name];
    if (token === undefined && digest === undefined) problems.push(`${tokenName} or ${name} is required`);
    else if (token !== undefined && digest !== undefined && sha256Hex(token) !== digest.toLowerCase()) problems.push(`${name} is not the SHA-256 of ${tokenName}`);
  }
  return problems;
}

/**
 * Parses `env` with the given zod shape and returns a frozen, typed object.
 * Throws ConfigError whose message names every offending variable on one line.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<z.ZodObject<S>>> {
  const result = z.object(shape).safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const message = issue.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue.message;
    return `${name} ${message}`;
  });
  problems.push(...tokenPairProblems(shape, env));
  if (!result.success || problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return Object.freeze(result.data);
}

/** Like loadConfig, but prints the one-line reason and exits 1: for main.ts only. */
export function loadConfigOrExit<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env) {
  try {
    return loadConfig(shape, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
