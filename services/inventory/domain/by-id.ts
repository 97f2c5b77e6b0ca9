/**
 * Conditional writes filtered by `_id` alone where the server needs it.
 * FerretDB 1.24 (SQLite) uses an index only for a filter that is exactly
 * `{ _id: <string> }`; `{ _id, state: 'active' }` is a scan of the whole
 * collection in Go, and holds grow with every reservation, stock with the
 * catalog. With `models.byIdOnly` the document is read by `_id`, the guard is
 * checked here, and the write is filtered by `_id`: the same read-check-write
 * FerretDB does itself for a conditional update, which is no more atomic there
 * (stock writes hold the per-SKU lock, see effects.ts). On MongoDB the guard
 * stays in the filter and the write is atomic, as before.
 */
import type { Model, UpdateQuery } from 'mongoose';

/** Field path -> value, or operators `$exists`, `$in`, `$gt`, `$gte`, `$lt`, `$lte`. */
export type Guard = Record<string, unknown>;

interface Target<T> {
  model: Model<T>;
  byIdOnly: boolean;
}

/** findOneAndUpdate({ _id: id, ...guard }); `returnNew` false gives the document as it was. */
export async function updateByIdIf<T>(target: Target<T>, id: string, guard: Guard, update: UpdateQuery<T>, returnNew = true): Promise<T | null> {
  const { model, byIdOnly } = target;
  if (!byIdOnly) return model.findOneAndUpdate({ _id: id, ...guard }, update, { new: returnNew, lean: true }) as Promise<T | null>;
  if (!(await guardHolds(target, id, guard))) return null;
  return model.findOneAndUpdate({ _id: id }, update, { new: returnNew, lean: true }) as Promise<T | null>;
}

/** updateOne({ _id: id, ...guard }); true when it changed the document. */
export async function updateOneByIdIf<T>(target: Target<T>, id: string, guard: Guard, update: UpdateQuery<T>): Promise<boolean> {
  const { model, byIdOnly } = target;
  if (!byIdOnly) return (await model.updateOne({ _id: id, ...guard }, update)).modifiedCount > 0;
  if (!(await guardHolds(target, id, guard))) return false;
  return (await model.updateOne({ _id: id }, update)).modifiedCount > 0;
}

async function guardHolds<T>({ model }: Target<T>, id: string, guard: Guard): Promise<boolean> {
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
