import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, conflict, notFound, updateByIdIf, type Clock, type WithLock } from '../../kit/index.js';
import type { OutboxDoc, SupportModels, TicketDoc, TicketMessage, TicketStatus } from '../models.js';

const email = z.string().trim().toLowerCase().max(254).email('must be an email address');
const orderId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an order id');
export const ticketInputSchema = z.object({
  email: email.optional(),
  subject: z.string().trim().min(3).max(200),
  message: z.string().trim().min(1).max(5_000),
  orderId: orderId.optional(),
}).strict();
export type TicketInput = z.infer<typeof ticketInputSchema>;
export const messageInputSchema = z.object({ message: z.string().trim().min(1).max(5_000) }).strict();
export const statusInputSchema = z.object({ status: z.enum(['open', 'pending', 'solved', 'closed']) }).strict();
export const ticketIdSchema = z.object({ id: z.string().regex(/^t_[A-Za-z0-9_-]{16}$/, 'must be a ticket id') }).strict();
export const adminListSchema = z.object({
  status: z.enum(['open', 'pending', 'solved', 'closed']).optional(),
  email: email.optional(),
  orderId: orderId.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
}).strict();

/**
 * The ticket lifecycle: open -> pending (support answered, waiting for the
 * shopper) -> solved -> closed. A shopper's reply re-opens a pending or solved
 * ticket; closed is final. Anything else is a 409.
 */
const TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  open: ['pending', 'solved'],
  pending: ['open', 'solved'],
  solved: ['open', 'closed'],
  closed: [],
};

export interface TicketDeps {
  models: SupportModels;
  clock: Clock;
  /** Per-ticket lock: FerretDB does not make a guarded update atomic (kit/lock.ts). */
  lock: WithLock;
}

export interface TicketView {
  id: string;
  email: string | null;
  subject: string;
  orderId: string | null;
  status: TicketStatus;
  messages: { id: string; from: string; body: string; at: string }[];
  createdAt: string;
  updatedAt: string;
}

export const toTicketView = (doc: TicketDoc): TicketView => ({
  id: doc._id, email: doc.email, subject: doc.subject, orderId: doc.orderId, status: doc.status,
  messages: doc.messages.map((m) => ({ id: m.id, from: m.from, body: m.body, at: new Date(m.at).toISOString() })),
  createdAt: doc.createdAt.toISOString(), updatedAt: doc.updatedAt.toISOString(),
});

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

function outboxFor(deps: TicketDeps, ticket: Pick<TicketDoc, '_id' | 'email' | 'ownerKey' | 'subject'>, message: TicketMessage, kind: OutboxDoc['kind']): OutboxDoc {
  return { _id: newId('m'), ticketId: ticket._id, messageId: message.id, kind, to: ticket.email ?? ticket.ownerKey, subject: ticket.subject, state: 'pending', createdAt: new Date(deps.clock.now()) };
}

/**
 * Opens a ticket. The notification goes to the outbox first, then the ticket is
 * written; only then is the shopper answered. A crash in between leaves an
 * outbox entry for a ticket that never existed, which the relay drops (it
 * relays only once the ticket holds the message). No transaction needed.
 */
export async function openTicket(deps: TicketDeps, ownerKey: string, input: TicketInput): Promise<TicketView> {
  const now = new Date(deps.clock.now());
  const first: TicketMessage = { id: newId('msg'), from: 'shopper', body: input.message, at: now };
  const ticket: TicketDoc = { _id: newId('t'), ownerKey, email: input.email ?? null, subject: input.subject, orderId: input.orderId ?? null, status: 'open', messages: [first], createdAt: now, updatedAt: now };
  await deps.models.outbox.create(outboxFor(deps, ticket, first, 'ticket_opened'));
  await deps.models.tickets.create(ticket);
  return toTicketView(ticket);
}

/** The shopper's own tickets, newest first. */
export async function listOwnTickets(deps: TicketDeps, ownerKey: string): Promise<{ items: TicketView[] }> {
  const docs = await deps.models.tickets.find({ ownerKey }).sort({ createdAt: -1 }).limit(100).lean<TicketDoc[]>();
  return { items: docs.map(toTicketView) };
}

/** A ticket when `ownerKey` owns it (or for support, with no owner given); someone else's ticket is the same 404 as none. */
export async function findTicket(deps: TicketDeps, id: string, ownerKey?: string): Promise<TicketDoc> {
  const doc = await deps.models.tickets.findById(id).lean<TicketDoc>();
  if (!doc || (ownerKey !== undefined && doc.ownerKey !== ownerKey)) throw notFound('no such ticket');
  return doc;
}

export async function adminListTickets(deps: TicketDeps, query: z.infer<typeof adminListSchema>): Promise<{ items: TicketView[] }> {
  const filter: Record<string, string> = {};
  if (query.status) filter.status = query.status;
  if (query.email) filter.email = query.email;
  if (query.orderId) filter.orderId = query.orderId;
  const docs = await deps.models.tickets.find(filter).sort({ createdAt: -1 }).limit(query.limit).lean<TicketDoc[]>();
  return { items: docs.map(toTicketView) };
}

/** Moves a ticket from its current status to `to`, if the lifecycle allows it (409 otherwise). */
function nextStatus(from: TicketStatus, to: TicketStatus): TicketStatus {
  if (from !== to && !TRANSITIONS[from].includes(to)) throw conflict('invalid_transition', `a ${from} ticket cannot become ${to}`, { from, to, allowed: TRANSITIONS[from] });
  return to;
}

export async function setTicketStatus(deps: TicketDeps, id: string, to: TicketStatus): Promise<TicketView> {
  return deps.lock(id, async () => {
    const doc = await findTicket(deps, id);
    const status = nextStatus(doc.status, to);
    const updated = await updateByIdIf(deps.models.tickets, id, { status: doc.status }, { $set: { status, updatedAt: new Date(deps.clock.now()) } });
    if (!updated) throw conflict('ticket_changed', 'the ticket changed meanwhile; read it again');
    return toTicketView(updated);
  });
}

/**
 * Adds a message. Support's reply makes an open ticket pending (waiting for
 * the shopper) and mails the shopper; the shopper's reply re-opens it.
 */
export async function addMessage(deps: TicketDeps, id: string, from: TicketMessage['from'], body: string, ownerKey?: string): Promise<TicketView> {
  return deps.lock(id, async () => {
    const doc = await findTicket(deps, id, ownerKey);
    if (doc.status === 'closed') throw conflict('ticket_closed', 'a closed ticket takes no more messages; open a new one');
    const status: TicketStatus = from === 'support' ? (doc.status === 'open' ? 'pending' : doc.status) : 'open';
    const message: TicketMessage = { id: newId('msg'), from, body, at: new Date(deps.clock.now()) };
    if (from === 'support') await deps.models.outbox.create(outboxFor(deps, doc, message, 'support_replied'));
    const updated = await updateByIdIf(
      deps.models.tickets, id, { status: doc.status },
      { $push: { messages: message }, $set: { status, updatedAt: message.at } },
    );
    if (!updated) throw new AppError(409, 'ticket_changed', 'Conflict', { detail: 'the ticket changed meanwhile; try again' });
    return toTicketView(updated);
  });
}
