/**
 * Finding documents that come due at a time, with equality queries only.
 *
 * FerretDB 1.24 pushes only equality filters down to PostgreSQL. A sweep that
 * asks for `state: 'active', expiresAt: { $lte: now }` gets every active
 * document of the collection fetched and filtered in Go, on every pass (measured
 * in `npm run bench`: with 100,000 live holds one such query took over a minute
 * of FerretDB's CPU, every 5 s, and add-to-cart fell with it). So a document that
 * must be found when its time passes also stores `bucketOf(time)`, and a sweep
 * asks for each bucket that has come due by equality (an index lookup on
 * FerretDB with the stack's GIN indexes, and on MongoDB), keeping a watermark
 * per sweep: every bucket before it has been swept clean.
 *
 * The mark lives in MongoDB (`sweep_marks`), moves only forward (`$max`), and is
 * shared by every replica; two replicas sweeping one bucket is harmless because
 * each document is then claimed with a guarded write by `_id`. A sweep without a
 * mark (a new database), or with one far behind, runs the range query once and
 * sets the mark. Each pass also re-reads the last `rewindMs` (a mark ahead of
 * this replica's clock).
 */
import { Schema, type Connection, type Model } from 'mongoose';

/** The bucket of `at` for buckets of `sizeMs`. */
export const bucketOf = (at: Date | number, sizeMs: number): number => Math.floor((typeof at === 'number' ? at : at.getTime()) / sizeMs);

interface MarkDoc {
  _id: string;
  next: number;
  updatedAt: Date;
}

export interface BucketMarks {
  /** The first bucket not yet swept clean, or undefined before the first sweep. */
  get(name: string): Promise<number | undefined>;
  /** Moves the mark forward (never back) to `next`. */
  advance(name: string, next: number): Promise<void>;
}

/** The marks in `collection` of `connection`; cheap to call per pass (the model is registered once per connection). */
export function createBucketMarks(connection: Connection, collection = 'sweep_marks'): BucketMarks {
  const name = `SweepMark_${collection}`;
  const model =
    (connection.models[name] as Model<MarkDoc> | undefined) ??
    connection.model<MarkDoc>(name, new Schema<MarkDoc>({ _id: { type: String, required: true }, next: { type: Number, required: true }, updatedAt: { type: Date, required: true } }, { collection, versionKey: false }));
  return {
    async get(id) {
      return (await model.findById(id).lean<MarkDoc>())?.next;
    },
    async advance(id, next) {
      await model.updateOne({ _id: id }, { $max: { next }, $set: { updatedAt: new Date() } }, { upsert: true });
    },
  };
}

export interface DueSweep<T> {
  /** The mark's name, e.g. `holds:active`. */
  name: string;
  marks: BucketMarks;
  sizeMs: number;
  /** Documents are due when their time is at or before this (now, or now minus a grace period). */
  dueAt: number;
  /**
   * All due documents by a range query: what a sweep without a mark (a new database), or
   * with one more than `maxBuckets` behind (the sweep stopped for a long time), runs once
   * instead of thousands of bucket queries. On FerretDB it reads the whole collection.
   */
  loadAllDue(): Promise<T[]>;
  /**
   * Every pass also reads the buckets of this last stretch again (10 min by default), so a
   * mark pushed ahead by a replica whose clock ran fast, or a test clock moved forward, cannot
   * hide documents that come due within it.
   */
  rewindMs?: number;
  /** The documents of one bucket, by an equality query (they may not all be due yet). */
  load(bucket: number): Promise<T[]>;
  /** The document's time (the one its bucket was computed from). */
  timeOf(doc: T): Date;
  /** Acts on one due document (a guarded claim by `_id`, then the effect); throws to stop the pass. */
  handle(doc: T): Promise<void>;
  /** Most documents handled per pass; the rest wait for the next. */
  batch: number;
  /** A mark further behind than this many buckets (2,000) is caught up with `loadAllDue` instead. */
  maxBuckets?: number;
}

/** One pass: every due document of every bucket from the mark on; returns how many were handled. */
export async function sweepDueBuckets<T>(sweep: DueSweep<T>): Promise<number> {
  const last = bucketOf(sweep.dueAt, sweep.sizeMs);
  const mark = await sweep.marks.get(sweep.name);
  const maxBuckets = sweep.maxBuckets ?? 2_000;
  let handled = 0;
  if (mark === undefined || last - mark > maxBuckets) {
    const due = (await sweep.loadAllDue()).filter((doc) => sweep.timeOf(doc).getTime() <= sweep.dueAt);
    for (const doc of due) {
      if (handled >= sweep.batch) return handled;
      await sweep.handle(doc);
      handled += 1;
    }
    await sweep.marks.advance(sweep.name, last);
    return handled;
  }
  const first = Math.min(mark, bucketOf(sweep.dueAt - (sweep.rewindMs ?? 600_000), sweep.sizeMs));
  // Buckets wholly in the past and swept clean are not read again after the rewind stretch
  // (new documents get later buckets); the mark is written once, at the end of the pass.
  let clean = first;
  try {
    for (let bucket = first; bucket <= last; bucket += 1) {
      const due = (await sweep.load(bucket)).filter((doc) => sweep.timeOf(doc).getTime() <= sweep.dueAt);
      for (const doc of due) {
        if (handled >= sweep.batch) return handled;
        await sweep.handle(doc);
        handled += 1;
      }
      if (bucket < last) clean = bucket + 1;
    }
    return handled;
  } finally {
    if (clean > mark) await sweep.marks.advance(sweep.name, clean);
  }
}
