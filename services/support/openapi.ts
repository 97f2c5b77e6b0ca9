import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { faqIdSchema, faqInputSchema, faqQuerySchema } from './domain/faq.js';
import { adminListSchema, messageInputSchema, statusInputSchema, ticketIdSchema, ticketInputSchema } from './domain/tickets.js';

const faqSchema = z.object({ id: z.string(), question: z.string(), answer: z.string(), tags: z.array(z.string()), order: z.number().int(), updatedAt: z.string() });
const ticketSchema = z.object({
  id: z.string(), email: z.string().nullable(), subject: z.string(), orderId: z.string().nullable(), status: z.enum(['open', 'pending', 'solved', 'closed']),
  messages: z.array(z.object({ id: z.string(), from: z.string(), body: z.string(), at: z.string() })), createdAt: z.string(), updatedAt: z.string(),
});
const ticket = { description: 'The ticket with its messages', schema: ticketSchema };
const tickets = { description: 'Tickets, newest first', schema: z.object({ items: z.array(ticketSchema) }) };
// A guest proves who it is with its cart token; `shopper` access means either credential.
const guestHeader = z.object({ 'x-cart-token': z.string().optional() });

/** Support's operations, described with the schemas its routes validate with: a cached public FAQ and shopper tickets with admin replies. */
export function supportApiDoc(): ApiDoc {
  return new ApiDoc({ service: 'support', title: 'Shop support', version: '1.0.0', description: 'FAQ (cached, ETag, stale-if-error) and support tickets of customers or guests; replies are mailed through an outbox.', path: '/api/support/openapi.json' })
    .add({ method: 'get', path: '/api/support/faq', summary: 'FAQ entries, optionally searched (`q`) or filtered by tag', query: faqQuerySchema, responses: { 200: { description: 'Entries (ETag; 304 when unchanged)', schema: z.object({ items: z.array(faqSchema) }) }, 304: { description: 'Not modified' } }, errors: [503] })
    .add({ method: 'get', path: '/api/support/faq/:id', summary: 'One FAQ entry', params: faqIdSchema, responses: { 200: { description: 'The entry (ETag; 304 when unchanged)', schema: faqSchema }, 304: { description: 'Not modified' } }, errors: [404, 503] })
    .add({ method: 'post', path: '/api/support/faq', summary: 'Add an FAQ entry (invalidates every replica\'s cache)', access: 'admin', body: faqInputSchema, responses: { 201: { description: 'Created', schema: faqSchema } }, errors: [401] })
    .add({ method: 'put', path: '/api/support/faq/:id', summary: 'Replace an FAQ entry', access: 'admin', params: faqIdSchema, body: faqInputSchema, responses: { 200: { description: 'Replaced', schema: faqSchema } }, errors: [401, 404] })
    .add({ method: 'delete', path: '/api/support/faq/:id', summary: 'Delete an FAQ entry', access: 'admin', params: faqIdSchema, responses: { 204: { description: 'Deleted' } }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/support/tickets', summary: 'Open a ticket (guests give an email; `orderId` must be one of the shopper\'s orders)', access: 'shopper', headers: guestHeader, body: ticketInputSchema, responses: { 201: ticket }, errors: [401, 422, 429, 502] })
    .add({ method: 'get', path: '/api/support/tickets', summary: 'The shopper\'s tickets', access: 'shopper', headers: guestHeader, responses: { 200: tickets }, errors: [401] })
    .add({ method: 'get', path: '/api/support/tickets/:id', summary: 'One of the shopper\'s tickets', access: 'shopper', headers: guestHeader, params: ticketIdSchema, responses: { 200: ticket }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/support/tickets/:id/messages', summary: 'Add a message to one of the shopper\'s tickets', access: 'shopper', headers: guestHeader, params: ticketIdSchema, body: messageInputSchema, responses: { 201: ticket }, errors: [401, 404, 409] })
    .add({ method: 'get', path: '/api/support/admin/tickets', summary: 'Tickets, filtered', access: 'admin', query: adminListSchema, responses: { 200: tickets }, errors: [401] })
    .add({ method: 'get', path: '/api/support/admin/tickets/:id', summary: 'Any ticket', access: 'admin', params: ticketIdSchema, responses: { 200: ticket }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/support/admin/tickets/:id/replies', summary: 'Reply to a ticket (mailed to the shopper)', access: 'admin', params: ticketIdSchema, body: messageInputSchema, responses: { 201: ticket }, errors: [401, 404, 409] })
    .add({ method: 'patch', path: '/api/support/admin/tickets/:id', summary: 'Set a ticket\'s status', access: 'admin', params: ticketIdSchema, body: statusInputSchema, responses: { 200: ticket }, errors: [401, 404, 409] });
}
