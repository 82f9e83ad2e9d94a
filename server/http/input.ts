import type { Request, RequestHandler } from 'express';
import { BadRequest } from '../errors';

// PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate has no UTF-8 form (jsonb refuses it; text would get
// it mangled). JSON escapes (\u0000, \ud800) and percent-encoding (%00) both decode to them.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when PostgreSQL can store the text as it is. */
export const storable = (s: string): boolean => !UNSTORABLE.test(s);

export const UNSTORABLE_MESSAGE = 'The request contains characters we cannot store (a NUL byte or a broken character).';

/**
 * Whether any string in a parsed value (keys included) is unstorable. Walks without recursion, so a deeply
 * nested JSON body cannot overflow the stack.
 */
function anyUnstorable(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (!storable(value)) return true;
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (!storable(k)) return true;
        stack.push(v);
      }
    }
  }
  return false;
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
 * error renderer answers (JSON on the API, a page or an htmx toast on pages). Headers need no check: Node's
 * parser already refuses NUL in them, and the one header we store (Idempotency-Key) is printable ASCII by schema.
 */
export const refuseUnstorable: RequestHandler = (req, _res, next) => {
  if (anyUnstorable(pathSegments(req)) || anyUnstorable(req.query) || anyUnstorable(req.body)) {
    throw new BadRequest(UNSTORABLE_MESSAGE);
  }
  next();
};
