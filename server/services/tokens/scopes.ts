import type { Role } from '../../models';

/** What a personal access token may be used for. An API operation declares which of these it needs. */
export const SCOPES = [
  'notifications:read',
  'notifications:write',
  'courses:notify',
  'applications:read',
  'applications:decide',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The scopes each role may put on a token: never more than the role itself can do, so a token cannot outrank
 * its owner. `admin` only for admins.
 */
const GRANTABLE: Record<Role, ReadonlySet<Scope>> = {
  candidate: new Set(['notifications:read', 'notifications:write', 'applications:read']),
  instructor: new Set(['notifications:read', 'notifications:write', 'courses:notify', 'applications:read', 'applications:decide']),
  admin: new Set(SCOPES),
};

/** The requested scopes the role may not grant (empty: all fine). */
export function scopesAboveRole(role: Role, scopes: readonly Scope[]): Scope[] {
  return scopes.filter((s) => !GRANTABLE[role].has(s));
}

export function grantableScopes(role: Role): Scope[] {
  return SCOPES.filter((s) => GRANTABLE[role].has(s));
}
