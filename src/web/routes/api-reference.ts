/**
 * `GET /docs/api`: the API reference for people, rendered from the same OpenAPI document as
 * `/openapi.json`. Public, like the document.
 */
import Router from '@koa/router';
import { renderPage } from '../views/layout.js';
import { apiReferencePage, type ApiDocumentView } from '../views/api-reference.js';

export function apiReferencePages(document: () => ApiDocumentView): Router {
  const router = new Router();
  let body: ReturnType<typeof apiReferencePage> | undefined;
  router.get('/docs/api', (ctx) => {
    body ??= apiReferencePage(document());
    renderPage(ctx, { title: 'API reference', body, user: null });
  });
  return router;
}
