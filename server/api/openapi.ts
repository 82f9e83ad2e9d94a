import { Router } from 'express';

/** The OpenAPI 3.1 description of the JSON API. */
export function openapiRoutes() {
  const router = Router();
  return router;
}
