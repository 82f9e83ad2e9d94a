import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Role, User } from '../models';
import type { Replay } from '../http/idempotency';
import type { EventStreams } from '../realtime/sse';
import type { Services } from '../services';
import type { Scope } from '../services/tokens';

/** `anyone`: no login needed; `user`: any signed-in user; a list of roles: only those (others get 403). */
export type Access = 'anyone' | 'user' | readonly Role[];
export type ParamSchemas = Record<string, z.ZodType>;
/**
 * What an access token needs to call an operation: any one of these scopes (`[]`: any valid token). `'session'`:
 * no token at all, only a signed-in browser session (minting tokens, candidate-only actions no scope covers).
 */
export type Scopes = readonly Scope[] | 'session';

/** What the process gives the API; every handler receives it in its context. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  services: Services;
  /** Open WebSocket connections across all processes, for the admin dashboard; 0 without a realtime layer. */
  socketsOpen?: () => Promise<number>;
  /** The in-app channel's event streams; without a realtime layer the stream answers 503. */
  eventStreams?: EventStreams;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/**
 * What a handler receives: the process's dependencies, the operations being served (the docs describe exactly
 * those), the caller, and its request already parsed with the operation's own schemas.
 */
export type OperationContext<
  A extends Access = Access,
  P extends ParamSchemas = ParamSchemas,
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
  H extends z.ZodObject | undefined = z.ZodObject | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> = Required<ApiDeps> & {
  operations: readonly ApiOperation[];
  req: Request;
  /** Guaranteed by the access guard, unless the operation is open to anyone. */
  user: A extends 'anyone' ? User | undefined : User;
  params: { [K in keyof P]: z.output<P[K]> };
  query: Out<Q>;
  headers: Out<H>;
  body: Out<B>;
  /** The request's `Idempotency-Key`, on operations declared `idempotent` (already checked and claimed). */
  idempotencyKey: string | undefined;
};

/** One successful answer: a schema with `.meta({ id })` is a `$ref` to that component; no schema, no body. */
export interface ApiResponse {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/**
 * One operation of the JSON API, declared once: the router mounts it (guard, parsing, handler) and the OpenAPI
 * document describes it, both from this object, so what is served and what is documented cannot disagree.
 * Statuses every such endpoint can answer (400, 401, 403, 404, 413, 415) are added by the document builder
 * from `access`, `params`, `query`, `body` and the method; list only the others in `errors`.
 */
export interface OperationSpec<
  A extends Access = Access,
  P extends ParamSchemas = ParamSchemas,
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
  H extends z.ZodObject | undefined = z.ZodObject | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Relative to /api, in OpenAPI form (`/notifications/{id}/mark_read`). A trailing slash is always optional. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  access: A;
  /**
   * Which token scopes may call it (see `Scopes`); the role rule in `access` still applies to the token's owner.
   * Left out: tokens are refused (`'session'`), so a new operation is closed to tokens until it says otherwise.
   * Operations open to anyone need no scope.
   */
  scopes?: Scopes;
  /** Path parameters by name. */
  params?: P;
  /** The query schema; each of its properties becomes a query parameter. */
  query?: Q;
  /** An empty query value (`?type=`, a cleared filter) means the parameter is absent, not invalid. */
  blankQueryIsAbsent?: boolean;
  /** The request headers it reads (beyond session and CSRF); each property becomes a header parameter. */
  headers?: H;
  /** The JSON body schema. The body is marked required when `{}` does not satisfy it. */
  body?: B;
  /** Successful answers by status. */
  responses: Record<number, ApiResponse>;
  /** Error answers specific to this endpoint (409, 429, ...), by status. */
  errors?: Record<number, string>;
  deprecated?: boolean;
  /**
   * A POST that creates notifications or records honours `Idempotency-Key` (see server/http/idempotency.ts):
   * `true` replays the first answer as it was; a function shapes the replay (notify-students says `replayed`).
   */
  idempotent?: true | Replay;
  /** Named for its action (`list`, `markRead`); Express 5 forwards what it throws to the API's error renderer. */
  handler: (ctx: OperationContext<A, P, Q, H, B>, res: Response) => unknown;
}

/** An operation with its types erased, as lists hold them; `operation()` checked the handler against its schemas. */
export type ApiOperation = Omit<OperationSpec, 'handler'> & {
  handler: (ctx: OperationContext, res: Response) => unknown;
};

/**
 * Declares an operation: infers the handler's context (parsed params, query, headers, body; the user) from the
 * schemas next to it, then erases those types so operations of every shape fit in one list.
 */
export function operation<
  const A extends Access,
  P extends ParamSchemas = Record<never, z.ZodType>,
  Q extends z.ZodObject | undefined = undefined,
  H extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: OperationSpec<A, P, Q, H, B>): ApiOperation {
  return spec as unknown as ApiOperation;
}

/**
 * Another path for an existing operation, answered by the same handler and documented as a deprecated alias
 * (the first original system's `/api/notifications/notifications/...` paths).
 */
export function alias(
  of: ApiOperation,
  at: { method: ApiOperation['method']; path: string; operationId: string; tag: string },
): ApiOperation {
  return {
    ...of,
    ...at,
    description: `Alias of \`${of.method.toUpperCase()} /api${of.path}\`, kept for the first original system’s clients.`,
    deprecated: true,
  };
}
