import { adminApplicationOperations } from './applications';
import { composeOperations } from './compose';
import { dashboardOperations } from './dashboard';
import { adminNotificationOperations } from './notifications';
import { adminTokenOperations } from './tokens';
import { userOperations } from './users';

/** The admin console's API, /api/admin: admin role only (anonymous is a 401, any other role a 403). */
export const adminOperations = [
  ...dashboardOperations,
  ...adminNotificationOperations,
  ...composeOperations,
  ...adminApplicationOperations,
  ...userOperations,
  ...adminTokenOperations,
];
