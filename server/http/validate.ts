import type { z } from 'zod';
import { ValidationError } from '../errors';

/** Parses input with a zod schema; failures become a 400 listing each field's problem. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  throw new ValidationError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}
