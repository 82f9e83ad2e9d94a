import { endUserSession, startUserSession } from '../http/login-session';
import { issueCsrfToken } from '../http/security';
import { toUserJSON } from '../wire';
import { operation } from './operation';
import * as schemas from './schemas';
import { CsrfTokenSchema, LoginResultSchema, MeSchema } from './schemas/responses';

const tag = 'Auth';

// --- a CSRF token before login, so even the login request is CSRF-protected

const csrf = operation({
  method: 'get',
  path: '/auth/csrf',
  operationId: 'getCsrfToken',
  tag,
  summary: 'Get the session’s CSRF token',
  description:
    'Before login the token is signed and bound to a random `herald.csrf` cookie (no session is stored for an ' +
    'anonymous client), so even the login request is CSRF-protected; after login it is the session’s own. ' +
    'The token is also set in the `XSRF-TOKEN` cookie, for clients that mirror it into `X-XSRF-TOKEN`. ' +
    'The answer also carries the signed-in user (null when anonymous), so a client can learn whether it is ' +
    'signed in without a 401 from `GET /auth/me`.',
  access: 'anyone',
  responses: { 200: { description: 'The token and the signed-in user, if any.', schema: CsrfTokenSchema } },
  handler: function csrfToken({ req, user, config }, res) {
    res.json({ csrf_token: issueCsrfToken(req, res, config), user: user ? toUserJSON(user) : null });
  },
});

// --- logging in and out

const login = operation({
  method: 'post',
  path: '/auth/login',
  operationId: 'login',
  tag,
  summary: 'Log in with email and password',
  description:
    'Needs the anonymous CSRF token from `GET /auth/csrf`. On success a session is stored and a new CSRF ' +
    'token is returned. An unknown email and a wrong password get the same answer. Failed attempts are ' +
    'limited per account and per client address.',
  access: 'anyone',
  body: schemas.login,
  responses: { 200: { description: 'Logged in.', schema: LoginResultSchema } },
  errors: { 401: 'Invalid email or password.', 429: 'Too many failed attempts; see the Retry-After header.' },
  handler: async function login({ req, body, services, config }, res) {
    const user = await services.auth.login(body.email, body.password, req.ip ?? 'unknown');
    const csrf_token = await startUserSession(req, res, config, services.auth, user);
    res.json({ user: toUserJSON(user), csrf_token });
  },
});

const logout = operation({
  method: 'post',
  path: '/auth/logout',
  operationId: 'logout',
  tag,
  summary: 'Log out',
  description: 'Destroys the session and clears its cookies.',
  access: 'anyone',
  responses: { 204: { description: 'Logged out.' } },
  handler: async function logout({ req, services }, res) {
    await endUserSession(req, res, services.auth);
    res.status(204).end();
  },
});

// --- who is signed in

const me = operation({
  method: 'get',
  path: '/auth/me',
  operationId: 'getMe',
  tag,
  summary: 'The signed-in user',
  access: 'user',
  scopes: [],
  responses: { 200: { description: 'The user.', schema: MeSchema } },
  handler: function me({ user }, res) {
    res.json({ user: toUserJSON(user) });
  },
});

export const authOperations = [csrf, login, logout, me];
