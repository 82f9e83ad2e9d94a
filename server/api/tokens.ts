import { operation } from './operation';
import * as schemas from './schemas';
import { CreatedTokenSchema, createTokenBody, TokenListSchema, TokenSchema, toCreatedTokenJSON, toTokenJSON } from './schemas/tokens';

/**
 * The signed-in user's personal access tokens. Session only: a token can neither mint nor manage tokens, so a
 * leaked one cannot make itself a sibling that outlives its revocation.
 */
const tag = 'Access tokens';

const create = operation({
  method: 'post',
  path: '/tokens',
  operationId: 'createToken',
  tag,
  summary: 'Create a personal access token',
  description:
    'The answer carries the token (`hrld_...`) this one time: only its SHA-256 is stored. Send it as ' +
    '`Authorization: Bearer hrld_...`. A scope above your role is a 403.',
  access: 'user',
  scopes: 'session',
  body: createTokenBody,
  responses: { 201: { description: 'Created; the secret is in `token`.', schema: CreatedTokenSchema } },
  handler: async function create({ services, user, body }, res) {
    const token = await services.tokens.create(user, { name: body.name, scopes: body.scopes, expiresInDays: body.expires_in_days });
    res.status(201).json(toCreatedTokenJSON(token));
  },
});

const list = operation({
  method: 'get',
  path: '/tokens',
  operationId: 'listTokens',
  tag,
  summary: 'List my access tokens',
  description: 'Newest first, revoked ones included. Never the secret.',
  access: 'user',
  scopes: 'session',
  responses: { 200: { description: 'My tokens.', schema: TokenListSchema } },
  handler: async function list({ services, user }, res) {
    res.json({ results: (await services.tokens.list(user.id)).map(toTokenJSON) });
  },
});

const revoke = operation({
  method: 'delete',
  path: '/tokens/{id}',
  operationId: 'revokeToken',
  tag,
  summary: 'Revoke one of my access tokens',
  description: 'At once, everywhere: sockets and event streams opened with it close (4401).',
  access: 'user',
  scopes: 'session',
  params: { id: schemas.id },
  responses: { 200: { description: 'The token, revoked.', schema: TokenSchema } },
  handler: async function revoke({ services, user, params }, res) {
    res.json(toTokenJSON(await services.tokens.revoke(params.id, user.id)));
  },
});

export const tokenOperations = [create, list, revoke];
