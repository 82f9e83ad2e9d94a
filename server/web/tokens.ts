import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { NotFound } from '../errors';
import { currentUser, requireUser } from '../http/auth';
import { grantableScopes, SCOPES, type CreatedToken } from '../services/tokens';
import { type WebDeps, isHtmx, renderView, sendPage } from './context';
import { type FieldErrors, id, parseForm } from './forms';

/** What each scope lets a token do, in the words the page shows. */
const SCOPE_LABELS: Record<(typeof SCOPES)[number], string> = {
  'notifications:read': 'Read my notifications and follow them live',
  'notifications:write': 'Mark my notifications read, delete them',
  'courses:notify': 'Send announcements to my courses’ students',
  'applications:read': 'Read applications',
  'applications:decide': 'Approve and reject applications',
  admin: 'Everything the admin console can do',
};

const EXPIRY_OPTIONS = [
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: 'A year' },
  { value: 'never', label: 'Never' },
];

/** A form posts one checkbox value as a string and several as an array. */
const asList = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const createForm = z.object({
  name: z.string({ error: 'Name is required.' }).trim().min(1, 'Name is required.').max(100, 'At most 100 characters.'),
  scopes: z.preprocess(asList, z.array(z.enum(SCOPES, { error: 'Unknown scope.' })).min(1, 'Choose at least one scope.')),
  expires: z.enum(['7', '30', '90', '365', 'never'], { error: 'Choose an expiry.' }),
});

/**
 * `/settings/tokens`: a user's personal access tokens for the API. One panel (partials/token-panel.njk) owns
 * itself: creating or revoking re-renders it for htmx; plain forms get the whole page (create) or a redirect back
 * (revoke). A new token's secret is rendered into that one answer and never again.
 */
export function tokenRoutes(web: WebDeps) {
  const router = Router();
  const { services } = web;
  router.use('/settings/tokens', requireUser);

  async function panel(req: Request, res: Response, extra: { created?: CreatedToken; errors?: FieldErrors; form?: object } = {}, status = 200) {
    const user = currentUser(req);
    const ctx = {
      title: 'Access tokens',
      tokens: await services.tokens.list(user.id),
      scopeOptions: grantableScopes(user.role).map((value) => ({ value, label: SCOPE_LABELS[value] })),
      expiryOptions: EXPIRY_OPTIONS,
      errors: {},
      form: { expires: '90', scopes: [] },
      now: new Date(),
      ...extra,
    };
    if (isHtmx(req)) return res.status(status).type('html').send(renderView(web, req, res, 'partials/token-panel.njk', ctx));
    await sendPage(web, req, res, 'pages/tokens.njk', ctx, status);
  }

  router.get('/settings/tokens', async function list(req, res) {
    await panel(req, res);
  });

  router.post('/settings/tokens', async function create(req, res) {
    // A POST without a form body (no Content-Type) leaves req.body undefined: an empty form, not a crash.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = parseForm(createForm, body);
    if (!parsed.ok) return panel(req, res, { errors: parsed.errors, form: { ...body, scopes: asList(body.scopes) } }, 422);
    const { name, scopes, expires } = parsed.data;
    // A scope above the role is refused by the service (403) and shown as the page's error.
    const created = await services.tokens.create(currentUser(req), {
      name,
      scopes,
      expiresInDays: expires === 'never' ? null : Number(expires),
    });
    await panel(req, res, { created }, 201);
  });

  router.post('/settings/tokens/:tokenId/revoke', async function revoke(req, res) {
    const tokenId = id.safeParse(req.params.tokenId);
    if (!tokenId.success) throw new NotFound('Token');
    await services.tokens.revoke(tokenId.data, currentUser(req).id);
    if (!isHtmx(req)) return res.redirect(303, '/settings/tokens');
    await panel(req, res);
  });

  return router;
}
