import { Router } from 'express';
import type { Config } from '../config';
import { currentUser } from '../http/auth';
import { SESSION_COOKIE } from '../http/session';
import { issueCsrfToken, XSRF_COOKIE } from '../http/security';
import { parse } from '../http/validate';
import type { Services } from '../services';
import { toUserJSON } from '../services/auth';
import * as schemas from './schemas';

export function authRoutes({ services, config }: { services: Services; config: Config }) {
  const router = Router();

  // Starts an anonymous session, so even the login form is CSRF-protected.
  router.get('/csrf', (req, res) => {
    res.json({ csrf_token: issueCsrfToken(req, res, config) });
  });

  router.post('/login', async function login(req, res) {
    const { email, password } = parse(schemas.login, req.body);
    const user = await services.auth.login(email, password, req.ip ?? 'unknown');
    // A fresh session id on login defeats session fixation; the CSRF token is renewed with it.
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    req.session.userId = user.id;
    const csrf_token = issueCsrfToken(req, res, config, true);
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    res.json({ user: toUserJSON(user), csrf_token });
  });

  router.post('/logout', async function logout(req, res) {
    const sid = req.sessionID;
    if (req.session) {
      await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
      services.auth.sessionEnded(sid);
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.clearCookie(XSRF_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.get('/me', function me(req, res) {
    res.json({ user: toUserJSON(currentUser(req)) });
  });

  return router;
}
