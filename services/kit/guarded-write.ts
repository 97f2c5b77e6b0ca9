/**
 * Conditional writes to one document by `_id`, for every service: the guard
 * (state, version, an entry's value) sits in the filter next to `_id`, so on
 * MongoDB each write is atomic on its own. FerretDB 1.24 pushes the `_id`
 * equality down to PostgreSQL (served by an index there, see
 * scripts/lib/ferretdb-gin.ts) and checks the rest on that one document, but
 * its read-check-write is not atomic under concurrency: callers that race on
 * one document also hold a per-document lock (kit/lock.ts).
 */
import type { Model, UpdateQuery, mongo } from 'mongoose';

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
