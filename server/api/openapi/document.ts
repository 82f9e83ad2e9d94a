import { z } from 'zod';
import { SESSION_COOKIE } from '../../http/session';
import { XSRF_COOKIE } from '../../http/security';
import { idempotencyHeaders, integerIds } from '../schemas';
import { components } from '../schemas/responses';
import { webhooksSection } from './webhooks';
import type { ApiOperation } from '../operation';
import { scopesOf } from '../mount';

type Json = Record<string, unknown>;

const COMPONENT_REF = '#/components/schemas/';
const MUTATING = new Set(['post', 'patch', 'delete']);

const INTRO = `
The JSON API of Herald, real-time notifications for a course platform: the same paths as the systems it
replaces, so their clients keep working.

- **Access tokens.** Scripts, services and apps send \`Authorization: Bearer hrld_...\` instead of a cookie: create
  one at \`/settings/tokens\` or with \`POST /api/tokens/\` (signed in). A token needs no CSRF token; each operation lists
  the scopes that may call it (any one of them), and the owner's role still applies. A missing scope is a 403
  \`insufficient_scope\`; an unknown, revoked or expired token a 401 \`invalid_token\` with
  \`WWW-Authenticate: Bearer error="invalid_token"\`.
- **Rate limits.** Every answer carries \`RateLimit-Limit\` (requests per minute), \`RateLimit-Remaining\` and
  \`RateLimit-Reset\` (seconds until the budget is whole again), counted per token, or per session for cookie
  clients, across all servers. Past it: 429 with \`Retry-After\`.
- **Sessions.** Browsers use cookie sessions (\`${SESSION_COOKIE}\`, HttpOnly, SameSite=Lax). Log in with
  \`POST /api/auth/login\`; send the cookie back on every request (\`credentials: 'include'\` from another origin
  of ours, which must be listed in \`ALLOWED_ORIGINS\` to get CORS headers).
- **CSRF.** Every POST, PATCH and DELETE needs the session's token: get one from \`GET /api/auth/csrf\` (before
  login) and use the one \`POST /api/auth/login\` returns afterwards. Send it as \`X-CSRF-Token\`, or mirror the
  \`${XSRF_COOKIE}\` cookie into \`X-XSRF-TOKEN\` (Angular's HttpClient does this by itself), or as a \`_csrf\`
  field. Requests from a foreign \`Origin\` are refused.
- **Bodies** are JSON (\`Content-Type: application/json\`, at most 64 KB); anything else is a 415.
- **Errors** are \`{"error": {"code", "message", "details"}}\` with a 4xx status for anything the client can fix.
- **Trailing slashes** are optional on every path: \`/api/notifications/\` and \`/api/notifications\` are the same.

**Try it with curl.** Set \`B=http://localhost:3000\` (your server's address; \`PORT\` changes it). Make a token
once, with a session (the demo logins are printed when the server starts):

- \`curl -c jar -b jar $B/api/auth/csrf\` → \`{"csrf_token": "<c1>", "user": null}\`
- \`curl -c jar -b jar -H 'X-CSRF-Token: <c1>' -H 'Content-Type: application/json'
  -d '{"email":"instructor@example.com","password":"demo1234"}' $B/api/auth/login\` → a new \`"csrf_token": "<c2>"\`
- \`curl -c jar -b jar -H 'X-CSRF-Token: <c2>' -H 'Content-Type: application/json'
  -d '{"name":"my script","scopes":["notifications:read","courses:notify"],"expires_in_days":30}' $B/api/tokens/\`
  → \`"token": "hrld_..."\`, shown this once

Then \`T=hrld_...\`, \`H="Authorization: Bearer $T"\`, one example per area (the scope each needs in brackets):

- Notifications (\`notifications:read\`): \`curl -H "$H" "$B/api/notifications/?status=unread"\`
- Marking read (\`notifications:write\`): \`curl -X POST -H "$H" $B/api/notifications/mark_all_read/\`
- The event stream (\`notifications:read\`): \`curl -N -H "$H" $B/api/notifications/stream/\`; after a
  disconnect, resume with the last \`id:\` you saw: \`curl -N -H "$H" -H 'Last-Event-ID: 42' $B/api/notifications/stream/\`
- Courses (\`courses:notify\`; yours are those of \`GET /api/courses/\` whose \`instructor.id\` is your \`GET /api/auth/me\`
  id): \`curl -H "$H" -H 'Content-Type: application/json' -H 'Idempotency-Key: week-3'
  -d '{"notification_type":"announcement","title":"Week 3","message":"Slides are up"}' $B/api/courses/1/notify-students/\`
- Webhooks (\`courses:notify\`, for a course of yours; admins: \`admin\` at \`/api/admin/webhooks/\`, no \`course_id\`):
  \`curl -H "$H" -H 'Content-Type: application/json'
  -d '{"url":"https://hooks.example.org/herald","events":["broadcast.sent"],"course_id":1}' $B/api/webhooks/\`
  → \`"secret": "whsec_..."\`, shown this once. Verify every request with it before trusting it, on the raw body:
  \`new Webhook(secret).verify(rawBody, req.headers)\` from the \`standardwebhooks\` npm package (or its other
  languages); deduplicate on \`webhook-id\`; answer 2xx within 10 s. The events and their bodies are listed below
  the operations. A plain-http or private-address URL is refused (\`forbidden_target\`) unless the server runs with
  \`OUTBOUND_ALLOW_PRIVATE=true\`.
- Applications (\`applications:read\`, \`applications:decide\`): \`curl -H "$H" $B/api/applications/\`,
  then \`curl -X POST -H "$H" $B/api/applications/7/approve/\`
- Admin (\`admin\`): \`curl -H "$H" $B/api/admin/stats/\`
`.trim();

const RATE_HEADERS = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimit-Limit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimit-Remaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimit-Reset' },
};

/** Zod's JSON Schema, tidied for readers: no per-schema `$schema`/`$id`, no safe-integer bounds or date regexes. */
function tidy(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(tidy);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema' || k === '$id') continue;
    if ((k === 'minimum' || k === 'maximum') && Math.abs(v as number) === Number.MAX_SAFE_INTEGER) continue;
    if (k === 'pattern' && (schema as Json).format !== undefined) continue;
    // Registered schemas met inside an inline one are components, not local definitions.
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
      out[k] = COMPONENT_REF + v.slice('#/$defs/'.length);
      continue;
    }
    if (k === '$defs') continue;
    out[k] = tidy(v);
  }
  return out;
}

/** Ids also accept their digits as a string (for paths and queries); readers and client generators see integers. */
function documentIdsAsIntegers(ctx: { zodSchema: unknown; jsonSchema: Json }) {
  if (!integerIds.has(ctx.zodSchema as z.ZodType)) return;
  const max = (ctx.zodSchema as z.ZodPipe<z.ZodType, z.ZodNumber>).out.maxValue;
  for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
  Object.assign(ctx.jsonSchema, { type: 'integer', minimum: 1, ...(max !== null && max < Number.MAX_SAFE_INTEGER ? { maximum: max } : {}) });
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const id = components.get(schema)?.id;
  if (id && io === 'output') return { $ref: COMPONENT_REF + id };
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    metadata: components,
    unrepresentable: 'any',
    override: documentIdsAsIntegers,
  });
  return tidy(json) as Json;
}

function errorResponse(description: string, status?: number): Json {
  const headers = status === 429 ? { ...RATE_HEADERS, 'Retry-After': { $ref: '#/components/headers/Retry-After' } } : RATE_HEADERS;
  return { description, headers, content: { 'application/json': { schema: { $ref: `${COMPONENT_REF}Error` } } } };
}

/** The error statuses an operation can answer, from what it declares. */
function errorsOf(op: ApiOperation): Record<number, string> {
  const errors: Record<number, string[]> = {};
  const add = (status: number, why: string) => (errors[status] ??= []).push(why);
  const mutating = MUTATING.has(op.method);
  if (op.params || op.query || op.headers || op.body || mutating) {
    add(400, mutating ? 'The body is not valid JSON, or a field is invalid.' : 'A parameter is invalid.');
  }
  if (op.access !== 'anyone') add(401, 'Not logged in.');
  add(401, 'The bearer token is unknown, revoked or expired (`invalid_token`).');
  if (Array.isArray(op.access)) add(403, `Only for: ${op.access.join(', ')}.`);
  if (op.access !== 'anyone') add(403, 'The bearer token lacks the scope (`insufficient_scope`).');
  if (mutating) add(403, 'The CSRF token is missing or wrong, or the request came from a foreign origin.');
  if (op.params) add(404, 'Not found, or not yours.');
  if (mutating) {
    add(413, 'The body is larger than 64 KB.');
    add(415, 'The body is not application/json.');
  }
  for (const [status, why] of Object.entries(op.errors ?? {})) add(Number(status), why);
  add(429, 'Over the rate limit (`rate_limited`): wait `Retry-After` seconds.');
  if (op.idempotent) {
    add(409, 'The Idempotency-Key was already used for a different request (`idempotency_key_reused`).');
  }
  return Object.fromEntries(Object.entries(errors).map(([s, whys]) => [s, whys.join(' Or: ')]));
}

function parametersOf(op: ApiOperation): Json[] {
  const out: Json[] = [];
  for (const [name, schema] of Object.entries(op.params ?? {})) {
    out.push({ name, in: 'path', required: true, schema: toSchema(schema, 'input') });
  }
  const headers = op.idempotent ? (op.headers ? op.headers.extend(idempotencyHeaders.shape) : idempotencyHeaders) : op.headers;
  for (const [where, object] of [['query', op.query], ['header', headers]] as const) {
    if (!object) continue;
    const json = toSchema(object, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      out.push({
        name,
        in: where,
        required: json.required?.includes(name) ?? false,
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

/** Alternatives: the session (with CSRF when mutating), or a bearer token with any one of the operation's scopes. */
function securityOf(op: ApiOperation): Json[] {
  const mutating = MUTATING.has(op.method);
  if (op.access === 'anyone') return mutating ? [{ session: [], csrf: [] }] : [];
  const session = mutating ? { session: [], csrf: [] } : { session: [] };
  const scopes = scopesOf(op);
  if (scopes === 'session') return [session];
  return [session, ...(scopes.length === 0 ? [{ bearer: [] }] : scopes.map((s) => ({ bearer: [s] })))];
}

function operationObject(op: ApiOperation): Json {
  const access =
    op.access === 'anyone' ? 'No login needed.' : op.access === 'user' ? 'Any signed-in user.' : `Roles: ${op.access.join(', ')}.`;
  const responses: Json = {};
  for (const [status, r] of Object.entries(op.responses)) {
    if (!r.schema && !r.contentType) {
      responses[status] = { description: r.description, headers: RATE_HEADERS };
      continue;
    }
    const contentType = r.contentType ?? 'application/json';
    responses[status] = {
      description: r.description,
      headers: RATE_HEADERS,
      content: { [contentType]: r.schema ? { schema: toSchema(r.schema, 'output') } : {} },
    };
  }
  for (const [status, why] of Object.entries(errorsOf(op))) responses[status] = errorResponse(why, Number(status));
  const parameters = parametersOf(op);
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: [op.description, access].filter(Boolean).join('\n\n'),
    ...(op.deprecated ? { deprecated: true } : {}),
    security: securityOf(op),
    // Machine-readable form of the access line, for clients and for the tests that call every operation.
    'x-access': op.access,
    // Which token scopes may call it (any one; [] any token); 'session': tokens may not.
    'x-scopes': scopesOf(op),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.safeParse({}).success,
            content: { 'application/json': { schema: toSchema(op.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/**
 * Builds the OpenAPI 3.1 document from the operations. Throws on a duplicate operation id or method+path, so
 * a mistake shows at start and in the tests rather than in a client's generated code.
 */
export function buildOpenApiDocument(operations: readonly ApiOperation[], info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  const ids = new Set<string>();
  const tags: string[] = [];
  for (const op of operations) {
    if (ids.has(op.operationId)) throw new Error(`OpenAPI: duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
    const item = (paths[op.path] ??= {});
    if (item[op.method]) throw new Error(`OpenAPI: ${op.method.toUpperCase()} ${op.path} is documented twice`);
    item[op.method] = operationObject(op);
    if (!tags.includes(op.tag)) tags.push(op.tag);
  }
  // Every registered component is published (Error included, which every error answer refers to).
  const { schemas } = z.toJSONSchema(components, {
    target: 'draft-2020-12',
    io: 'output',
    uri: (id) => COMPONENT_REF + id,
    metadata: components,
    unrepresentable: 'any',
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Herald JSON API', version: info.version, description: INTRO },
    servers: [{ url: '/api' }],
    tags: tags.map((name) => ({ name })),
    paths,
    webhooks: webhooksSection(),
    components: {
      schemas: tidy(schemas),
      headers: {
        'RateLimit-Limit': { description: 'Requests allowed per minute.', schema: { type: 'integer' } },
        'RateLimit-Remaining': { description: 'Requests left in the current minute.', schema: { type: 'integer' } },
        'RateLimit-Reset': { description: 'Seconds until the budget is whole again.', schema: { type: 'integer' } },
        'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'hrld_ personal access token',
          description:
            'A personal access token, `Authorization: Bearer hrld_...`. The scopes listed with an operation are ' +
            'alternatives: the token needs one of them. No CSRF token with a bearer token.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'The session cookie, set by `POST /api/auth/login` (no session exists before login).',
        },
        csrf: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: `The session's CSRF token. \`X-XSRF-TOKEN\` (mirroring the \`${XSRF_COOKIE}\` cookie) works too.`,
        },
      },
    },
  };
}
