/**
 * Keyset cursors of product lists: base64url JSON `[sort value, product id]`.
 * A cursor is checked in full against the sort it is used with before any
 * query runs, so a forged or stale one is a 400 naming `query.cursor`, never a
 * database cast error (which used to become a 503 and open the cache's breaker;
 * issue 9, items 1 and 2).
 */
import { Types } from 'mongoose';
import { badRequest } from '../../kit/index.js';
import type { SORTS } from './schemas.js';

export type Sort = (typeof SORTS)[number];

/** The decoded position: the sort field's value of the last item, and its id. */
export type CursorPosition = [value: string | number | Date, id: Types.ObjectId];

const OBJECT_ID = /^[0-9a-f]{24}$/;
/** What `toISOString()` makes; anything else in a `newest` cursor was not issued by us. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The sort value of a cursor, or undefined when it does not fit `sort`. */
function valueFor(sort: Sort, value: unknown): string | number | Date | undefined {
  if (sort === 'newest') {
    if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) || date.toISOString() !== value ? undefined : date;
  }
  if (sort === 'price' || sort === '-price') return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  return typeof value === 'string' && value.length <= 200 ? value : undefined;
}

/** Decodes a cursor for `sort`, or undefined when it is not one this endpoint issued for that sort. */
export function tryDecodeCursor(cursor: string, sort: Sort): CursorPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,500}$/.test(cursor)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [raw, id] = parsed as [unknown, unknown];
  if (typeof id !== 'string' || !OBJECT_ID.test(id)) return undefined;
  const value = valueFor(sort, raw);
  return value === undefined ? undefined : [value, new Types.ObjectId(id)];
}

/** Like tryDecodeCursor, but a bad cursor is a 400 naming `query.cursor`. */
export function decodeCursor(cursor: string, sort: Sort): CursorPosition {
  const position = tryDecodeCursor(cursor, sort);
  if (!position) throw badRequest('query.cursor is not a cursor this endpoint issued for this sort', [{ field: 'query.cursor', message: 'is invalid for this sort; start again without a cursor' }]);
  return position;
}

/** The cursor after `value` (the sort field of the last item) and `id`. */
export function encodeCursor(value: string | number, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}
