/**
 * Conditional writes to one document by `_id`, for every service: the guard
 * (state, version, an entry's value) sits in the filter next to `_id`, so on
 * MongoDB each write is atomic on its own. FerretDB 1.24 pushes the `_id`
 * equality down to PostgreSQL (served by an index there, see
 * scripts/lib/ferretdb-gin.ts) and checks the rest on that one document, but
 * its read-check-write is not atomic under concurrency: callers that race on
 * one document also hold a per-document lock (kit/lock.ts).
 */
import type { Model, ProjectionType, UpdateQuery, mongo } from 'mongoose';

/** Field path -> value or query operators, ANDed with `_id`. */
export type Guard = Record<string, unknown>;

export interface UpdateByIdOptions {
  /** false: resolve with the document as it was before the update. */
  returnNew?: boolean;
}

/**
 * The driver's collection behind a model, typed with the model's document (mongoose types it with
 * ObjectId ids). For hot writes that skip mongoose's casting: the caller builds the whole document
 * or update from validated input (cart save, new hold).
 */
export const driverCollection = <T>(model: Model<T>) => model.collection as unknown as mongo.Collection<T & { _id: string }>;

/** findOneAndUpdate({ _id: id, ...guard }), or null when the guard does not hold. */
export function updateByIdIf<T>(model: Model<T>, id: string, guard: Guard, update: UpdateQuery<T>, options: UpdateByIdOptions = {}): Promise<T | null> {
  return model.findOneAndUpdate({ _id: id, ...guard }, update, { new: options.returnNew ?? true, lean: true }) as Promise<T | null>;
}

/** updateOne({ _id: id, ...guard }); true when it changed the document. */
export async function updateOneByIdIf<T>(model: Model<T>, id: string, guard: Guard, update: UpdateQuery<T>): Promise<boolean> {
  return (await model.updateOne({ _id: id, ...guard }, update)).modifiedCount > 0;
}

/** deleteOne({ _id: id, ...guard }); true when it deleted the document. */
export async function deleteByIdIf<T>(model: Model<T>, id: string, guard: Guard): Promise<boolean> {
  return (await model.deleteOne({ _id: id, ...guard })).deletedCount > 0;
}

/** Point reads in flight at once by `findByIds`. */
const POINT_READS = 16;

/**
 * The documents with these ids (those that exist; order not kept), one `_id` equality read each,
 * `POINT_READS` at a time. Not `{ _id: { $in: ids } }`: FerretDB 1.24 does not push `$in` down and
 * answers it by reading the whole collection (2.7 s for 50 ids among 1,000 stock documents with
 * 100,000 holds between them, `npm run bench`'s scale database).
 */
export async function findByIds<T, R = T>(model: Model<T>, ids: readonly string[], projection?: ProjectionType<T>): Promise<R[]> {
  const found: R[] = [];
  for (let i = 0; i < ids.length; i += POINT_READS) {
    const group = await Promise.all(ids.slice(i, i + POINT_READS).map((id) => model.findById(id, projection).lean<R>()));
    for (const doc of group) if (doc) found.push(doc as R);
  }
  return found;
}

/**
 * Deletes the documents with these ids (each only if `guard` holds): one command with a
 * `deleteOne({ _id, ...guard })` statement per id, each pushed down by its `_id`. Not
 * `deleteMany({ _id: { $in: ids } })`: FerretDB scans the whole collection for it, also for an
 * empty list (over 15 s on 100,000 holds, which made every reconcile pass time out).
 */
export async function deleteByIds<T>(model: Model<T>, ids: readonly string[], guard: Guard = {}): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await driverCollection(model).bulkWrite(ids.map((id) => ({ deleteOne: { filter: { _id: id, ...guard } as never } })), { ordered: false });
  return result.deletedCount;
}
