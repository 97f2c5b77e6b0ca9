import type Koa from 'koa';
import type Router from '@koa/router';
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z, type AnyZodObject, type ZodTypeAny } from 'zod';

/**
 * OpenAPI 3.1 documents generated from the same zod schemas that validate
 * requests (issue 15): each service describes its operations with an `ApiDoc`,
 * serves it at `/api/<service>/openapi.json`, and a test checks that routes and
 * documented operations are the same set (`routerOperations`).
 */

// The generator reads (and writes) OpenAPI metadata through zod's prototype; this is
// the library's documented set-up, done once for the one zod instance of the image.
extendZodWithOpenApi(z);

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call an operation; maps to a security scheme. */
export type Access = 'public' | 'admin' | 'internal' | 'cart' | 'customer' | 'shopper';

export interface ResponseSpec {
  description: string;
  /** JSON body; omitted for empty answers (204, 304). */
  schema?: ZodTypeAny;
  contentType?: string;
}

export interface OperationSpec {
  method: HttpMethod;
  /** Koa-style path with the router prefix: `/api/catalog/products/:id`. */
  path: string;
  summary: string;
  description?: string;
  access?: Access;
  params?: AnyZodObject;
  query?: AnyZodObject;
  headers?: AnyZodObject;
  body?: ZodTypeAny;
  responses: Record<number, ResponseSpec>;
  /** Error statuses answered with a problem+json body besides the shared ones every operation gets (`SHARED_ERRORS`). */
  errors?: number[];
}

/** The problem+json body every error answer carries (services/kit/errors.ts). */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  code: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
}).passthrough();

const ERROR_TITLES: Record<number, string> = {
  400: 'Bad input: `errors` names each field',
  401: 'Missing or invalid credentials',
  402: 'Payment declined',
  403: 'Forbidden: a bad bot, a crawler off its browse routes, a client blocked for its behaviour (edge protection), or a credential without this right',
  404: 'Not found (or not yours)',
  405: 'Method not allowed (see `Allow`)',
  409: 'Conflict with the current state',
  413: 'Body larger than the service accepts (`BODY_LIMIT`)',
  422: 'Well-formed but refused by a business rule or limit',
  429: 'Rate limited by edge protection: retry after `Retry-After` seconds (`RateLimit-*` describe the limit)',
  500: 'Unexpected error (logged with the request id)',
  502: 'A dependency answered badly',
  503: 'Overloaded (shed by edge protection), timed out, or a dependency is down: retry after `Retry-After` seconds',
};

/**
 * Error answers the kit's own middleware can give on any route (services/kit/app.ts),
 * documented on every operation: 400 (bad JSON, operator-like input), 403 (edge
 * protection: bad bots, behaviour blocks), 429 (its rate limits), 500, and 503 (its
 * load shedding, the request timeout, a dependency down). 413 comes from the JSON body
 * parser, which runs for every method but GET, HEAD and OPTIONS (kit `jsonBody`).
 */
export const SHARED_ERRORS: readonly number[] = [400, 403, 429, 500, 503];
export const BODY_ERRORS: readonly number[] = [413];
const BODY_METHODS: readonly HttpMethod[] = ['post', 'put', 'patch', 'delete'];

const integerHeader = (description: string) => ({ description, schema: { type: 'integer' as const, minimum: 0 } });
/** Headers of the error answers that tell a client when to come back (services/kit/protection/rate-limit.ts, edge.ts, middleware.ts). */
const ERROR_HEADERS: Record<number, Record<string, ReturnType<typeof integerHeader>>> = {
  429: {
    'Retry-After': integerHeader('Seconds until the limit lets this client through again'),
    'RateLimit-Limit': integerHeader('Requests allowed in the window'),
    'RateLimit-Remaining': integerHeader('Requests left in the window'),
    'RateLimit-Reset': integerHeader('Seconds until the window resets'),
  },
  503: { 'Retry-After': integerHeader('Seconds to wait before retrying') },
};

const SECURITY: Record<Exclude<Access, 'public'>, Array<Record<string, string[]>>> = {
  admin: [{ adminToken: [] }],
  internal: [{ internalToken: [] }],
  cart: [{ cartToken: [] }],
  customer: [{ customerToken: [] }],
  shopper: [{ cartToken: [] }, { customerToken: [] }],
};

/** `/a/:id/b` -> `/a/{id}/b` */
export const toOpenApiPath = (koaPath: string) => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** One service's API description. */
export class ApiDoc {
  private readonly registry = new OpenAPIRegistry();
  private readonly ops: Array<{ method: HttpMethod; path: string }> = [];

  /** `info.path` is where the service serves this document (`/api/<service>/openapi.json`); that route is documented too. */
  constructor(readonly info: { service: string; title: string; version: string; description?: string; path: string }) {
    this.registry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' });
    this.registry.registerComponent('securitySchemes', 'internalToken', { type: 'http', scheme: 'bearer', description: 'INTERNAL_TOKEN (service to service)' });
    this.registry.registerComponent('securitySchemes', 'customerToken', { type: 'http', scheme: 'bearer', description: 'customer token from POST /api/customers/sessions' });
    this.registry.registerComponent('securitySchemes', 'cartToken', { type: 'apiKey', in: 'header', name: 'X-Cart-Token', description: 'guest cart token from POST /api/cart/carts' });
    this.add({ method: 'get', path: info.path, summary: 'This OpenAPI 3.1 document', responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.object({ openapi: z.string() }).passthrough() } } });
  }

  /** Describes one operation. */
  add(op: OperationSpec): this {
    this.ops.push({ method: op.method, path: op.path });
    const responses: RouteConfig['responses'] = {};
    for (const [status, spec] of Object.entries(op.responses)) {
      responses[status] = spec.schema ? { description: spec.description, content: { [spec.contentType ?? 'application/json']: { schema: spec.schema } } } : { description: spec.description };
    }
    const shared = [...SHARED_ERRORS, ...(BODY_METHODS.includes(op.method) ? BODY_ERRORS : [])];
    for (const status of [...new Set([...shared, ...(op.errors ?? [])])].sort((a, b) => a - b)) {
      responses[String(status)] = {
        description: ERROR_TITLES[status] ?? 'Error',
        ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
        content: { 'application/problem+json': { schema: problemSchema } },
      };
    }
    this.registry.registerPath({
      method: op.method,
      path: toOpenApiPath(op.path),
      summary: op.summary,
      description: op.description,
      tags: [this.info.service],
      operationId: `${this.info.service}.${op.method}${op.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      security: op.access && op.access !== 'public' ? SECURITY[op.access] : [],
      request: {
        params: op.params,
        query: op.query,
        headers: op.headers,
        body: op.body ? { required: true, content: { 'application/json': { schema: op.body } } } : undefined,
      },
      responses,
    });
    return this;
  }

  /** Koa-style (method, path) pairs of every documented operation. */
  operations(): Array<{ method: HttpMethod; path: string }> {
    return [...this.ops];
  }

  /** The OpenAPI 3.1 document. */
  document(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title: this.info.title, version: this.info.version, description: this.info.description },
    });
  }

  /** Adds `GET <info.path>` to the router (whose prefix it must start with), serving the document computed once. */
  serve(router: Router): void {
    const path = this.info.path;
    let json: string | undefined;
    const prefix = (router as unknown as { opts: { prefix?: string } }).opts.prefix ?? '';
    router.get(path.slice(prefix.length), (ctx) => {
      json ??= JSON.stringify(this.document());
      ctx.set('cache-control', 'public, max-age=300');
      ctx.type = 'application/json';
      ctx.body = json;
    });
  }
}

/** One document of several services: paths and components merged, tags kept per service. */
export function mergeApiDocs(docs: ApiDoc[], info: { title: string; version: string; description?: string }) {
  const merged = { openapi: '3.1.0', info, paths: {} as Record<string, Record<string, unknown>>, components: { schemas: {} as Record<string, unknown>, securitySchemes: {} as Record<string, unknown> }, tags: [] as Array<{ name: string }> };
  for (const doc of docs) {
    const one = doc.document();
    for (const [path, item] of Object.entries(one.paths ?? {})) merged.paths[path] = { ...merged.paths[path], ...(item as Record<string, unknown>) };
    Object.assign(merged.components.schemas, one.components?.schemas ?? {});
    Object.assign(merged.components.securitySchemes, one.components?.securitySchemes ?? {});
    merged.tags.push({ name: doc.info.service });
  }
  return merged;
}

interface RouterLayer {
  path: string;
  methods: string[];
}

/**
 * Every (method, path) a Koa app's @koa/router routers answer, found by walking
 * the app's middleware: what the documents are checked against.
 */
export function routerOperations(app: Koa): Array<{ method: HttpMethod; path: string }> {
  const found: Array<{ method: HttpMethod; path: string }> = [];
  for (const mw of app.middleware as Array<{ router?: { stack: RouterLayer[] } }>) {
    for (const layer of mw.router?.stack ?? []) {
      for (const method of layer.methods) {
        const m = method.toLowerCase();
        if (m === 'head' || !['get', 'post', 'put', 'patch', 'delete'].includes(m)) continue;
        found.push({ method: m as HttpMethod, path: layer.path });
      }
    }
  }
  return found;
}
