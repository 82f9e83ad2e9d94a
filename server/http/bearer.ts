import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { HttpError } from '../errors';
import type { Scope, TokenCaller, TokenService } from '../services/tokens';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set when the request came with a valid `Authorization: Bearer hrld_...`: it, not the cookie, decides. */
      token?: { id: number; scopes: readonly Scope[] };
    }
  }
}

/** RFC 6750's answer to a token that is unknown, revoked or expired. */
export class InvalidToken extends HttpError {
  constructor() {
    super(401, 'invalid_token', 'The access token is unknown, revoked or expired.', undefined, {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
}

/** The token of an `Authorization: Bearer ...` header; undefined when there is no bearer header at all. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** Checks a bearer token wherever one can arrive (a request, a socket upgrade): the caller, or null. */
export async function tokenCaller(tokens: TokenService, req: IncomingMessage): Promise<TokenCaller | null | undefined> {
  const token = bearerToken(req);
  return token === undefined ? undefined : tokens.authenticate(token);
}

/**
 * Bearer authentication for the API. A request carrying a token is judged by the token alone: its owner becomes
 * `req.user` (whatever session cookie came along) and `req.token` holds its scopes, which the operation's scope
 * check reads. A token is no ambient credential (a browser never attaches one by itself), so CSRF does not apply.
 */
export function bearerAuth(tokens: TokenService): RequestHandler {
  return async (req, _res, next) => {
    const caller = await tokenCaller(tokens, req);
    if (caller === undefined) return next();
    if (caller === null) throw new InvalidToken();
    req.user = caller.user;
    req.token = { id: caller.tokenId, scopes: caller.scopes };
    next();
  };
}
