import type { Request, RequestHandler } from 'express';
import { ValidationError } from '../errors';

// PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate has no UTF-8 form (jsonb refuses it; text would get
// it mangled). JSON escapes (\u0000, \ud800) and percent-encoding (%00) both decode to them.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when PostgreSQL can store the text as it is. */
export const storable = (s: string): boolean => !UNSTORABLE.test(s);

const MESSAGE = 'contains characters we cannot store (a NUL byte or a broken character)';

/** Where a value sits in a parsed input: a linked list, so walking a deep body copies no paths. */
interface At {
  key: string;
  parent: At | null;
}
const dotted = (at: At | null, last?: string): string => {
  const keys = last === undefined ? [] : [last];
  for (let a = at; a; a = a.parent) keys.unshift(a.key);
  return keys.join('.') || '(body)';
};

/**
 * The first unstorable string in a parsed value (keys included), as the dotted path of its field, or null.
 * Walks without recursion, so a deeply nested JSON body cannot overflow the stack.
 */
function firstUnstorable(root: unknown): string | null {
  const stack: Array<[unknown, At | null]> = [[root, null]];
  while (stack.length > 0) {
    const [value, at] = stack.pop()!;
    if (typeof value === 'string') {
      if (!storable(value)) return dotted(at);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (!storable(k)) return dotted(at, '(key)');
        stack.push([v, { key: k, parent: at }]);
      }
    }
  }
  return null;
}

/** The path's segments as route parameters will see them (decoded); a malformed escape is Express's own 400. */
function pathSegments(req: Request): string[] {
  return req.path.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return '';
    }
  });
}

/**
 * Refuses, with a 400, any request whose path, query or parsed body holds text PostgreSQL cannot store, so no
 * handler and no schema has to remember to. Mount it right after each sub-app's body parser; each sub-app's own
 * error renderer answers (JSON on the API, a page or an htmx toast on pages), naming the field as a failed schema
 * would. Headers need no check: Node's parser already refuses NUL in them, and the one header we store
 * (Idempotency-Key) is printable ASCII by schema.
 */
export const refuseUnstorable: RequestHandler = (req, _res, next) => {
  const field =
    (pathSegments(req).every(storable) ? null : '(path)') ?? firstUnstorable(req.query) ?? firstUnstorable(req.body);
  if (field !== null) throw new ValidationError(`${field}: ${MESSAGE}`, [{ field, message: MESSAGE }]);
  next();
};
