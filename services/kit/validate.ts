import type { z } from 'zod';
import { badRequest, type FieldError } from './errors.js';

export type InputLocation = 'body' | 'query' | 'params' | 'header';

/**
 * Finds keys that MongoDB would read as operators or paths (`$gt`, `a.b`) anywhere
 * in a parsed JSON value. Such input never reaches a query (operator injection).
 */
export function findOperatorKeys(value: unknown, path: string, found: FieldError[] = [], depth = 0): FieldError[] {
  if (depth > 32) {
    found.push({ field: path, message: 'is nested too deeply' });
    return found;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => findOperatorKeys(item, `${path}[${index}]`, found, depth + 1));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      if (key.startsWith('$') || key.includes('.') || key.includes('\0')) {
        found.push({ field: childPath, message: 'operator-like keys are not allowed' });
      } else {
        findOperatorKeys(child, childPath, found, depth + 1);
      }
    }
  }
  return found;
}

function toFieldErrors(error: z.ZodError, where: InputLocation): FieldError[] {
  return error.issues.map((issue) => ({
    field: [where, ...issue.path].join('.'),
    message: issue.message,
  }));
}

/**
 * Validates one part of a request against a zod schema (use `.strict()` objects so
 * unknown fields are named, not silently dropped). Throws a 400 naming each field.
 * Operator-like keys never get here: `rejectOperatorInput` refuses them for every request.
 */
export function validate<S extends z.ZodTypeAny>(schema: S, data: unknown, where: InputLocation): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    const fields = toFieldErrors(result.error, where);
    throw badRequest(`${fields.map((f) => f.field).join(', ')} invalid`, fields);
  }
  return result.data;
}
