import express, { Router, type Request } from 'express';
import { verifyUnsubscribeToken, type UnsubscribeScope } from '../channels/email/unsubscribe';
import { BadRequest, Forbidden } from '../errors';
import type { NotificationType } from '../models';
import type { Preferences, PreferenceService } from '../services/preferences';
import { type WebDeps, sendPage } from './context';
import { NOTIFICATION_TYPE_META } from './notification-types';

/**
 * One-click unsubscribe (RFC 8058), the links in every email's footer and `List-Unsubscribe` header. No login:
 * the signed token names the user and what to stop (one type's email, or the digest), and is the whole
 * authority, so createWeb mounts these routes before the CSRF and Origin checks (a mail provider posts from its
 * own servers, with no session and no Origin of ours). `GET` only shows what will stop and a confirm button: link
 * scanners fetch URLs in mail, and a GET must change nothing. `POST` with `List-Unsubscribe=One-Click` does it;
 * doing it twice changes nothing more.
 */
export function unsubscribeRoutes(web: WebDeps) {
  const router = Router();
  const { services } = web;

  router.param('token', (_req, res, next, raw: string) => {
    const claim = verifyUnsubscribeToken(web.config.sessionSecret, raw);
    if (!claim) {
      throw new BadRequest(
        'This unsubscribe link is not valid. Use the whole link from the email, or change your notification settings after logging in.',
      );
    }
    res.locals.unsubscribe = claim;
    next();
  });

  router.get('/unsubscribe/:token', async function show(req, res) {
    const claim = claimOf(res.locals);
    const prefs = await services.preferences.get(claim.userId);
    const page = { title: 'Unsubscribe', token: req.params.token, ...describe(claim.type, prefs), done: false };
    await sendPage(web, req, res, 'pages/unsubscribe.njk', page);
  });

  router.post('/unsubscribe/:token', oneClickBody, async function unsubscribe(req, res) {
    if ((await formField(req, 'List-Unsubscribe')) !== 'One-Click') {
      throw new BadRequest('To unsubscribe, use the button on the unsubscribe page.');
    }
    const claim = claimOf(res.locals);
    const prefs = await turnOff(services.preferences, claim);
    await sendPage(web, req, res, 'pages/unsubscribe.njk', { title: 'Unsubscribed', ...describe(claim.type, prefs), done: true });
  });

  return router;
}

type Claim = { userId: number; type: UnsubscribeScope };

function claimOf(locals: Record<string, unknown>): Claim {
  return locals.unsubscribe as Claim;
}

/** RFC 8058 posts as multipart/form-data (SHOULD) or urlencoded (MAY); both are read from one small raw body. */
const oneClickBody = express.raw({ type: ['application/x-www-form-urlencoded', 'multipart/form-data'], limit: '8kb' });

async function formField(req: Request, name: string): Promise<string | null> {
  if (!Buffer.isBuffer(req.body)) return null;
  try {
    // The platform's own parser (undici) for both encodings: no multipart code of ours to get wrong.
    const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': req.get('content-type') ?? '' } }).formData();
    const value = form.get(name);
    return typeof value === 'string' ? value.trim() : null;
  } catch {
    return null;
  }
}

/** The types the token covers that still send email: one type, or every type the user gets in the digest. */
function covered(scope: UnsubscribeScope, prefs: Preferences): NotificationType[] {
  if (scope !== 'digest') return prefs.types[scope]?.email === 'off' ? [] : [scope];
  return (Object.keys(prefs.types) as NotificationType[]).filter((t) => prefs.types[t].email === 'digest');
}

const emailLocked = (prefs: Preferences, type: string) => (prefs.locked[type] ?? []).includes('email');

/** Turns the covered email off. A type whose email an admin locked on cannot be stopped here: say so. */
async function turnOff(preferences: PreferenceService, claim: Claim): Promise<Preferences> {
  const prefs = await preferences.get(claim.userId);
  const types = covered(claim.type, prefs);
  const locked = types.filter((t) => emailLocked(prefs, t));
  if (claim.type !== 'digest' && locked.length > 0) {
    throw new Forbidden(`${label(claim.type)} emails are required for your account and cannot be turned off.`);
  }
  const free = types.filter((t) => !emailLocked(prefs, t));
  if (free.length === 0) return prefs;
  return preferences.patch(claim.userId, { types: Object.fromEntries(free.map((t) => [t, { email: 'off' }])) });
}

function label(type: NotificationType): string {
  return NOTIFICATION_TYPE_META[type].label;
}

/** What the page says: what the link stops, and whether anything of it still sends. */
function describe(scope: UnsubscribeScope, prefs: Preferences) {
  const still = covered(scope, prefs);
  return {
    digest: scope === 'digest',
    typeLabel: scope === 'digest' ? null : label(scope),
    mode: scope === 'digest' ? null : prefs.types[scope]?.email ?? 'off',
    digestTypes: scope === 'digest' ? still.map(label) : [],
    stillOn: still.length > 0,
  };
}
