/**
 * Notifications without blocking the request: handlers write an outbox entry
 * (MongoDB) before answering; a relay on every replica moves pending entries
 * to the Bull queue `support-mail`, and a worker hands them to the mailer
 * (simulated here). At-least-once: the Bull job id is the outbox id, so a
 * relay that crashes between queueing and marking re-queues the same job,
 * which Bull ignores while that job is kept.
 */
import type { Queue } from 'bull';
import type { Logger } from '../../kit/index.js';
import type { OutboxDoc, SupportModels, TicketDoc } from '../models.js';

export interface Mail {
  outboxId: string;
  ticketId: string;
  kind: OutboxDoc['kind'];
  to: string;
  subject: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** Stands in for an email provider: logs that a mail went out (never the address or the text). */
export function simulatedMailer(logger: Logger): Mailer {
  return {
    async send(mail) {
      logger.info({ outboxId: mail.outboxId, ticketId: mail.ticketId, kind: mail.kind }, 'mail sent (simulated)');
    },
  };
}

/** An entry whose ticket never got its message is dropped after this long (the write after it failed). */
const ORPHAN_AFTER_MS = 5 * 60_000;

/** One relay pass: returns how many entries were queued. */
export async function relayOutbox(deps: { models: SupportModels; queue: Queue<Mail>; now: number; batch: number; logger: Logger }): Promise<number> {
  const { models, queue } = deps;
  const pending = await models.outbox.find({ state: 'pending' }).sort({ createdAt: 1 }).limit(deps.batch).lean<OutboxDoc[]>();
  let queued = 0;
  for (const entry of pending) {
    const ticket = await models.tickets.findById(entry.ticketId, { messages: 1 }).lean<Pick<TicketDoc, 'messages'>>();
    if (!ticket?.messages.some((m) => m.id === entry.messageId)) {
      // Not written yet (the handler is between its two writes) or never will be.
      if (deps.now - entry.createdAt.getTime() > ORPHAN_AFTER_MS) {
        await models.outbox.updateOne({ _id: entry._id, state: 'pending' }, { $set: { state: 'dropped' } });
        deps.logger.warn({ outboxId: entry._id, ticketId: entry.ticketId }, 'outbox entry without its ticket message dropped');
      }
      continue;
    }
    const mail: Mail = { outboxId: entry._id, ticketId: entry.ticketId, kind: entry.kind, to: entry.to, subject: entry.subject };
    await queue.add(mail, { jobId: entry._id, attempts: 8, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: false });
    await models.outbox.updateOne({ _id: entry._id, state: 'pending' }, { $set: { state: 'queued' } });
    queued += 1;
  }
  return queued;
}

/** Consumes `support-mail`: a failing send is retried by Bull with backoff, then kept as failed (dead letter). */
export function startMailWorker(queue: Queue<Mail>, mailer: Mailer, concurrency = 4): void {
  void queue.process(concurrency, (job) => mailer.send(job.data));
}
