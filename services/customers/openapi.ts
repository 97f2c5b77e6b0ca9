import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { ordersQuery, signInBody, signUpBody } from './routes.js';

const customerSchema = z.object({ id: z.string(), email: z.string(), name: z.string().nullable(), createdAt: z.string() }).passthrough();
const issuedSchema = z.object({ token: z.string(), expiresAt: z.string() });

/** The customers service's operations, described with the schemas its routes validate with. Every answer is `no-store`. */
export function customersApiDoc(): ApiDoc {
  return new ApiDoc({ service: 'customers', title: 'Shop customers', version: '1.0.0', description: 'Accounts and sessions (signed bearer tokens, revocable); sign-in failures are limited per email and client.', path: '/api/customers/openapi.json' })
    .add({ method: 'post', path: '/api/customers', summary: 'Sign up', body: signUpBody, responses: { 201: { description: 'The new customer (Location: /api/customers/me)', schema: customerSchema } }, errors: [409] })
    .add({ method: 'post', path: '/api/customers/sessions', summary: 'Sign in; with `X-Cart-Token`, the guest cart is merged into the customer\'s (a failed merge does not fail the sign-in)', headers: z.object({ 'x-cart-token': z.string().optional() }), body: signInBody, responses: { 201: { description: 'A customer token, and the outcome of the cart merge when one was asked for', schema: issuedSchema.extend({ customer: customerSchema, cartMerge: z.enum(['merged', 'not_found', 'failed']).optional(), cart: z.object({}).passthrough().optional() }) } }, errors: [401, 429] })
    .add({ method: 'post', path: '/api/customers/sessions/refresh', summary: 'A fresh token for the current session', access: 'customer', responses: { 201: { description: 'A new token', schema: issuedSchema } }, errors: [401] })
    .add({ method: 'delete', path: '/api/customers/sessions/current', summary: 'Sign out (the token is revoked until it expires)', access: 'customer', responses: { 204: { description: 'Signed out' } }, errors: [401] })
    .add({ method: 'get', path: '/api/customers/me', summary: 'The signed-in customer', access: 'customer', responses: { 200: { description: 'The customer', schema: customerSchema } }, errors: [401, 404] })
    .add({ method: 'get', path: '/api/customers/me/orders', summary: 'The signed-in customer\'s orders, newest first (from checkout)', access: 'customer', query: ordersQuery, responses: { 200: { description: 'A page of orders', schema: z.object({ orders: z.array(z.object({}).passthrough()), nextCursor: z.string().nullable().optional() }).passthrough() } }, errors: [401, 502, 503] });
}
