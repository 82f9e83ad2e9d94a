import { adminApplicationOperations } from './applications';
import { composeOperations } from './compose';
import { adminDeliveryOperations } from './deliveries';
import { dashboardOperations } from './dashboard';
import { digestOperations } from './digests';
import { adminNotificationOperations } from './notifications';
import { adminPreferenceOperations } from './preferences';
import { adminTokenOperations } from './tokens';
import { userOperations } from './users';
import { adminWebhookOperations } from './webhooks';

/** The admin console's API, /api/admin: admin role only (anonymous is a 401, any other role a 403). */
export const adminOperations = [
  ...dashboardOperations,
  ...adminNotificationOperations,
  ...composeOperations,
  ...adminApplicationOperations,
  ...userOperations,
  ...digestOperations,
  ...adminPreferenceOperations,
  ...adminDeliveryOperations,
  ...adminTokenOperations,
  ...adminWebhookOperations,
];
