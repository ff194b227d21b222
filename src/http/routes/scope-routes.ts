/**
 * `GET /api/v1/scopes`: the declared scope vocabulary, for people and tools choosing a token's
 * scopes (`tessera scope list`, the token page). Signed-in callers only: the list names the
 * deployment's APIs.
 */
import Router from '@koa/router';
import type { Services } from '../../gateway.js';
import { ScopeVocabulary } from '../../tokens/scope-vocabulary.js';
import { requirePrincipal } from '../authenticate.js';

export function scopeRoutes(services: Services): Router {
  const vocabulary = new ScopeVocabulary(services.config);
  const router = new Router({ prefix: '/api/v1' });
  router.get('/scopes', requirePrincipal(services), (ctx) => {
    ctx.body = {
      scopes: vocabulary.declared.map((s) => ({ name: s.name, description: s.description, pattern: s.pattern })),
      allow_undeclared: vocabulary.allowUndeclared,
    };
  });
  return router;
}
