import { operation } from '../operation';
import { AdminStatsSchema } from '../schemas/admin-responses';

const stats = operation({
  method: 'get',
  path: '/admin/stats',
  operationId: 'adminGetStats',
  tag: 'Admin',
  summary: 'Dashboard numbers',
  description: 'Users, courses, applications, notifications (UTC days) and open sockets, right now.',
  access: ['admin'],
  scopes: ['admin'],
  responses: { 200: { description: 'The numbers.', schema: AdminStatsSchema } },
  handler: async function stats({ services, socketsOpen }, res) {
    const [numbers, sockets] = await Promise.all([services.stats.platform(), socketsOpen()]);
    const { per_day, ...counts } = numbers;
    res.json({ ...counts, sockets_open: sockets, per_day });
  },
});

export const dashboardOperations = [stats];
