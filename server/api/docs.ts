import { z } from 'zod';
import { publish } from './openapi';
import { operation } from './operation';

// The API describes itself; public, since the description reveals no data.
const tag = 'Documentation';

const openapiJson = operation({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tag,
  summary: 'This OpenAPI 3.1 document',
  access: 'anyone',
  responses: { 200: { description: 'The document.', schema: z.looseObject({}), contentType: 'application/json' } },
  handler: function openapiJson({ operations }, res) {
    res.type('application/json').send(publish(operations).json);
  },
});

const docs = operation({
  method: 'get',
  path: '/docs',
  operationId: 'getApiDocs',
  tag,
  summary: 'This document as a readable page',
  access: 'anyone',
  responses: { 200: { description: 'An HTML page.', contentType: 'text/html' } },
  handler: function docs({ operations }, res) {
    res.type('html').send(publish(operations).page);
  },
});

export const docsOperations = [openapiJson, docs];
