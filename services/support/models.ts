import { Schema, type Connection, type Model } from 'mongoose';

export interface FaqDoc {
  _id: string;
  question: string;
  answer: string;
  tags: string[];
  /** Position in the list, ascending. */
  order: number;
  updatedAt: Date;
}

export type TicketStatus = 'open' | 'pending' | 'solved' | 'closed';

export interface TicketMessage {
  id: string;
  from: 'shopper' | 'support';
  body: string;
  at: Date;
}

/** A support ticket. `ownerKey` is `c:<customerId>` or `g:<sha256 of the guest's cart token>` (the token itself is never stored). */
export interface TicketDoc {
  _id: string;
  ownerKey: string;
  email: string | null;
  subject: string;
  orderId: string | null;
  status: TicketStatus;
  messages: TicketMessage[];
  createdAt: Date;
  updatedAt: Date;
}

/** A notification to send, written before the change it announces (see domain/outbox.ts). */
export interface OutboxDoc {
  _id: string;
  ticketId: string;
  /** The ticket message this announces: relayed only once the ticket holds it. */
  messageId: string;
  kind: 'ticket_opened' | 'support_replied';
  to: string;
  subject: string;
  /** `queued`: the queue took the job; `sent`: the worker handed the mail to the mailer. */
  state: 'pending' | 'queued' | 'sent' | 'dropped';
  createdAt: Date;
  /** When the job was queued or last found in the queue; the resend pass looks again after SUPPORT_OUTBOX_RESEND_AFTER_MS. */
  checkedAt?: Date | null;
  /** `bucketOf(checkedAt, OUTBOX_CHECK_BUCKET_MS)`: how the resend pass finds queued entries by equality (kit/time-buckets.ts). */
  checkBucket?: number | null;
  /** How often the resend pass queued the mail again (its job was lost with a Redis primary). */
  resends?: number;
  sentAt?: Date | null;
}

export interface SupportModels {
  faq: Model<FaqDoc>;
  tickets: Model<TicketDoc>;
  outbox: Model<OutboxDoc>;
}

const faqSchema = new Schema<FaqDoc>(
  { _id: String, question: { type: String, required: true }, answer: { type: String, required: true }, tags: { type: [String], default: [] }, order: { type: Number, default: 0 }, updatedAt: Date },
  { versionKey: false, collection: 'support_faq' },
);

const messageSchema = new Schema<TicketMessage>({ id: String, from: String, body: String, at: Date }, { _id: false });
const ticketSchema = new Schema<TicketDoc>(
  {
    _id: String, ownerKey: { type: String, required: true }, email: { type: String, default: null }, subject: String, orderId: { type: String, default: null },
    status: { type: String, required: true }, messages: { type: [messageSchema], default: [] }, createdAt: Date, updatedAt: Date,
  },
  { versionKey: false, collection: 'support_tickets' },
);
ticketSchema.index({ ownerKey: 1, createdAt: -1 });
ticketSchema.index({ status: 1, createdAt: -1 });

const outboxSchema = new Schema<OutboxDoc>(
  {
    _id: String, ticketId: String, messageId: String, kind: String, to: String, subject: String, state: { type: String, required: true }, createdAt: Date,
    checkedAt: { type: Date, default: null }, checkBucket: { type: Number, default: null }, resends: { type: Number, default: 0 }, sentAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'support_outbox' },
);
outboxSchema.index({ state: 1, createdAt: 1 });
outboxSchema.index({ state: 1, checkBucket: 1 });

export async function createSupportModels(connection: Connection): Promise<SupportModels> {
  const faq = connection.model<FaqDoc>('FaqEntry', faqSchema);
  const tickets = connection.model<TicketDoc>('Ticket', ticketSchema);
  const outbox = connection.model<OutboxDoc>('SupportOutbox', outboxSchema);
  await Promise.all([faq.createIndexes(), tickets.createIndexes(), outbox.createIndexes()]);
  return { faq, tickets, outbox };
}
