/**
 * The acceptance rules of a SAML Response beyond what samlify checks itself (schema, status,
 * signature against the metadata certificate, assertion Issuer, Conditions window on the wall
 * clock). These follow the Web Browser SSO profile (saml-profiles §4.1.4.3) and use the
 * gateway's clock, so they are testable and agree with the rest of Tessera on what "now" is.
 *
 * Each broken rule is a `Forbidden` naming it: the sign-in page shows it, so an administrator
 * wiring up an IdP sees which setting is wrong. None of them reveals anything the sender did not
 * already know.
 */
import { Forbidden } from '../../errors.js';
import type { AssertionContent, ResponseEnvelope } from './response-reading.js';

export interface Expectations {
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  /** The AuthnRequest this must answer; null for an unsolicited (IdP-initiated) response. */
  requestId: string | null;
  /** Assertions arrive encrypted (the source has an encryption key). */
  encrypted: boolean;
  now: number;
  skewMs: number;
}

const SHA1 = /#(rsa-)?sha1$/i;

function time(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Forbidden(`${what} is not a time: ${value}`);
  return ms;
}

function checkInResponseTo(value: string | undefined, e: Expectations, where: string): void {
  if (e.requestId === null) {
    if (value !== undefined) throw new Forbidden(`${where} InResponseTo names a sign-in request this gateway does not know (or that has expired)`);
    return;
  }
  if (value !== undefined && value !== e.requestId) throw new Forbidden(`${where} InResponseTo does not match the sign-in request this gateway sent`);
}

/** SHA-1 signatures are forgeable in principle (chosen-prefix collisions); Okta signs with SHA-256. */
export function rejectSha1(algorithms: string[]): void {
  if (algorithms.some((a) => SHA1.test(a))) throw new Forbidden('SHA-1 signatures are not accepted: set the IdP to sign with SHA-256');
}

/** Rules on the unsigned Response, checked before samlify looks at the signature. */
export function checkEnvelope(env: ResponseEnvelope, e: Expectations): void {
  const [plain, encrypted] = e.encrypted ? [0, 1] : [1, 0];
  if (!e.encrypted && env.encryptedAssertions === 1 && env.assertions === 0) {
    throw new Forbidden('the assertion is encrypted, and this source has no decryption key: set encryptionKey and encryptionCert, or turn assertion encryption off at the IdP');
  }
  if (env.assertions !== plain || env.encryptedAssertions !== encrypted) {
    throw new Forbidden(
      e.encrypted && env.assertions > 0 && env.encryptedAssertions === 0
        ? 'the assertion is not encrypted, and this source requires encrypted assertions'
        : `the response must carry exactly one assertion, it carries ${env.assertions + env.encryptedAssertions} (a second one is how signature wrapping smuggles in an identity)`,
    );
  }
  if (!e.encrypted && !env.signed) throw new Forbidden('neither the response nor its assertion is signed');
  rejectSha1(env.algorithms);
  if (env.destination !== undefined && env.destination !== e.acsUrl) {
    throw new Forbidden(`the response's Destination is not this gateway's ACS URL (${e.acsUrl})`);
  }
  if (env.issuer !== undefined && env.issuer !== e.idpEntityId) throw new Forbidden("the response's Issuer is not the IdP in the metadata");
  checkInResponseTo(env.inResponseTo, e, "the response's");
}

/**
 * Rules on the verified assertion. Returns until when it could be presented again, which is how
 * long its ID must stay in the replay cache.
 */
export function checkAssertion(a: AssertionContent, e: Expectations): { replayableUntil: number } {
  const { now, skewMs } = e;
  if (a.issuer !== e.idpEntityId) throw new Forbidden("the assertion's Issuer is not the IdP in the metadata");
  if (!a.id) throw new Forbidden('the assertion has no ID');
  if (!a.nameId) throw new Forbidden('the assertion has no NameID');

  // saml-core §2.5.1.4: every AudienceRestriction must name us; none at all would mean the
  // assertion is good for any SP the user signs in to.
  if (a.audienceRestrictions.length === 0) throw new Forbidden('the assertion has no Audience restriction');
  if (!a.audienceRestrictions.every((audiences) => audiences.includes(e.spEntityId))) {
    throw new Forbidden(`the assertion's Audience is not this gateway's entity ID (${e.spEntityId})`);
  }

  let until = Number.POSITIVE_INFINITY;
  if (a.notBefore !== undefined && now + skewMs < time(a.notBefore, 'Conditions NotBefore')) throw new Forbidden('the assertion is not valid yet (NotBefore)');
  if (a.notOnOrAfter !== undefined) {
    until = time(a.notOnOrAfter, 'Conditions NotOnOrAfter');
    if (now - skewMs >= until) throw new Forbidden('the assertion has expired (NotOnOrAfter)');
  }

  // saml-profiles §4.1.4.2: a bearer confirmation with our ACS as Recipient, a NotOnOrAfter,
  // and the request's ID. The first problem is reported if none qualifies.
  if (a.bearerConfirmations.length === 0) throw new Forbidden('the assertion has no bearer SubjectConfirmation');
  let problem: Forbidden | undefined;
  let confirmedUntil: number | undefined;
  for (const c of a.bearerConfirmations) {
    try {
      if (c.recipient !== e.acsUrl) throw new Forbidden(`the assertion's Recipient is not this gateway's ACS URL (${e.acsUrl})`);
      if (c.notOnOrAfter === undefined) throw new Forbidden('the SubjectConfirmationData has no NotOnOrAfter');
      const notOnOrAfter = time(c.notOnOrAfter, 'SubjectConfirmationData NotOnOrAfter');
      if (now - skewMs >= notOnOrAfter) throw new Forbidden('the assertion has expired (SubjectConfirmationData NotOnOrAfter)');
      if (c.notBefore !== undefined && now + skewMs < time(c.notBefore, 'SubjectConfirmationData NotBefore')) throw new Forbidden('the assertion is not valid yet');
      if (e.requestId !== null && c.inResponseTo === undefined) throw new Forbidden('the assertion does not say which sign-in request it answers (InResponseTo)');
      checkInResponseTo(c.inResponseTo, e, "the assertion's");
      confirmedUntil = notOnOrAfter;
      break;
    } catch (err) {
      problem ??= err as Forbidden;
    }
  }
  if (confirmedUntil === undefined) throw problem!;
  return { replayableUntil: Math.min(until, confirmedUntil) + skewMs };
}
