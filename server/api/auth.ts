import { Router } from 'express';
import type { Config } from '../config';
import { currentUser } from '../http/auth';
import { endUserSession, startUserSession } from '../http/login-session';
import { issueCsrfToken } from '../http/security';
import { parse } from '../http/validate';
import type { Services } from '../services';
import { toUserJSON } from '../services/auth';
import * as schemas from './schemas';

export function authRoutes({ services, config }: { services: Services; config: Config }) {
  const router = Router();

  // Starts an anonymous session, so even the login form is CSRF-protected. Also says who is signed in,
  // so a client can probe its session without a 401 from /me.
  router.get('/csrf', (req, res) => {
    res.json({ csrf_token: issueCsrfToken(req, res, config), user: req.user ? toUserJSON(req.user) : null });
  });

  router.post('/login', async function login(req, res) {
    const { email, password } = parse(schemas.login, req.body);
    const user = await services.auth.login(email, password, req.ip ?? 'unknown');
    const csrf_token = await startUserSession(req, res, config, services.auth, user);
    res.json({ user: toUserJSON(user), csrf_token });
  });

  router.post('/logout', async function logout(req, res) {
    await endUserSession(req, res, services.auth);
    res.status(204).end();
  });

  router.get('/me', function me(req, res) {
    res.json({ user: toUserJSON(currentUser(req)) });
  });

  return router;
}
