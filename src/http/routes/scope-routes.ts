/**
 * `GET /api/v1/scopes`: the declared scope vocabulary, for people and tools choosing a token's
 * scopes (`tessera scope list`, the token page). Signed-in callers only: the list names the
 * deployment's APIs.
 */
import { z } from 'zod';
import type { Services } from '../../services.js';
import { ScopeVocabulary } from '../../tokens/scope-vocabulary.js';
import { ApiRouter } from '../api-router.js';
import { requirePrincipal } from '../authenticate.js';

const Vocabulary = z.object({
  scopes: z.array(z.object({ name: z.string(), description: z.string(), pattern: z.boolean() })),
  allow_undeclared: z.boolean(),
});

export function scopeRoutes(services: Services): ApiRouter {
  const vocabulary = new ScopeVocabulary(services.config);
  const router = new ApiRouter({ prefix: '/api/v1', bodyLimit: services.config.server.bodyLimitBytes });
  router.define(
    { method: 'get', path: '/scopes', tag: 'Personal access tokens', auth: 'bearer', summary: 'The declared scope vocabulary', responses: { 200: { description: 'the scopes', schema: Vocabulary } } },
    [requirePrincipal(services)],
    (ctx) => {
      ctx.body = {
        scopes: vocabulary.declared.map((s) => ({ name: s.name, description: s.description, pattern: s.pattern })),
        allow_undeclared: vocabulary.allowUndeclared,
      };
    },
  );
  return router;
}
