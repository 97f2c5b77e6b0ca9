import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { checkoutBody, listQuery, orderParams, paymentSimulatorBody, STATUSES, statusBody } from './routes.js';

const money = z.object({ amount: z.number().int(), currency: z.string() });
const orderSchema = z.object({
  id: z.string(), status: z.enum(STATUSES), reason: z.string().nullable(), email: z.string(), customerId: z.string().nullable(),
  shippingAddress: checkoutBody.shape.shippingAddress,
  lines: z.array(z.object({ productId: z.string(), sku: z.string(), name: z.string(), unitPrice: money, quantity: z.number().int(), lineTotal: money })),
  total: money, createdAt: z.string(), updatedAt: z.string(),
});
const order = { description: 'The order', schema: z.object({ order: orderSchema }) };
// Orders are read with a customer token, the guest cart token that placed the order, or the admin token.
const readerHeader = z.object({ 'x-cart-token': z.string().optional() });

/** Checkout's operations, described with the schemas its routes validate with (docs/checkout.md has the flow and its recovery). */
export function checkoutApiDoc(): ApiDoc {
  return new ApiDoc({ service: 'checkout', title: 'Shop checkout', version: '1.0.0', description: 'Places orders from the shopper\'s cart (idempotent: `Idempotency-Key` is required), takes the payment, and tracks each order until it ships.', path: '/api/checkout/openapi.json' })
    .add({
      method: 'post', path: '/api/checkout', summary: 'Place an order from the shopper\'s cart and pay for it',
      description: 'A retry with the same `Idempotency-Key` (and credentials) answers the first outcome; a different body with the same key is a 422. 202 means the provider\'s answer is unknown: the order is pending and recovery settles it.',
      access: 'shopper', headers: z.object({ 'idempotency-key': z.string(), 'x-cart-token': z.string().optional() }), body: checkoutBody,
      responses: { 201: { description: 'Paid (Location: /api/orders/{id})', schema: z.object({ order: orderSchema }) }, 202: { description: 'Accepted, payment pending', schema: z.object({ order: orderSchema }) } },
      errors: [401, 402, 404, 409, 422, 502, 503],
    })
    .add({ method: 'get', path: '/api/orders', summary: 'Orders, newest first: the customer\'s own, or (admin) any, filtered', access: 'customer', query: listQuery, responses: { 200: { description: 'A page of orders', schema: z.object({ orders: z.array(orderSchema), nextCursor: z.string().nullable() }) } }, errors: [401] })
    .add({ method: 'get', path: '/api/orders/:id', summary: 'One order (someone else\'s answers 404, like a missing one)', access: 'shopper', headers: readerHeader, params: orderParams, responses: { 200: order }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/orders/:id/cancel', summary: 'Cancel an order (refunds a payment, releases holds)', access: 'admin', params: orderParams, responses: { 200: order }, errors: [401, 404, 409] })
    .add({ method: 'post', path: '/api/orders/:id/fulfillment', summary: 'Fulfillment reports progress (fulfilling, shipped)', access: 'internal', params: orderParams, body: statusBody, responses: { 200: order }, errors: [401, 404, 409] })
    .add({ method: 'put', path: '/api/checkout/admin/payment-simulator', summary: 'Switch the simulated payment provider\'s outage on or off (every replica)', access: 'admin', body: paymentSimulatorBody, responses: { 200: { description: 'The switch as set', schema: paymentSimulatorBody } }, errors: [401] })
    .add({ method: 'post', path: '/api/checkout/admin/recovery', summary: 'Run the recovery of stuck orders now', access: 'admin', responses: { 200: { description: 'How many orders were settled', schema: z.object({ recovered: z.number().int() }) } }, errors: [401] });
}
