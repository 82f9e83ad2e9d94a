import { Router } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Services } from '../services';

/** The candidate and instructor pages (Nunjucks + htmx). */
export function createWeb(_deps: { config: Config; logger: Logger; services: Services }) {
  const router = Router();
  router.get('/', (_req, res) => {
    res.type('text').send('Herald is running. The JSON API is under /api.');
  });
  return router;
}
