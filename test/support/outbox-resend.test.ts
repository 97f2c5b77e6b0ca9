/**
 * Mail jobs lost with a failed-over Redis primary (services/support/domain/outbox.ts):
 * the relay marks an entry `queued` once a primary accepted its job. The loss is
 * simulated by removing the job in Redis; the resend pass must queue the mail
 * again, leave a queued job alone, and mark sent (never mail twice) an entry
 * whose job completed.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startMailWorker } from '../../services/support/domain/outbox.js';
import { eventually, uniqueName } from '../helpers/env.js';
import { startSupport, type SupportUnderTest } from './helpers.js';

const dbName = uniqueName(import.meta.url);
const AFTER_MS = 300;
let support: SupportUnderTest;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const entryOf = async (ticketId: string) => (await support.models.outbox.findOne({ ticketId }).lean())!;
const stateOf = async (id: string) => (await support.queue.getJob(id))?.getState() ?? null;

before(async () => {
  // No worker until the test starts one; passes only when the test runs them.
  support = await startSupport({ dbName, env: { SUPPORT_MAIL_WORKER: 'false', SUPPORT_OUTBOX_INTERVAL_MS: '100000', SUPPORT_OUTBOX_RESEND_AFTER_MS: String(AFTER_MS) } });
});
after(async () => {
  await support.connection.dropDatabase().catch(() => undefined);
  await support.close();
});

describe('resend of mail jobs lost with a Redis primary', () => {
  test('when a queued mail\'s job is deleted from Redis, then the resend pass queues it again after the grace period and it is mailed once; a completed job is marked sent, not mailed again', async () => {
    const opened = await request(support.app.callback()).post('/api/support/tickets').set('x-cart-token', randomBytes(32).toString('base64url'))
      .send({ subject: 'Lost mail?', message: 'Hello', email: 'lost@example.com' });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    assert.equal(await support.relay.runOnce(), 1);
    const entry = await entryOf(opened.body.id);
    assert.equal(entry.state, 'queued');
    assert.equal(await stateOf(entry._id), 'waiting');

    await sleep(AFTER_MS + 100);
    assert.equal(await support.resend.runOnce(), 0, 'a job in the queue is left alone');
    assert.equal(await stateOf(entry._id), 'waiting');

    // Lost with the primary that accepted it.
    await (await support.queue.getJob(entry._id))!.remove();
    assert.equal(await support.resend.runOnce(), 0, 'not before the grace period');
    await sleep(AFTER_MS + 100);
    assert.equal(await support.resend.runOnce(), 1);
    assert.equal(await stateOf(entry._id), 'waiting');
    assert.equal((await entryOf(opened.body.id)).resends, 1);

    startMailWorker(support.queue, { send: async (mail) => void support.sent.push(mail) }, support.models);
    assert.ok(await eventually(async () => (await entryOf(opened.body.id)).state === 'sent'), 'mailed and marked sent');
    assert.deepEqual(support.sent.map((m) => m.outboxId), [entry._id]);

    // The worker's mark was lost (the mail went out): the completed job says so.
    await support.models.outbox.updateOne({ _id: entry._id }, { $set: { state: 'queued', checkedAt: new Date(Date.now() - 10 * AFTER_MS) } });
    assert.equal(await support.resend.runOnce(), 0);
    assert.equal((await entryOf(opened.body.id)).state, 'sent');
    assert.equal(support.sent.length, 1, 'not mailed twice');
  });
});
