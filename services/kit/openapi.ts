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
  /** Error statuses answered with a problem+json body (400 and 500 are added to every operation). */
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
  403: 'Forbidden (bad bot, or route not allowed for this client)',
  404: 'Not found (or not yours)',
  405: 'Method not allowed (see `Allow`)',
  409: 'Conflict with the current state',
  413: 'Body too large',
  422: 'Well-formed but refused by a business rule or limit',
  429: 'Rate limited (see `Retry-After`)',
  500: 'Unexpected error (logged with the request id)',
  502: 'A dependency answered badly',
  503: 'Temporarily unavailable or overloaded (see `Retry-After`)',
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
    for (const status of new Set([400, ...(op.errors ?? []), 500])) {
      responses[String(status)] = { description: ERROR_TITLES[status] ?? 'Error', content: { 'application/problem+json': { schema: problemSchema } } };
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
