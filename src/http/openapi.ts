/**
 * The OpenAPI 3.1 document of the REST API, built from the route table's operations
 * (`http/api-router.ts`): the zod schemas that validate requests become its parameters and
 * bodies through zod's own `z.toJSONSchema` (JSON Schema draft 2020-12, the dialect OpenAPI 3.1
 * uses). Schemas named with `meta({ id })` become `components.schemas`, referenced wherever used.
 */
import { z } from 'zod';
import type { Auth, Operation, ResponseSpec } from './api-router.js';
import { ErrorBody } from './wire-schemas.js';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const SECURITY_SCHEMES = {
  bearerToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'A personal access token (tsr_…) or a login access token (tsa_…). WebDAV-style clients may send the token as the password of HTTP Basic instead, with its owner as the username.',
  },
  clientBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'OAuth client authentication (client_secret_basic, RFC 6749 §2.3.1): the client id and secret of a registered client. client_secret_post (client_id and client_secret in the form) is accepted too.',
  },
};

/** Requirements per auth kind; `{}` makes the credentials optional (OpenAPI 3.1 §4.8.30). */
const SECURITY: Record<Auth, Json[]> = {
  bearer: [{ bearerToken: [] }],
  admin: [{ bearerToken: [] }],
  client: [{ clientBasic: [] }],
  'client-optional': [{ clientBasic: [] }, {}],
  receiver: [{ clientBasic: [] }],
  none: [],
};

/** Named schemas found while converting, hoisted into `components.schemas`. */
class Components {
  readonly schemas: Record<string, Json> = {};

  /** A JSON Schema for `schema`, with named sub-schemas as `$ref`s to the components. */
  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline' }) as Json;
    const { $schema: _dialect, $defs, ...rest } = converted;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, Json>)) this.schemas[id] ??= this.relink(def);
    const id = z.globalRegistry.get(schema)?.id;
    if (id) {
      this.schemas[id] ??= this.relink(rest);
      return { $ref: `#/components/schemas/${id}` };
    }
    return this.relink(rest);
  }

  private relink(schema: Json): Json {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
  }
}

function parameters(components: Components, where: 'path' | 'query', schema: z.ZodObject | undefined): Json[] {
  if (!schema) return [];
  const converted = components.convert(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: where, required: where === 'path' || (converted.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

function response(components: Components, spec: ResponseSpec): Json {
  return {
    description: spec.description,
    ...(spec.headers ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
    ...(spec.schema ? { content: { [spec.contentType ?? 'application/json']: { schema: components.convert(spec.schema, 'output') } } } : {}),
  };
}

/** The error answers every operation may give besides its own, by what it checks. */
function errorResponses(components: Components, operation: Operation): Json {
  const error = (description: string) => ({ description, content: { 'application/json': { schema: components.convert(ErrorBody, 'output') } } });
  const { request = {}, auth } = operation;
  return {
    ...(request.body || request.query || request.params ? { 400: error('invalid_request: the named field is missing or wrong') } : {}),
    ...(auth === 'none' ? {} : { 401: error(auth.startsWith('client') || auth === 'receiver' ? 'invalid_client: the client did not authenticate' : 'invalid_token: no valid token (with a WWW-Authenticate challenge, RFC 6750 §3)') }),
    ...(auth === 'admin' ? { 403: error('access_denied: needs an administrator\'s unscoped credential') } : {}),
    default: error('any other error, as {error, error_description} (RFC 6749 §5.2)'),
  };
}

function operationObject(components: Components, operation: Operation): Json {
  const { request = {} } = operation;
  const body = request.body
    ? { requestBody: { required: true, content: { [request.contentType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json']: { schema: components.convert(request.body, 'input') } } } }
    : {};
  const own = Object.fromEntries(Object.entries(operation.responses).map(([status, spec]) => [status, response(components, spec)]));
  return {
    operationId: `${operation.method}${operation.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    security: SECURITY[operation.auth],
    parameters: [...parameters(components, 'path', request.params), ...parameters(components, 'query', request.query)],
    ...body,
    responses: { ...errorResponses(components, operation), ...own },
  };
}

export function buildOpenApiDocument(operations: Operation[], info: { version: string; issuer: string }): OpenApiDocument {
  const components = new Components();
  const paths: OpenApiDocument['paths'] = {};
  for (const operation of operations) {
    (paths[operation.path] ??= {})[operation.method] = operationObject(components, operation);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Tessera',
      version: info.version,
      description: 'The identity gateway\'s REST API: login sessions, personal access tokens, users, token introspection and revocation for downstream APIs (RFC 7662, RFC 7009), forward authentication, the audit trail, leaked-token reports and the Shared Signals transmitter. The OpenID Provider\'s own endpoints are described by its discovery document, /.well-known/openid-configuration.',
    },
    servers: [{ url: info.issuer }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: { schemas: components.schemas, securitySchemes: SECURITY_SCHEMES },
  };
}
