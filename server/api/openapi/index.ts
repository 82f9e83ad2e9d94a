import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ApiOperation } from '../operation';
import { renderDocsPage } from './docs-page';
import { buildOpenApiDocument } from './document';

const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

/** The OpenAPI 3.1 document of a list of operations: the very list the API router mounts. */
export function openApiDocument(operations: readonly ApiOperation[]) {
  return buildOpenApiDocument(operations, { version });
}

export interface Published {
  json: string;
  page: string;
}

const published = new WeakMap<readonly ApiOperation[], Published>();

/** The document as served (JSON and its readable page), built once per list of operations. */
export function publish(operations: readonly ApiOperation[]): Published {
  let out = published.get(operations);
  if (!out) {
    const document = openApiDocument(operations);
    out = { json: JSON.stringify(document, null, 2), page: renderDocsPage(document) };
    published.set(operations, out);
  }
  return out;
}
