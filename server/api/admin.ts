import { Router } from 'express';
import { requireRole } from '../http/auth';
import type { Services } from '../services';

/** The admin console's API. Admin role only. */
export function adminApi(_deps: { services: Services }) {
  const router = Router();
  router.use(requireRole('admin'));
  return router;
}
