/**
 * `GET /openapi.json`: the REST API's OpenAPI 3.1 document, built once at start from the route
 * table. Public (it describes the API, not the deployment's data) and cacheable.
 */
import { z } from 'zod';
import { ApiRouter } from '../api-router.js';
import type { OpenApiDocument } from '../openapi.js';

export function openApiRoutes(document: () => OpenApiDocument, bodyLimit: number): ApiRouter {
  const api = new ApiRouter({ bodyLimit });
  let text: string | undefined;
  api.define(
    {
      method: 'get', path: '/openapi.json', tag: 'Reference', auth: 'none',
      summary: 'This document',
      description: 'The OpenAPI 3.1 description of the REST API; rendered for people at /docs/api.',
      responses: { 200: { description: 'the OpenAPI document', schema: z.looseObject({ openapi: z.string() }) } },
    },
    [],
    (ctx) => {
      text ??= JSON.stringify(document());
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.type = 'application/json';
      ctx.body = text;
    },
  );
  return api;
}
