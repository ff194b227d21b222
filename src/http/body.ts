/**
 * Request bodies, with the size limit applied before parsing (413) and the content type checked
 * (415), so a wrong or oversized request is refused before anything acts on it.
 */
import coBody from 'co-body';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

export type Fields = Record<string, unknown>;

/**
 * The body of a request that declares its length (within the limit) and no content encoding,
 * read as UTF-8 straight off the stream: every introspection sends one of a few hundred bytes,
 * and the general reader's streaming charset decoder costs more than the rest of the check's
 * parsing. Other requests (chunked, compressed, too large) take the general reader.
 */
function readDeclaredBody(req: IncomingMessage, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = () => {
      cleanup();
      if (received === length) resolve(Buffer.concat(chunks, received).toString('utf8'));
      else reject(new InvalidRequest('the body does not match its Content-Length'));
    };
    const onAbort = () => {
      cleanup();
      reject(new InvalidRequest('the request ended before its body'));
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
    };
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort);
  });
}

function declaredLength(ctx: Context, limit: number): number | undefined {
  const encoding = ctx.get('Content-Encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  const length = ctx.request.length;
  return length !== undefined && length <= limit && !ctx.get('Transfer-Encoding') ? length : undefined;
}

async function parse(ctx: Context, kind: 'json' | 'form', limit: number): Promise<unknown> {
  try {
    if (kind === 'json') return await coBody.json(ctx.req, { limit, strict: true });
    const length = declaredLength(ctx, limit);
    const text = length !== undefined ? await readDeclaredBody(ctx.req, length) : await coBody.text(ctx.req, { limit });
    // Kept for handing the request on to oidc-provider, which parses bodies itself.
    ctx.state.rawForm = text;
    return new URLSearchParams(text);
  } catch (err) {
    if (err instanceof InvalidRequest) throw err;
    const status = (err as { status?: number }).status;
    if (status === 413) throw new PayloadTooLarge(`request body larger than ${limit} bytes`);
    if (status === 415) throw new UnsupportedMediaType('unsupported content encoding');
    throw new InvalidRequest(kind === 'json' ? 'the body is not valid JSON' : 'the body is not a valid form');
  }
}

/** A JSON object body. An empty body is `{}`. */
export async function readJson(ctx: Context, limit: number): Promise<Fields> {
  if (!ctx.request.length && !ctx.get('Transfer-Encoding')) return {};
  if (!ctx.is('application/json')) throw new UnsupportedMediaType('send the body as Content-Type: application/json');
  const body = await parse(ctx, 'json', limit);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('the body must be a JSON object');
  return body as Fields;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * A form body. The plain media type with a declared length (what OAuth clients send) is
 * recognised without the general matcher's parsing; anything else is left to it.
 */
function isForm(ctx: Context): boolean {
  const type = ctx.get('Content-Type');
  const semicolon = type.indexOf(';');
  const plain = (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase() === FORM;
  return (plain && ctx.get('Content-Length') !== '') || ctx.is(FORM) === FORM;
}

/** An `application/x-www-form-urlencoded` body, as OAuth endpoints take (RFC 6749 §3.2). */
export async function readForm(ctx: Context, limit: number): Promise<Fields> {
  if (!isForm(ctx)) {
    throw new UnsupportedMediaType('send the body as Content-Type: application/x-www-form-urlencoded');
  }
  const params = (await parse(ctx, 'form', limit)) as URLSearchParams;
  const body: Fields = {};
  for (const [key, value] of params) {
    // RFC 6749 §3.1: parameters must not be repeated.
    if (Object.hasOwn(body, key)) throw new InvalidRequest(`parameter ${key} must appear once`);
    body[key] = value;
  }
  return body;
}

/**
 * The form body of a request bound for oidc-provider, read with the gateway's limit and handed
 * over as `req.body` (which oidc-provider reads when the stream is used up). Null when the
 * request has no form body. A body already read by a route (`rawForm`) is reused.
 */
export async function readProviderForm(ctx: Context, limit: number): Promise<URLSearchParams | null> {
  const req = ctx.req as typeof ctx.req & { body?: string };
  if (typeof ctx.state.rawForm === 'string') {
    req.body = ctx.state.rawForm;
    return new URLSearchParams(ctx.state.rawForm);
  }
  if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return null;
  const params = (await parse(ctx, 'form', limit)) as URLSearchParams;
  req.body = ctx.state.rawForm as string;
  return params;
}

export function stringField(body: Fields, key: string, required: true): string;
export function stringField(body: Fields, key: string, required?: false): string | undefined;
export function stringField(body: Fields, key: string, required = false): string | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === '') {
    if (required) throw new InvalidRequest(`${key} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new InvalidRequest(`${key} must be a string`);
  return value;
}
