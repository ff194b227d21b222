/**
 * What every SAML message passes before samlify reads it: no DTD, and validity against the SAML
 * 2.0 XML schemas (protocol, assertion, xmldsig, xenc).
 *
 * The schema check is libxml2's xmllint compiled to JavaScript, from `samlify-validator-js`: pure
 * JS, no Java. It is the build `@authenio/samlify-node-xmllint` ships minus two lines that make
 * that package unusable in a server: every call left an `uncaughtException` listener and a
 * `process.stdout.once('drain', () => process.exit())` behind, each holding the 16 MiB heap of
 * that call (memory grows without bound, and the first stdout drain exits the gateway).
 *
 * Even so, the first call compiles 4.7 MB of asm.js (seconds of CPU) and every call holds the
 * CPU for ~20-40 ms, so it runs only in the response pool's workers (response-worker.ts), each
 * of which compiles it once at its start-up; the gateway's event loop never loads it.
 */
import { createRequire } from 'node:module';
import samlify from 'samlify';
import { Forbidden } from '../../errors.js';

/** A minimal valid message, validated at start-up so the validator compiles before the first sign-in. */
const WARM_UP = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_w" Version="2.0" IssueInstant="2000-01-01T00:00:00Z"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>';

/** samlify passes this message on; the worker maps it to the sentence a person reads. */
export const SCHEMA_INVALID = 'ERR_SCHEMA_INVALID';

/**
 * Refuses DTDs before any parser sees the text: entity expansion (billion laughs) and external
 * entities (XXE) need one, and SAML never does (saml-core §1.3; SAML security considerations
 * §6.3.1). xmllint would accept and expand an internal subset, so this cannot be left to it.
 */
export function rejectDtd(xml: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new Forbidden('the message carries a DOCTYPE or entity declaration, which SAML never needs');
}

let validator: { validate(xml: string): Promise<unknown> } | undefined;

/** Resolves for a schema-valid SAML message; rejects with `SCHEMA_INVALID` otherwise. */
export async function validateSchema(xml: string): Promise<string> {
  validator ??= createRequire(import.meta.url)('samlify-validator-js') as { validate(xml: string): Promise<unknown> };
  try {
    await validator.validate(xml);
  } catch {
    throw new Error(SCHEMA_INVALID);
  }
  return 'SUCCESS_VALIDATE_XML';
}

/** Makes samlify validate with xmllint and compiles it now; for a worker's start-up only. */
export async function installSchemaValidator(): Promise<void> {
  samlify.setSchemaValidator({ validate: validateSchema });
  await validateSchema(WARM_UP).catch(() => undefined);
}
