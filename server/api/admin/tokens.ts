import { operation } from '../operation';
import * as schemas from '../schemas';
import { AdminTokenListSchema, AdminTokenSchema, adminListTokensQuery, toAdminTokenJSON } from '../schemas/tokens';

const tag = 'Admin';

const list = operation({
  method: 'get',
  path: '/admin/tokens',
  operationId: 'adminListTokens',
  tag,
  summary: 'Everyone’s access tokens',
  access: ['admin'],
  scopes: ['admin'],
  query: adminListTokensQuery,
  blankQueryIsAbsent: true,
  responses: { 200: { description: 'Tokens, newest first.', schema: AdminTokenListSchema } },
  handler: async function list({ services, query }, res) {
    const tokens = await services.tokens.listAll({ userId: query.user_id, includeRevoked: query.status === 'all' });
    res.json({ results: tokens.map(toAdminTokenJSON) });
  },
});

const revoke = operation({
  method: 'delete',
  path: '/admin/tokens/{id}',
  operationId: 'adminRevokeToken',
  tag,
  summary: 'Revoke anyone’s access token',
  access: ['admin'],
  scopes: ['admin'],
  params: { id: schemas.id },
  responses: { 200: { description: 'The token, revoked.', schema: AdminTokenSchema } },
  handler: async function revoke({ services, params }, res) {
    res.json(toAdminTokenJSON(await services.tokens.revoke(params.id)));
  },
});

export const adminTokenOperations = [list, revoke];
