/**
 * kit/guarded-write.ts `findByIds` and `deleteByIds` against the test FerretDB:
 * many documents by `_id` without `$in`, which FerretDB 1.24 answers by reading
 * the whole collection (an empty `$in` delete took over 15 s on 100,000 holds
 * and made inventory's reconcile pass time out every minute). The commands sent
 * are watched: each read and each delete statement names one `_id`, and an
 * empty list sends nothing. Also the idempotency store's sweep, built on them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Schema, type Connection, type Model } from 'mongoose';
import { connectMongo, createIdempotencyStore, deleteByIds, findByIds } from '../../services/kit/index.js';
import { testLogger, testServers, uniqueName } from '../helpers/env.js';

interface Item { _id: string; state: string; n: number }
let connection: Connection;
let Items: Model<Item>;
const commands: Array<{ name: string; body: Record<string, unknown> }> = [];

before(async () => {
  connection = await connectMongo(testServers().mongoUri, { logger: testLogger(), dbName: uniqueName(import.meta.url), monitorCommands: true });
  connection.getClient().on('commandStarted', (event) => commands.push({ name: event.commandName, body: event.command as Record<string, unknown> }));
  Items = connection.model<Item>('Item', new Schema<Item>({ _id: String, state: String, n: Number }, { versionKey: false }));
  await Items.insertMany(Array.from({ length: 40 }, (_, i) => ({ _id: `item-${i}`, state: i % 2 ? 'odd' : 'even', n: i })));
});
after(async () => {
  await connection.dropDatabase();
  await connection.close();
});

/** The commands of `name` sent while `work` ran. */
async function sent<T>(name: string, work: () => Promise<T>): Promise<{ result: T; bodies: Array<Record<string, unknown>> }> {
  const from = commands.length;
  const result = await work();
  return { result, bodies: commands.slice(from).filter((c) => c.name === name).map((c) => c.body) };
}

test('when 30 ids are asked for (three of them unknown), then the 27 documents come back, each read by its own _id equality', async () => {
  const ids = [...Array.from({ length: 27 }, (_, i) => `item-${i + 5}`), 'nope-1', 'nope-2', 'nope-3'];
  const { result, bodies } = await sent('find', () => findByIds<Item>(Items, ids, { n: 1 }));
  assert.deepEqual(result.map((doc) => doc._id).sort(), ids.slice(0, 27).sort());
  assert.ok(result.every((doc) => doc.state === undefined && typeof doc.n === 'number'), 'the projection applies');
  assert.equal(bodies.length, 30);
  for (const body of bodies) assert.equal(typeof (body.filter as { _id: unknown })._id, 'string', JSON.stringify(body.filter));
});

test('when ids are deleted with a guard, then only those the guard holds for go, in one command of one-_id statements', async () => {
  const ids = ['item-30', 'item-31', 'item-32', 'item-33', 'nope-9'];
  const { result, bodies } = await sent('delete', () => deleteByIds(Items, ids, { state: 'even' }));
  assert.equal(result, 2);
  assert.deepEqual((await Items.find({ _id: { $in: ids } }).lean()).map((doc) => doc._id).sort(), ['item-31', 'item-33']);
  assert.equal(bodies.length, 1);
  const statements = bodies[0]!.deletes as Array<{ q: { _id: unknown; state: unknown }; limit: number }>;
  assert.deepEqual(statements.map((s) => [s.q._id, s.q.state, s.limit]), ids.map((id) => [id, 'even', 1]));
});

test('when the list is empty, then nothing is sent and nothing is deleted', async () => {
  const before = await Items.countDocuments();
  const { result, bodies } = await sent('delete', () => deleteByIds(Items, []));
  assert.equal(result, 0);
  assert.equal(bodies.length, 0);
  assert.equal(await Items.countDocuments(), before);
});

test('when the idempotency store sweeps, then expired keys go and live ones stay: found by expiry bucket (no range query once the sweep has its mark), deleted by _id', async () => {
  let now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const store = createIdempotencyStore(connection, { collection: 'sweep_keys', ttlMs: 60_000, now: () => now });
  // The first pass of a new database has no mark: one range query, then the mark is set.
  assert.equal(await store.sweep(), 0);
  for (const id of ['old-1', 'old-2']) assert.equal((await store.begin(id, 'fp')).kind, 'run');
  now += 30_000;
  assert.equal((await store.begin('young', 'fp')).kind, 'run');
  now += 45_000; // old-* are 75 s old (past 60 s), young 45 s
  const from = commands.length;
  const { result, bodies } = await sent('delete', () => store.sweep());
  const finds = commands.slice(from).filter((c) => c.name === 'find' && c.body.find === 'sweep_keys').map((c) => c.body.filter as Record<string, unknown>);
  assert.equal(result, 2);
  assert.deepEqual([await store.seen('old-1'), await store.seen('old-2'), await store.seen('young')], [false, false, true]);
  assert.ok(finds.length > 0 && finds.every((filter) => typeof filter.expiryBucket === 'number' && !('expiresAt' in filter)), JSON.stringify(finds));
  assert.ok(bodies.every((body) => (body.deletes as Array<{ q: { _id: unknown } }>).every((s) => typeof s.q._id === 'string')), 'deleted by _id');
  now += 60_000;
  assert.equal(await store.sweep(), 1);
  assert.equal(await store.seen('young'), false);
});
