import { Router } from 'express';
import { HttpError } from '../errors';
import { endUserSession, startUserSession } from '../http/login-session';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../services/demo-seed';
import { type WebDeps, homeFor, safeLocalPath, sendPage } from './context';
import { loginForm, parseForm } from './forms';

const DEMO_ADMIN = DEMO_LOGINS.find((d) => d.role === 'admin')!.email;

/** Login and logout. Both are POSTs with the CSRF token (the login form's is a signed anonymous token: no session is stored before login). */
export function authRoutes(web: WebDeps) {
  const router = Router();
  const { services, config } = web;

  /**
   * The demo logins, shown on the login page only when this database is the demo (SEED_DEMO on and the demo
   * admin exists). Once seen, remembered: the seed runs before the server listens and is never undone by it.
   */
  let demoSeen = false;
  async function demoLogins() {
    if (!config.seedDemo) return null;
    if (!demoSeen) {
      const { results } = await services.users.list({ role: 'admin', q: DEMO_ADMIN }, { page: 1, pageSize: 1 });
      demoSeen = results.some((u) => u.email === DEMO_ADMIN);
    }
    return demoSeen ? { logins: DEMO_LOGINS, password: DEMO_PASSWORD } : null;
  }

  router.get('/login', async function show(req, res) {
    if (req.user) return res.redirect(303, homeFor(req.user));
    await sendPage(web, req, res, 'pages/login.njk', { title: 'Log in', next: safeLocalPath(req.query.next) ?? '', demo: await demoLogins() });
  });

  router.post('/login', async function login(req, res) {
    const parsed = parseForm(loginForm, req.body);
    const email = parsed.ok ? parsed.data.email : String(req.body?.email ?? '').slice(0, 254);
    const next = safeLocalPath(req.body?.next) ?? '';
    let error = 'Enter your email and password.';
    let status = 401;
    if (parsed.ok && parsed.data.email && parsed.data.password) {
      try {
        const user = await services.auth.login(parsed.data.email, parsed.data.password, req.ip ?? 'unknown');
        await startUserSession(req, res, config, services.auth, user);
        return res.redirect(303, next || homeFor(user));
      } catch (err) {
        if (!(err instanceof HttpError) || (err.status !== 401 && err.status !== 429)) throw err;
        if (err.headers) res.set(err.headers);
        // A slowed-down form says so with the API's status (429 + Retry-After), not as a plain wrong password.
        status = err.status;
        error =
          err.status === 429
            ? `Too many attempts from here. Try again in ${err.headers?.['Retry-After'] ?? 'a few'} seconds.`
            : 'That email and password do not match an account.';
      }
    }
    await sendPage(web, req, res, 'pages/login.njk', { title: 'Log in', email, next, error, demo: await demoLogins() }, status);
  });

  router.post('/logout', async function logout(req, res) {
    await endUserSession(req, res, services.auth);
    // An htmx-driven logout must leave the page entirely, not swap the login form into it.
    if (req.get('HX-Request') === 'true') res.set('HX-Redirect', '/login');
    res.redirect(303, '/login');
  });

  return router;
}
