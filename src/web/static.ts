/**
 * Serves the two static files (read once at start). Immutable content per release, so a short
 * public cache is fine.
 */
import { readFileSync } from 'node:fs';
import Router from '@koa/router';

const FILES: Record<string, string> = {
  'tessera.css': 'text/css; charset=utf-8',
  'tessera.js': 'text/javascript; charset=utf-8',
};

export function staticRoutes(): Router {
  const router = new Router();
  const contents = new Map(
    Object.keys(FILES).map((name) => [name, readFileSync(new URL(`./static/${name}`, import.meta.url))]),
  );
  router.get('/static/:name', (ctx) => {
    const name = ctx.params.name!;
    const body = contents.get(name);
    if (!body) return;
    ctx.type = FILES[name]!;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}
