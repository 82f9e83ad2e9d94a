import type { z } from 'zod';
import type { Role } from '../../models';

/**
 * One documented endpoint of the JSON API. The request schemas are the very zod schemas the handlers parse
 * with, and responses are the component schemas the service types are checked against, so the document says
 * what the code does.
 * Statuses every such endpoint can answer (400, 401, 403, 404, 413, 415) are added by the document builder
 * from `access`, `params`, `query`, `body` and the method; list only the others in `errors`.
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Relative to /api, in OpenAPI form (`/notifications/{id}/mark_read`). A trailing slash is always optional. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** `anyone`: no login needed; `user`: any signed-in user; a list of roles: only those (others get 403). */
  access: 'anyone' | 'user' | readonly Role[];
  /** Path parameters by name. */
  params?: Record<string, z.ZodType>;
  /** The query schema; each of its properties becomes a query parameter. */
  query?: z.ZodObject;
  /** The request headers it reads (beyond session and CSRF); each property becomes a header parameter. */
  headers?: z.ZodObject;
  /** The JSON body schema. The body is marked required when `{}` does not satisfy it. */
  body?: z.ZodType;
  /** Successful answers by status. A schema with `.meta({ id })` is a `$ref` to that component; no schema, no body. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  /** Error answers specific to this endpoint (409, 429, ...), by status. */
  errors?: Record<number, string>;
  deprecated?: boolean;
}
