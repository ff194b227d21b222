/**
 * Records every SAML response the assertion consumer refuses as `saml.rejected`, with a reason
 * class (never the response itself, nor the message, which may quote what the IdP sent).
 */
import type { Context, Next } from 'koa';
import { samlRejectionClass } from '../audit/saml-reasons.js';
import { TesseraError } from '../errors.js';
import type { Services } from '../services.js';

export const auditSamlRejections = (services: Services) =>
  async function recordSamlRejection(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      // Only for configured sources: an unknown id in the path is a 404, not a rejected response.
      if (err instanceof TesseraError && err.status < 500 && services.samlSources.some((s) => s.id === ctx.params.id)) {
        await services.audit.record({ type: 'saml.rejected', outcome: 'failed', reason: samlRejectionClass(err.message), source: ctx.params.id });
      }
      throw err;
    }
  };
