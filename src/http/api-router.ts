/**
 * The REST API's route table. A route is declared once with `define(spec, steps, handler)`: the
 * spec's zod schemas validate the request (after the auth steps, before the handler) and the
 * same spec becomes the route's operation in the OpenAPI document (`http/openapi.ts`), so what
 * is documented is what is enforced.
 *
 * To add an API route: declare it on an `ApiRouter` with a spec (summary, tag, auth, request
 * schemas, responses); `test/http/openapi.test.ts` fails for a route registered any other way
 * unless it is listed there as a non-API route.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { z } from 'zod';
import { readForm, readJson } from './body.js';
import { parseInput } from './validate.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call: `bearer` a signed-in user (PAT or login access token), `admin` the same with an
 * administrator's unscoped credential, `client` an OAuth client (HTTP Basic or
 * client_secret_post), `client-optional` the same but only when presented, `receiver` an SSF
 * receiver (HTTP Basic), `none` anyone.
 */
export type Auth = 'bearer' | 'admin' | 'client' | 'client-optional' | 'receiver' | 'none';

export interface RequestSchemas {
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: z.ZodObject;
  /** `form` for OAuth endpoints (application/x-www-form-urlencoded, RFC 6749 §3.2); default JSON. */
  contentType?: 'json' | 'form';
  /**
   * The handler reads the body itself (it must see the raw bytes, e.g. to check a signature)
   * and validates it with `body`; the schema still documents it.
   */
  rawBody?: boolean;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json` when there is a schema. */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteSpec<R extends RequestSchemas = RequestSchemas> {
  method: HttpMethod;
  /** OpenAPI style, `{name}` for a path parameter; the router's prefix goes in front. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: Auth;
  request?: R;
  responses: Record<number, ResponseSpec>;
}

/** An operation as the OpenAPI document sees it: the spec with its full path. */
export interface Operation extends RouteSpec {
  path: string;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
export interface Input<R extends RequestSchemas> {
  body: Out<R['body']>;
  query: Out<R['query']>;
  params: Out<R['params']>;
}

export type Handler<R extends RequestSchemas> = (ctx: Context, input: Input<R>) => unknown;

const koaPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

export class ApiRouter extends Router {
  readonly operations: Operation[] = [];
  private readonly pathPrefix: string;
  private readonly bodyLimit: number;

  constructor(options: { prefix?: string; bodyLimit: number }) {
    super({ prefix: options.prefix });
    this.pathPrefix = options.prefix ?? '';
    this.bodyLimit = options.bodyLimit;
  }

  /** Registers the route on Koa and its operation for the document. */
  define<R extends RequestSchemas>(spec: RouteSpec<R>, steps: Middleware[], handler: Handler<R>): this {
    const full = (this.pathPrefix + spec.path).replace(/(.)\/$/, '$1');
    this.operations.push({ ...(spec as RouteSpec), path: full });
    const request = spec.request ?? ({} as R);
    const limit = this.bodyLimit;
    // The last step before the handler, so an unauthenticated caller learns nothing about the
    // body's rules and a refused request has its body unread.
    const validate = async function validate(ctx: Context, next: Next) {
      const input = {
        params: request.params ? parseInput(request.params, ctx.params, 'path') : undefined,
        query: request.query ? parseInput(request.query, ctx.query, 'query') : undefined,
        body: request.body && !request.rawBody ? parseInput(request.body, await readBody(ctx, request, limit), 'body') : undefined,
      };
      ctx.state.input = input;
      await next();
    };
    const answer = async function answer(ctx: Context) {
      await handler(ctx, ctx.state.input as Input<R>);
    };
    this.register(koaPath(spec.path), [spec.method.toUpperCase()], [...steps, validate, answer] as never);
    return this;
  }


  /**
   * Documents a route this router registers by hand, for a route the table cannot express
   * (forward auth answers every method) or a hot path that reads its input itself.
   */
  describe(spec: RouteSpec): this {
    this.operations.push({ ...spec, path: (this.pathPrefix + spec.path).replace(/(.)\/$/, '$1') });
    return this;
  }
}

function readBody(ctx: Context, request: RequestSchemas, limit: number) {
  return request.contentType === 'form' ? readForm(ctx, limit) : readJson(ctx, limit);
}

/**
 * Operations answered by middleware outside any router (the token endpoint's RFC 8693 grant,
 * which shares its path with oidc-provider's other grants): documented here, checked by the
 * same completeness test.
 */
export function documentedOperation(spec: RouteSpec): Operation {
  return { ...spec };
}
