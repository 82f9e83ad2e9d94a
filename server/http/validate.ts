import type { z } from 'zod';
import { ValidationError } from '../errors';

/** Parses input with a zod schema; failures become a 400 listing each field's problem. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  // An unknown key is named itself (`types.message.sms`), not its parent object, so the 400 points at it.
  const details = result.error.issues.flatMap((i) => {
    const base = i.path.map(String);
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ field: [...base, k].join('.'), message: `Unknown field "${k}".` }));
    return [{ field: base.join('.') || '(body)', message: i.message }];
  });
  throw new ValidationError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}
