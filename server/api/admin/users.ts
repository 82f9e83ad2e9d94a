import { operation } from '../operation';
import * as schemas from '../schemas';
import * as admin from '../schemas/admin';
import { AdminUserPageSchema, AdminUserSchema } from '../schemas/admin-responses';
import { toAdminPage, toAdminUserJSON } from '../admin-wire';

const tag = 'Admin';

const list = operation({
  method: 'get',
  path: '/admin/users',
  operationId: 'adminListUsers',
  tag,
  summary: 'Users, filtered and paged',
  access: ['admin'],
  scopes: ['admin'],
  query: admin.listUsersQuery,
  blankQueryIsAbsent: true,
  responses: { 200: { description: 'A page.', schema: AdminUserPageSchema } },
  handler: async function list({ services, query }, res) {
    const { page, page_size, ...filter } = query;
    res.json(toAdminPage(await services.users.list(filter, { page, pageSize: page_size }), toAdminUserJSON));
  },
});

const update = operation({
  method: 'patch',
  path: '/admin/users/{id}',
  operationId: 'adminUpdateUser',
  tag,
  summary: 'Change a user’s role or active flag',
  description:
    'Deactivating a user, or lowering their role, ends all their sessions and closes their sockets. ' +
    'Unknown fields are refused.',
  access: ['admin'],
  scopes: ['admin'],
  params: { id: schemas.id },
  body: admin.updateUserBody,
  responses: { 200: { description: 'The user.', schema: AdminUserSchema } },
  errors: { 409: 'An admin cannot deactivate or demote themselves.' },
  handler: async function update({ services, user, params, body }, res) {
    res.json(toAdminUserJSON(await services.users.update(user, params.id, { role: body.role, isActive: body.is_active })));
  },
});

export const userOperations = [list, update];
