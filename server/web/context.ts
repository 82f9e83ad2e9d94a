import type { Request, RequestParamHandler, Response } from 'express';
import type { ZodType } from 'zod';
import { NotFound } from '../errors';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { User } from '../models';
import type { Services } from '../services';
import type { Renderer } from './render';

/** What every page handler needs. */
export interface WebDeps {
  config: Config;
  logger: Logger;
  services: Services;
  renderer: Renderer;
}

/**
 * htmx asks for a fragment. Boosted forms also send HX-Request; they answer with out-of-band pieces, so the
 * fragment-or-page choice stays a question of this one header (hence `Vary: HX-Request` on every page).
 */
export function isHtmx(req: Request): boolean {
  return req.get('HX-Request') === 'true';
}

/** Where each role starts. */
export function homeFor(user: User | undefined): string {
  if (!user) return '/login';
  return user.role === 'instructor' ? '/instructor' : user.role === 'admin' ? '/instructor' : '/courses';
}

/** Only our own absolute paths: never `//host`, `/\host` or a scheme, so `next=` cannot send anyone elsewhere. */
export function safeLocalPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 500) return null;
  return /^\/(?![/\\])[^\s]*$/.test(value) ? value : null;
}

/** Back to the page a plain (no-JS) form was posted from, when that page is ours. */
export function backTo(req: Request, fallback: string): string {
  const referer = req.get('referer');
  if (!referer) return fallback;
  try {
    const url = new URL(referer);
    if (url.host !== req.get('host')) return fallback;
    return safeLocalPath(url.pathname + url.search) ?? fallback;
  } catch {
    return fallback;
  }
}

/** Renders a template with the locals every view relies on (user, CSRF token, CSP nonce, current path). */
export function renderView(deps: WebDeps, req: Request, res: Response, template: string, ctx: object = {}): string {
  return deps.renderer.render(template, { ...res.locals, path: req.path, ...ctx });
}

/** A whole page: the layout, the user's bell (badge + latest five) and the page's own content. */
export async function sendPage(
  deps: WebDeps,
  req: Request,
  res: Response,
  template: string,
  ctx: object = {},
  status = 200,
): Promise<void> {
  const bell = req.user ? await deps.services.notifications.bell(req.user.id) : null;
  res.status(status).type('html').send(renderView(deps, req, res, template, { bell, ...ctx }));
}

/** A fragment for htmx: one partial, same markup as on the page. */
export function sendFragment(deps: WebDeps, req: Request, res: Response, template: string, ctx: object = {}, status = 200): void {
  res.status(status).type('html').send(renderView(deps, req, res, template, ctx));
}

/**
 * A `router.param` handler: the value parsed by `schema` into `res.locals[name]`; one that does not parse is the same
 * 404 as an unknown record (`what` names it).
 */
export function parsedParam<T>(name: string, schema: ZodType<T>, what: string): RequestParamHandler {
  return (_req, res, next, raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new NotFound(what);
    res.locals[name] = parsed.data;
    next();
  };
}
