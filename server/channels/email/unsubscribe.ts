import { createHmac } from 'node:crypto';
import { sameSecret } from '../../crypto';
import { NOTIFICATION_TYPES, type NotificationType } from '../../models';

/**
 * RFC 8058 one-click unsubscribe tokens: the token itself is the authority (no login, no CSRF token), so it is
 * an HMAC over (user id, type) with the session secret, under its own purpose label so no other signature made
 * with that secret can pass for one. It names one user and one type (or `digest`: every type the user gets
 * in the digest); altering either breaks the signature.
 */
export type UnsubscribeScope = NotificationType | 'digest';
const SCOPES: readonly string[] = [...NOTIFICATION_TYPES, 'digest'];

const PURPOSE = 'herald.unsubscribe.v1';

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`${PURPOSE}\n${payload}`).digest();
}

export function signUnsubscribeToken(secret: string, userId: number, type: UnsubscribeScope): string {
  const payload = `${userId}.${type}`;
  return `${Buffer.from(payload).toString('base64url')}.${mac(secret, payload).toString('base64url')}`;
}

/** The (user, type) a token was made for, or null for anything forged, altered or malformed. */
export function verifyUnsubscribeToken(secret: string, token: string): { userId: number; type: UnsubscribeScope } | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const [encoded, signature, extra] = token.split('.');
  if (!encoded || !signature || extra !== undefined) return null;
  const payload = Buffer.from(encoded, 'base64url').toString('utf8');
  if (!sameSecret(Buffer.from(signature, 'base64url'), mac(secret, payload))) return null;
  const m = /^([1-9]\d{0,9})\.([a-z_]+)$/.exec(payload);
  if (!m || !SCOPES.includes(m[2])) return null;
  return { userId: Number(m[1]), type: m[2] as UnsubscribeScope };
}

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/$/, '')}/unsubscribe/${token}`;
}
