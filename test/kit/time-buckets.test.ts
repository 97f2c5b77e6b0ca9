/**
 * kit/time-buckets.ts against the test FerretDB: due documents found bucket by
 * bucket with equality queries, the mark moving past clean buckets only, the
 * batch bound, and the rewind stretch re-read when a mark is ahead of the clock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Schema, type Connection, type Model } from 'mongoose';
import { bucketOf, connectMongo, createBucketMarks, sweepDueBuckets, type BucketMarks } from '../../services/kit/index.js';
import { testLogger, testServers, uniqueName } from '../helpers/env.js';

interface Item { _id: string; state: string; dueAt: Date; bucket: number }
const SIZE = 60_000;
let connection: Connection;
let Items: Model<Item>;
let marks: BucketMarks;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

before(async () => {
  connection = await connectMongo(testServers().mongoUri, { logger: testLogger(), dbName: uniqueName(import.meta.url) });
  Items = connection.model<Item>('Item', new Schema<Item>({ _id: String, state: String, dueAt: Date, bucket: Number }, { versionKey: false }));
  marks = createBucketMarks(connection);
});
after(async () => {
  await connection.dropDatabase();
  await connection.close();
});

const item = (id: string, at: number): Item => ({ _id: id, state: 'live', dueAt: new Date(at), bucket: bucketOf(at, SIZE) });

async function sweep(name: string, now: number, batch = 100, rewindMs = 0) {
  const loaded: number[] = [];
  const handled: string[] = [];
  const count = await sweepDueBuckets<Item>({
    name, marks, sizeMs: SIZE, dueAt: now, rewindMs, batch, maxBuckets: 30,
    loadAllDue: async () => {
      loaded.push(-1);
      return Items.find({ state: 'live', dueAt: { $lte: new Date(now) } }).lean<Item[]>();
    },
    load: async (bucket) => {
      loaded.push(bucket);
      return Items.find({ state: 'live', bucket }).lean<Item[]>();
    },
    timeOf: (doc) => doc.dueAt,
    handle: async (doc) => {
      handled.push(doc._id);
      await Items.updateOne({ _id: doc._id, state: 'live' }, { $set: { state: 'done' } });
    },
  });
  return { count, loaded, handled: handled.sort() };
}

test('a pass handles every due document and none that is not due, then the mark skips the clean buckets', async () => {
  await Items.insertMany([item('a1', T0 - 20 * SIZE), item('a2', T0 - 3 * SIZE), item('a3', T0 - 1_000), item('a4', T0 + 1_000), item('a5', T0 + 5 * SIZE)]);
  const first = await sweep('a', T0);
  assert.deepEqual(first.handled, ['a1', 'a2', 'a3']);
  assert.equal(first.count, 3);
  assert.deepEqual(first.loaded, [-1], 'a mark-less sweep runs the range query once');
  assert.equal(await marks.get('a'), bucketOf(T0, SIZE), 'the mark stops at the current bucket, which is not over yet');
  const second = await sweep('a', T0 + 2_000);
  assert.deepEqual(second.loaded, [bucketOf(T0, SIZE)], 'the next pass reads only from the mark on');
  assert.deepEqual(second.handled, ['a4']);
});

test('a pass stops at its batch and leaves the mark where documents are still due', async () => {
  await Items.insertMany([item('b1', T0 - 10 * SIZE), item('b2', T0 - 10 * SIZE + 5), item('b3', T0 - 5 * SIZE)]);
  await marks.advance('b', bucketOf(T0 - 20 * SIZE, SIZE));
  const first = await sweep('b', T0, 1);
  assert.equal(first.count, 1);
  assert.equal(await marks.get('b'), bucketOf(T0 - 10 * SIZE, SIZE), 'the half-done bucket is read again');
  const rest = await sweep('b', T0, 10);
  assert.deepEqual(rest.handled.length, 2);
});

test('a mark ahead of this clock (a fast replica) still lets the rewind stretch be found', async () => {
  await marks.advance('c', bucketOf(T0 + 60 * SIZE, SIZE));
  await Items.insertMany([item('c1', T0 - 4 * SIZE)]);
  assert.deepEqual((await sweep('c', T0, 10, 0)).handled, [], 'without a rewind the document is hidden behind the mark');
  assert.deepEqual((await sweep('c', T0, 10, 10 * SIZE)).handled, ['c1']);
  assert.equal(await marks.get('c'), bucketOf(T0 + 60 * SIZE, SIZE), 'the mark never moves back');
});

test('a mark far behind (the sweep stopped for long) is caught up with one range query, not thousands of buckets', async () => {
  await marks.advance('d', bucketOf(T0 - 500 * SIZE, SIZE));
  await Items.insertMany([item('d1', T0 - 400 * SIZE), item('d2', T0 - 2 * SIZE)]);
  const caught = await sweep('d', T0);
  assert.deepEqual(caught.loaded, [-1]);
  assert.deepEqual(caught.handled, ['d1', 'd2']);
  assert.equal(await marks.get('d'), bucketOf(T0, SIZE));
});
