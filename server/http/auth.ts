import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role, User } from '../models';
import type { AuthService } from '../services/auth';
import { Forbidden, Unauthorized } from '../errors';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The logged-in, active user, loaded fresh on each request so role changes apply at once. */
      user?: User;
    }
  }
}

export function loadUser(auth: AuthService): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const id = req.session?.userId;
    if (id === undefined) return next();
    const user = await auth.sessionUser(id);
    if (user) req.user = user;
    else delete req.session.userId; // the account is gone or deactivated: the session no longer logs anyone in
    next();
  };
}

/** The current user, or a 401. Handlers call this instead of trusting req.user to be set. */
export function currentUser(req: Request): User {
  if (!req.user) throw new Unauthorized();
  return req.user;
}

export const requireUser: RequestHandler = (req, _res, next) => {
  currentUser(req);
  next();
};

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    const user = currentUser(req);
    if (!roles.includes(user.role)) throw new Forbidden();
    next();
  };
}
