import type { Request, Response } from 'express';
import type { Config } from '../config';
import type { User } from '../models';
import type { AuthService } from '../services/auth';
import { ANON_CSRF_COOKIE, issueCsrfToken, XSRF_COOKIE } from './security';
import { SESSION_COOKIE } from './session';

/**
 * Binds `user` to a fresh session (a new id defeats session fixation) with a new CSRF token, and returns the
 * token. Logging in over someone else's session (a shared browser) ends that session's sockets too, so the
 * previous user's tabs stop receiving their pushes at once.
 */
export async function startUserSession(req: Request, res: Response, config: Config, auth: AuthService, user: User) {
  const previous = req.session.userId !== undefined ? req.sessionID : undefined;
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  if (previous) auth.sessionEnded(previous);
  req.session.userId = user.id;
  const token = issueCsrfToken(req, res, config, true);
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  return token;
}

/** Destroys the session, closes its sockets and clears the cookies (the next anonymous token starts afresh). */
export async function endUserSession(req: Request, res: Response, auth: AuthService) {
  const sid = req.sessionID;
  if (req.session) {
    await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
    auth.sessionEnded(sid);
  }
  res.clearCookie(SESSION_COOKIE, { path: '/' });
  res.clearCookie(XSRF_COOKIE, { path: '/' });
  res.clearCookie(ANON_CSRF_COOKIE, { path: '/' });
}
