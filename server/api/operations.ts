import { adminOperations } from './admin';
import { applicationOperations } from './applications';
import { authOperations } from './auth';
import { courseOperations } from './courses';
import { docsOperations } from './docs';
import { notificationOperations } from './notifications';
import { notificationStateOperations } from './notification-states';
import { preferenceOperations } from './preferences';
import { pushOperations } from './push';
import { sendOperations } from './sends';
import type { ApiOperation } from './operation';
import { tokenOperations } from './tokens';
import { webhookOperations } from './webhooks';

/**
 * Every operation of the JSON API, in the order the docs page shows them. The /api router is built from this
 * list and so is the OpenAPI document: adding a route is adding a declaration to an area's file.
 */
export const operations: readonly ApiOperation[] = [
  ...authOperations,
  ...notificationOperations,
  ...notificationStateOperations,
  ...preferenceOperations,
  ...courseOperations,
  ...applicationOperations,
  ...pushOperations,
  ...docsOperations,
  ...sendOperations,
  ...adminOperations,
  ...tokenOperations,
  ...webhookOperations,
];
