/**
 * Conditional writes to one document by `_id`, for every service.
 * FerretDB 1.24 (SQLite) pushes down only a filter that is exactly
 * `{ _id: <string> }`; `{ _id, state: 'active' }` is a scan of the whole
 * collection in Go. With `byIdOnly` (see `isFerretDb`) the document is read by
 * `_id`, the guard is checked here, and the write is filtered by `_id`: the
 * same read-check-write FerretDB does itself for a conditional update, which is
 * no more atomic there, so callers hold a per-document lock (kit/lock.ts). On
 * MongoDB the guard stays in the filter and the write is atomic.
 */
import type { Model, UpdateQuery } from 'mongoose';

/** Field path -> value, or operators `$exists`, `$in`, `$gt`, `$gte`, `$lt`, `$lte`. */
export type Guard = Record<string, unknown>;

/** A collection and whether its server needs `_id`-only filters. */
export interface ByIdTarget<T> {
  model: Model<T>;
  byIdOnly: boolean;
}

export interface UpdateByIdOptions {
  /** false: resolve with the document as it was before the update. */
  returnNew?: boolean;
  /**
   * The document as the caller read it in this same critical section (under
   * its lock): on FerretDB the guard is checked against it instead of reading again.
   */
  seen?: unknown;
}

/** findOneAndUpdate({ _id: id, ...guard }), or null when the guard does not hold. */
export async function updateByIdIf<T>(target: ByIdTarget<T>, id: string, guard: Guard, update: UpdateQuery<T>, options: UpdateByIdOptions = {}): Promise<T | null> {
  const { model, byIdOnly } = target;
  const returnNew = options.returnNew ?? true;
  if (!byIdOnly) return model.findOneAndUpdate({ _id: id, ...guard }, update, { new: returnNew, lean: true }) as Promise<T | null>;
  const holds = options.seen !== undefined ? matches(options.seen, guard) : await guardHolds(target, id, guard);
  if (!holds) return null;
  return model.findOneAndUpdate({ _id: id }, update, { new: returnNew, lean: true }) as Promise<T | null>;
}

/** updateOne({ _id: id, ...guard }); true when it changed the document. */
export async function updateOneByIdIf<T>(target: ByIdTarget<T>, id: string, guard: Guard, update: UpdateQuery<T>): Promise<boolean> {
  const { model, byIdOnly } = target;
  if (!byIdOnly) return (await model.updateOne({ _id: id, ...guard }, update)).modifiedCount > 0;
  if (!(await guardHolds(target, id, guard))) return false;
  return (await model.updateOne({ _id: id }, update)).modifiedCount > 0;
}

/** deleteOne({ _id: id, ...guard }); true when it deleted the document. */
export async function deleteByIdIf<T>(target: ByIdTarget<T>, id: string, guard: Guard): Promise<boolean> {
  const { model, byIdOnly } = target;
  if (!byIdOnly) return (await model.deleteOne({ _id: id, ...guard })).deletedCount > 0;
  if (!(await guardHolds(target, id, guard))) return false;
  return (await model.deleteOne({ _id: id })).deletedCount > 0;
}

async function guardHolds<T>({ model }: ByIdTarget<T>, id: string, guard: Guard): Promise<boolean> {
  // Only the guarded fields: a stock document's hold map can be large.
  const projection = Object.fromEntries(Object.keys(guard).map((path) => [path, 1]));
  const doc = await model.findById(id, projection).lean();
  return doc !== null && matches(doc, guard);
}

export function matches(doc: unknown, guard: Guard): boolean {
  return Object.entries(guard).every(([path, condition]) => test(valueAt(doc, path), condition));
}

const valueAt = (doc: unknown, path: string) =>
  path.split('.').reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), doc);

const plain = (value: unknown) => (value instanceof Date ? value.getTime() : value);

function test(value: unknown, condition: unknown): boolean {
  if (condition === null || typeof condition !== 'object' || condition instanceof Date) return plain(value) === plain(condition);
  return Object.entries(condition).every(([op, arg]) => {
    const [a, b] = [plain(value) as number, plain(arg) as number];
    const present = value !== undefined && value !== null;
    switch (op) {
      case '$exists':
        return (value !== undefined) === arg;
      case '$in':
        return (arg as unknown[]).some((candidate) => plain(candidate) === a);
      case '$gt':
        return present && a > b;
      case '$gte':
        return present && a >= b;
      case '$lt':
        return present && a < b;
      case '$lte':
        return present && a <= b;
      default:
        throw new Error(`guard operator ${op} is not supported`);
    }
  });
}
