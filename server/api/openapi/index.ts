import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { adminOperations } from './admin';
import { renderDocsPage } from './docs-page';
import { buildOpenApiDocument } from './document';
import { publicOperations } from './operations';

export type { ApiOperation } from './operation';
export { components } from './components';

const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

/** The OpenAPI 3.1 document of the whole JSON API, built once from the operations each area declares. */
export function openApiDocument() {
  return buildOpenApiDocument([...publicOperations, ...adminOperations], { version });
}

/** `/api/openapi.json` and its readable page, `/api/docs`. Public: they describe, they reveal no data. */
export function openapiRoutes() {
  const router = Router();
  const document = openApiDocument();
  const json = JSON.stringify(document, null, 2);
  const page = renderDocsPage(document);

  router.get('/openapi.json', function openapiJson(_req, res) {
    res.type('application/json').send(json);
  });

  router.get('/docs', function docs(_req, res) {
    res.type('html').send(page);
  });

  return router;
}
