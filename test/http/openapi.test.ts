/**
 * The OpenAPI document against the running app: every route the app has is documented (or is a
 * listed non-API route), every documented operation exists, the document is valid OpenAPI 3.1,
 * the documented response shapes are what the API sends, and a request the schema refuses gets
 * a field-naming 400 and changes nothing.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CLIENT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CreatedToken, LoginPair, Token, TokenList, User } from '../../src/http/wire-schemas.js';

/**
 * Routes that are not the REST API: pages and their forms (cookie sessions, CSRF), the sign-in
 * redirects of SAML and OIDC sources, static files, and /metrics (Prometheus text, closed unless
 * metrics.token is set). Each entry is a full path as the router has it.
 */
const NOT_API = [
  /^\/$/, /^\/login$/, /^\/logout$/, /^\/account(\/|$)/, /^\/manage_tokens(\/|$)/, /^\/admin(\/|$)/,
  /^\/interaction\//, /^\/saml\//, /^\/sso\//, /^\/static\//, /^\/docs\/api$/, /^\/metrics$/,
];

/**
 * Middleware outside the routers. Only two answer requests of their own: `tokenEndpoint` (the
 * RFC 8693 grant, documented as POST /oauth2/token) and `openIdProvider` (oidc-provider's paths,
 * which its discovery document describes). Any other middleware added must be named here.
 */
// hotRoute answers POST /oauth2/introspect and /auth/verify only (http/hot-routes.ts), both
// documented through their routers below, which answer the other spellings.
const MIDDLEWARE = ['hotRoute', 'requestContext', 'observeRequest', 'drain', 'errorResponses', 'securityHeaders', 'cors', 'tokenEndpoint', 'openIdProvider'];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const openApiPath = (koaPath: string) => koaPath.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document', () => {
  let gw: TestGateway;
  let doc: any;
  let response: Response;

  beforeAll(async () => {
    gw = await startTestGateway();
    response = await fetch(`${gw.url}/openapi.json`);
    doc = await response.json();
  }, 60_000);
  afterAll(() => gw?.stop());

  it('is served public and cacheable, and is valid OpenAPI 3.1', async () => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // Form-bodied OAuth endpoints are described as forms, with HTTP Basic client authentication.
    const introspect = doc.paths['/oauth2/introspect'].post;
    expect(Object.keys(introspect.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(introspect.security).toEqual([{ clientBasic: [] }]);
    expect(doc.components.securitySchemes.bearerToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/v1/tokens'].post.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('documents every route the app has, apart from the listed non-API routes', () => {
    const middleware = gw.app.middleware as any[];
    const undocumented: string[] = [];
    const unknownMiddleware: string[] = [];
    middleware.forEach((fn, i) => {
      if (fn.router) {
        for (const layer of fn.router.stack as { path: string; methods: string[] }[]) {
          if (!layer.methods.length || NOT_API.some((re) => re.test(layer.path))) continue;
          const operations = doc.paths[openApiPath(layer.path)] ?? {};
          // router.all (forward auth): documented under one method.
          const methods = layer.methods.length > 10 ? [] : layer.methods.map((m) => m.toLowerCase()).filter((m) => m !== 'head');
          if (!Object.keys(operations).length || methods.some((m) => !operations[m])) undocumented.push(`${layer.methods.join(',')} ${layer.path}`);
        }
      } else if (!middleware[i - 1]?.router && !MIDDLEWARE.includes(fn.name)) {
        // (the middleware after each router is its allowedMethods)
        unknownMiddleware.push(fn.name || `<anonymous #${i}>`);
      }
    });
    expect(undocumented).toEqual([]);
    expect(unknownMiddleware).toEqual([]);
    expect(doc.paths['/oauth2/token'].post.summary).toMatch(/RFC 8693/);
  });

  it('every documented operation exists: unauthenticated, a secured one answers 401, none 404 or 405', async () => {
    const answers: string[] = [];
    const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(45);
    for (const { path, method, op } of operations) {
      const form = op.requestBody?.content['application/x-www-form-urlencoded'];
      // A form carries its required parameters (an OAuth endpoint checks them before the client).
      const fields = form ? new URLSearchParams((form.schema.required ?? []).map((name: string) => [name, form.schema.properties[name].const ?? 'x'])) : undefined;
      const res = await fetch(gw.url + path.replace(/\{\w+\}/g, 'no-such-id'), {
        method: method.toUpperCase(),
        headers: op.requestBody ? { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' } : {},
        body: op.requestBody ? (form ? fields!.toString() : '{}') : undefined,
      });
      await res.arrayBuffer();
      const required = op.security.length > 0 && !op.security.some((s: object) => Object.keys(s).length === 0);
      if (res.status === 404 || res.status === 405 || (required && res.status !== 401)) answers.push(`${method.toUpperCase()} ${path} → ${res.status}`);
    }
    expect(answers).toEqual([]);
  }, 120_000);

  it('documented response shapes are what the API sends', async () => {
    const login = await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(() => LoginPair.extend({ device_token: LoginPair.shape.access_token }).strict().parse(login.body)).not.toThrow();
    const access = login.body.access_token as string;
    const created = await gw.api('POST', '/api/v1/tokens', { token: access, body: { name: 'shape check', expires_in: '1d', scopes: 'resource:models:r' } });
    expect(created.status).toBe(201);
    expect(() => CreatedToken.strict().parse(created.body)).not.toThrow();
    const one = await gw.api('GET', `/api/v1/tokens/${created.body.id}`, { token: access });
    expect(() => Token.strict().parse(one.body)).not.toThrow();
    const list = await gw.api('GET', '/api/v1/tokens?limit=1', { token: access });
    expect(() => TokenList.strict().parse(list.body)).not.toThrow();
    const user = await gw.api('GET', '/api/v1/users/admin', { token: access });
    expect(() => User.strict().parse(user.body)).not.toThrow();
    const inactive = await gw.introspect('tsr_not_a_real_token_at_all_0000000000000');
    expect(inactive.body).toEqual({ active: false });
  });

  it('a body the schema refuses is a 400 naming the field, and nothing changes', async () => {
    const admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    const bad = await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'mallory', password: 'long-enough-password', role: 'boss' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'invalid_request', error_description: 'role must be "admin" or "normal"' });
    expect((await gw.api('GET', '/api/v1/users/mallory', { token: admin })).status).toBe(404);

    const before = (await gw.api('GET', '/api/v1/tokens', { token: admin })).body.tokens.length;
    const wrongType = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { name: 42 } });
    expect(wrongType.body).toEqual({ error: 'invalid_request', error_description: 'name must be a string' });
    const missing = await gw.api('POST', '/api/v1/tokens', { token: admin, body: { description: 'no name' } });
    expect(missing.body).toEqual({ error: 'invalid_request', error_description: 'name is required' });
    expect((await gw.api('GET', '/api/v1/tokens', { token: admin })).body.tokens.length).toBe(before);

    const id = (await gw.api('GET', '/api/v1/tokens', { token: admin })).body.tokens[0].id as string;
    const extra = await gw.api('PATCH', `/api/v1/tokens/${id}`, { token: admin, body: { name: 'renamed', scopes: 'admin' } });
    expect(extra.body).toEqual({ error: 'invalid_request', error_description: 'the body may change only name and description, not scopes' });
    expect((await gw.api('GET', `/api/v1/tokens/${id}`, { token: admin })).body.name).not.toBe('renamed');

    const query = await gw.api('GET', '/api/v1/tokens?limit=many', { token: admin });
    expect(query.body).toEqual({ error: 'invalid_request', error_description: 'limit must be an integer from 1 to 1000' });

    // The OAuth endpoints keep RFC 6749 error codes for their form bodies.
    const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
    const noToken = await gw.api('POST', '/oauth2/introspect', { body: 'token_type_hint=access_token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic } });
    expect(noToken.status).toBe(400);
    expect(noToken.body).toEqual({ error: 'invalid_request', error_description: 'token is required' });
  });

  it('the reference page lists every operation with an example, from the same document, with nothing from elsewhere', async () => {
    const res = await fetch(`${gw.url}/docs/api`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const page = await res.text();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) expect(page, `${method} ${path}`).toContain(`<code>${method.toUpperCase()} ${path}</code>`);
    }
    expect(page).toContain('curl -s -X POST &quot;$GW/api/v1/tokens&quot;');
    expect(page).toContain('-d &quot;token=&lt;token&gt;&quot;');
    expect(page).toContain('href="/openapi.json"');
    expect([...page.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1])).toEqual(['/static/tessera.js']);
    expect(page).not.toMatch(/https?:\/\/(?!tessera\.test)/);
  });
});
