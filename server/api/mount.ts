import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { HttpError, ServiceUnavailable } from '../errors';
import { currentUser, requireRole, requireUser } from '../http/auth';
import { sameAnswer, underIdempotencyKey } from '../http/idempotency';
import { parse } from '../http/validate';
import type { Access, ApiDeps, ApiOperation, OperationContext, Scopes } from './operation';
import { idempotencyHeaders } from './schemas';

const pass: RequestHandler = (_req, _res, next) => next();

/** A process without the realtime layer (the API alone, in tests) has no streams to offer. */
const noStreams = {
  open() {
    throw new ServiceUnavailable('Live streams are not served by this process.');
  },
};

function guard(access: Access): RequestHandler {
  if (access === 'anyone') return pass;
  if (access === 'user') return requireUser;
  return requireRole(...access);
}

/** What a token must hold for this operation; `'session'` when tokens may not call it (the default). */
export function scopesOf(op: Pick<ApiOperation, 'access' | 'scopes'>): Scopes {
  if (op.access === 'anyone') return [];
  return op.scopes ?? 'session';
}

class InsufficientScope extends HttpError {
  constructor(needed: Scopes) {
    super(
      403,
      'insufficient_scope',
      needed === 'session'
        ? 'Access tokens cannot call this operation: sign in with a session.'
        : `The access token lacks the scope this operation needs: one of ${needed.join(', ')}.`,
      { required_scopes: needed === 'session' ? [] : needed },
      { 'WWW-Authenticate': `Bearer error="insufficient_scope"${needed === 'session' ? '' : `, scope="${needed.join(' ')}"`}` },
    );
  }
}

/** A bearer request needs one of the operation's scopes; a session request is judged by role alone, as before. */
function scopeGuard(op: ApiOperation): RequestHandler {
  const needed = scopesOf(op);
  if (op.access === 'anyone') return pass;
  return (req, _res, next) => {
    const token = req.token;
    if (token && (needed === 'session' || (needed.length > 0 && !needed.some((s) => token.scopes.includes(s))))) {
      throw new InsufficientScope(needed);
    }
    next();
  };
}

/** `/courses/{id}/applications` as Express writes it: `/courses/:id/applications`. */
const expressPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * Literal segments before parameters at the first place two paths differ, so `/notifications/unread_count`
 * is tried before `/notifications/{id}` (whose id would refuse it with a 400) whatever the declaration order.
 */
function bySpecificity(a: ApiOperation, b: ApiOperation): number {
  const sa = a.path.split('/');
  const sb = b.path.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = sa[i].startsWith('{');
    const pb = sb[i].startsWith('{');
    if (pa !== pb) return pa ? 1 : -1;
  }
  return 0;
}

/** The console leaves a cleared filter as `?type=`: for the operations that say so, that is "no filter". */
function withoutBlanks(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
}

/** The operation's inputs, each parsed with its own schema; a failure is a 400 naming the field. */
function inputsOf(op: ApiOperation, req: Parameters<RequestHandler>[0]) {
  // As one object, so that a bad one is named (`id`), as query and body fields are.
  const names = Object.keys(op.params ?? {});
  const params = names.length === 0 ? {} : parse(z.object(op.params!), Object.fromEntries(names.map((n) => [n, req.params[n]])));
  const query = op.query && parse(op.query, op.blankQueryIsAbsent ? withoutBlanks(req.query) : req.query);
  const headers =
    op.headers && parse(op.headers, Object.fromEntries(Object.keys(op.headers.shape).map((h) => [h, req.get(h)])));
  const body = op.body && parse(op.body, req.body);
  return { params, query, headers, body };
}

/**
 * The Express router of a list of operations: for each one its access guard, then its inputs parsed with its
 * schemas, then its handler. Express's non-strict routing makes every trailing slash optional. Nothing is
 * mounted that the list does not declare, so the OpenAPI document built from the same list is complete.
 */
export function operationsRouter(operations: readonly ApiOperation[], deps: ApiDeps): Router {
  const router = Router();
  const base = {
    ...deps,
    socketsOpen: deps.socketsOpen ?? (async () => 0),
    eventStreams: deps.eventStreams ?? noStreams,
    operations,
  };
  for (const op of [...operations].sort(bySpecificity)) {
    router[op.method](expressPath(op.path), scopeGuard(op), guard(op.access), async (req, res) => {
      const inputs = inputsOf(op, req);
      const key = op.idempotent ? parse(idempotencyHeaders, { 'Idempotency-Key': req.get('Idempotency-Key') })['Idempotency-Key'] : undefined;
      const ctx = { ...base, req, user: req.user, ...inputs, idempotencyKey: key } as OperationContext;
      if (key === undefined || !op.idempotent) return op.handler(ctx, res);
      const replay = op.idempotent === true ? sameAnswer : op.idempotent;
      await underIdempotencyKey(deps.services.idempotency, currentUser(req).id, key, req, res, replay, () => op.handler(ctx, res));
    });
  }
  return router;
}
