import { operation } from '../operation';
import * as admin from '../schemas/admin';
import { AdminApplicationPageSchema } from '../schemas/admin-responses';
import { toAdminApplicationJSON, toAdminPage } from '../admin-wire';

// Approve and reject stay on /api/applications/{id}/approve|reject, shared with instructors.
const list = operation({
  method: 'get',
  path: '/admin/applications',
  operationId: 'adminListApplications',
  tag: 'Admin',
  summary: 'Every application, filtered and paged',
  description: 'Approve and reject with `POST /api/applications/{id}/approve` and `/reject`, as instructors do.',
  access: ['admin'],
  scopes: ['admin'],
  query: admin.listApplicationsQuery,
  blankQueryIsAbsent: true,
  responses: { 200: { description: 'A page.', schema: AdminApplicationPageSchema } },
  handler: async function list({ services, user, query }, res) {
    const filter = { status: query.status, courseId: query.course_id };
    const page = await services.applications.page(user, filter, { page: query.page, pageSize: query.page_size });
    res.json(toAdminPage(page, toAdminApplicationJSON));
  },
});

export const adminApplicationOperations = [list];
