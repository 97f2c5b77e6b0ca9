import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { jobParams } from './app.js';

/**
 * Fulfillment's HTTP side, described with the schemas its routes validate with.
 * The bull-board dashboard (HTML, admin-only, at `/api/fulfillment/admin/queues`)
 * is mounted as middleware, not a router: like every non-JSON page it is not an operation.
 */
export function fulfillmentApiDoc(): ApiDoc {
  return new ApiDoc({ service: 'fulfillment', title: 'Shop fulfillment', version: '1.0.0', description: 'The shipping worker\'s admin side: jobs that failed every attempt (dead letters) and their retry. Its queue dashboard is an HTML page at `/api/fulfillment/admin/queues` (admin token).', path: '/api/fulfillment/openapi.json' })
    .add({
      method: 'get', path: '/api/fulfillment/admin/dead-letters', summary: 'Jobs that failed every attempt (up to 100)', access: 'admin',
      responses: { 200: { description: 'Failed jobs', schema: z.object({ jobs: z.array(z.object({ id: z.string(), orderId: z.string(), attempts: z.number().int(), failedReason: z.string().nullable(), finishedOn: z.number().nullable() })) }) } },
      errors: [401],
    })
    .add({ method: 'post', path: '/api/fulfillment/admin/dead-letters/:id/retry', summary: 'Retry a failed job', access: 'admin', params: jobParams, responses: { 200: { description: 'Queued again', schema: z.object({ id: z.string(), retried: z.literal(true) }) } }, errors: [401, 404] });
}
