/**
 * The request an audited action belongs to, carried by AsyncLocalStorage so services record
 * events without threading ip, user agent and caller through every call. The HTTP layer opens it
 * (src/http/request-context.ts) and fills in the caller once authenticated; background jobs run
 * outside it and are recorded as `system`. The hot routes do not run inside it (the promise
 * hooks it costs): they hand the context to what they call explicitly.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditActor } from './event.js';

export interface RequestContext {
  requestId: string;
  ip: string;
  userAgent?: string;
  /** The authenticated caller, once known. */
  actor?: AuditActor;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const currentRequest = (): RequestContext | undefined => storage.getStore();

export function runInRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Records who the caller is for the rest of this request (the last authentication wins), in the
 * context given, else the one the code runs in.
 */
export function setRequestActor(actor: AuditActor, context: RequestContext | undefined = storage.getStore()): void {
  if (context) context.actor = actor;
}
