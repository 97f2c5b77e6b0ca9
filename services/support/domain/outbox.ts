/**
 * Notifications without blocking the request: handlers write an outbox entry
 * (MongoDB) before answering; a relay on every replica moves pending entries
 * to the Bull queue `support-mail`, and a worker hands them to the mailer
 * (simulated here). At-least-once: the Bull job id is the outbox id, so a
 * relay that crashes between queueing and marking re-queues the same job,
 * which Bull ignores while that job is kept.
 *
 * `queued` means a Redis primary accepted the job; a primary that dies before
 * replicating it (a Sentinel failover) takes the job along. The worker marks the
 * entry `sent` once the mailer took the mail, and a resend pass looks at entries
 * still `queued` `afterMs` after they were queued (or last found in the queue):
 * a job still there is left alone, a completed one means the mail went out (the
 * entry is marked sent), a missing one is queued again.
 */
import type { Queue } from 'bull';
import { bucketOf, createBucketMarks, jobPresence, readdJob, sweepDueBuckets, type Logger } from '../../kit/index.js';
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
    const mail = mailOf(entry);
    await queue.add(mail, { ...MAIL_JOB_OPTIONS, jobId: entry._id });
    await models.outbox.updateOne({ _id: entry._id, state: 'pending' }, { $set: { state: 'queued', ...seenAt(deps.now) } });
    queued += 1;
  }
  return queued;
}

const MAIL_JOB_OPTIONS = { attempts: 8, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: false } as const;

/** Bucket size of `checkBucket` (kit/time-buckets.ts). */
export const OUTBOX_CHECK_BUCKET_MS = 60_000;

/** The fields that say "the job was in the queue at `at`". */
const seenAt = (at: number) => ({ checkedAt: new Date(at), checkBucket: bucketOf(at, OUTBOX_CHECK_BUCKET_MS) });

const mailOf = (entry: OutboxDoc): Mail => ({ outboxId: entry._id, ticketId: entry.ticketId, kind: entry.kind, to: entry.to, subject: entry.subject });

/**
 * One resend pass: `queued` entries due for a check, found bucket by bucket with
 * equality queries (`state`, `checkBucket`), at most `batch`; returns how many
 * mails it queued again. Entries queued before this pass existed have no bucket
 * and are not looked at (their jobs may be long gone after a send).
 */
export async function resendLostMail(deps: { models: SupportModels; queue: Queue<Mail>; now: number; afterMs: number; batch: number; logger: Logger }): Promise<number> {
  const { models, queue } = deps;
  const dueAt = deps.now - deps.afterMs;
  let resent = 0;
  await sweepDueBuckets<OutboxDoc>({
    name: 'support-outbox:queued', marks: createBucketMarks(models.outbox.db), sizeMs: OUTBOX_CHECK_BUCKET_MS, dueAt, batch: deps.batch,
    load: (bucket) => models.outbox.find({ state: 'queued', checkBucket: bucket }).lean<OutboxDoc[]>(),
    loadAllDue: async () => (await models.outbox.find({ state: 'queued' }).lean<OutboxDoc[]>()).filter((entry) => entry.checkBucket != null),
    timeOf: (entry) => entry.checkedAt ?? entry.createdAt,
    handle: async (listed) => {
      const entry = await models.outbox.findById(listed._id).lean<OutboxDoc>();
      // Sent, or checked by another replica since it was listed.
      if (!entry || entry.state !== 'queued' || (entry.checkedAt ?? entry.createdAt).getTime() > dueAt) return;
      const { presence, job } = await jobPresence(queue, entry._id);
      if (presence === 'completed') {
        // The worker handed it to the mailer; only the mark was lost.
        await models.outbox.updateOne({ _id: entry._id, state: 'queued' }, { $set: { state: 'sent', sentAt: new Date(job?.finishedOn ?? deps.now) } });
        return;
      }
      if (presence === 'missing') await readdJob(queue, job, mailOf(entry), { ...MAIL_JOB_OPTIONS, jobId: entry._id });
      await models.outbox.updateOne({ _id: entry._id, state: 'queued' }, { $set: seenAt(deps.now), ...(presence === 'missing' ? { $inc: { resends: 1 } } : {}) });
      if (presence === 'missing') {
        resent += 1;
        deps.logger.warn({ outboxId: entry._id, ticketId: entry.ticketId }, 'mail job not in the queue (lost with a Redis primary?); queued again');
      }
    },
  });
  return resent;
}

/**
 * Consumes `support-mail`: a failing send is retried by Bull with backoff, then kept as failed
 * (dead letter); a sent one marks its outbox entry `sent`.
 */
export function startMailWorker(queue: Queue<Mail>, mailer: Mailer, models: SupportModels, concurrency = 4): void {
  void queue.process(concurrency, async (job) => {
    await mailer.send(job.data);
    // Not retried when it fails (the mail went out): the resend pass marks it from the completed job.
    await models.outbox.updateOne({ _id: job.data.outboxId, state: { $in: ['pending', 'queued'] } }, { $set: { state: 'sent', sentAt: new Date() } }).catch(() => undefined);
  });
}
