import { z } from 'zod';
import { SCOPES, type CreatedToken, type TokenInfo } from '../../services/tokens';
import { int, timestamp } from '../../wire';
import { id, text } from '.';

/** Request and response shapes of personal access tokens (/api/tokens and /api/admin/tokens). */

export const createTokenBody = z.strictObject({
  name: text(100).pipe(z.string().min(1, 'must not be empty')).describe('What the token is for, to recognise it later.'),
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length).describe('What the token may do (`admin`: admins only).'),
  expires_in_days: z.number().int().min(1).max(365).nullable().default(null).describe('Days until it expires; null: never.'),
});

export const adminListTokensQuery = z.object({
  user_id: id.optional().describe('Only this user’s tokens.'),
  status: z.enum(['active', 'all']).default('active').describe('`all` includes revoked and expired tokens.'),
});

const tokenFields = {
  id: int,
  name: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  prefix: z.string().describe('The first characters of the token, to recognise it; never the token itself.'),
  created_at: timestamp,
  last_used_at: timestamp.nullable().describe('Updated at most once a minute.'),
  expires_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
};

export const TokenSchema = z.strictObject(tokenFields).meta({ id: 'AccessToken', description: 'A personal access token (never its secret).' });
export const TokenListSchema = z
  .strictObject({ results: z.array(TokenSchema) })
  .meta({ id: 'AccessTokenList', description: 'Tokens, newest first.' });
export const CreatedTokenSchema = z
  .strictObject({ ...tokenFields, token: z.string().describe('The secret, `hrld_...`: shown this once, store it now.') })
  .meta({ id: 'CreatedAccessToken', description: 'A new token, with its secret shown this one time.' });
export const AdminTokenSchema = z
  .strictObject({ ...tokenFields, user_id: int })
  .meta({ id: 'AdminAccessToken', description: 'Anyone’s token, as admins see it.' });
export const AdminTokenListSchema = z
  .strictObject({ results: z.array(AdminTokenSchema) })
  .meta({ id: 'AdminAccessTokenList', description: 'Tokens, newest first (at most 500).' });

export type TokenJSON = z.output<typeof TokenSchema>;

export function toTokenJSON(t: TokenInfo): TokenJSON {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    prefix: t.prefix,
    created_at: t.createdAt.toISOString(),
    last_used_at: t.lastUsedAt?.toISOString() ?? null,
    expires_at: t.expiresAt?.toISOString() ?? null,
    revoked_at: t.revokedAt?.toISOString() ?? null,
  };
}

export const toCreatedTokenJSON = (t: CreatedToken) => ({ ...toTokenJSON(t), token: t.token });
export const toAdminTokenJSON = (t: TokenInfo) => ({ ...toTokenJSON(t), user_id: t.userId });
