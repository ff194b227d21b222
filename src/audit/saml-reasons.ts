/**
 * Why a SAML response was refused, as a class for `saml.rejected` events: the refusal messages
 * are written for the person at the browser; an auditor filters on a short stable word.
 */
const CLASSES: [RegExp, string][] = [
  [/replay|already been (used|answered)/i, 'replay'],
  [/signature|signed|cannot be verified|verify/i, 'signature'],
  [/expired|not yet valid|unknown|RelayState|does not belong/i, 'unknown_or_expired_request'],
  [/disabled/i, 'user_disabled'],
  [/another source/i, 'name_of_another_source'],
  [/IdP-initiated/i, 'idp_initiated_refused'],
  [/audience|recipient|destination|issuer/i, 'wrong_audience_or_issuer'],
  [/username|NameID|attribute/i, 'unusable_identity'],
  [/base64|UTF-8|DTD|schema|XML|SHA-1|no SAMLResponse/i, 'malformed'],
];

export function samlRejectionClass(message: string): string {
  return CLASSES.find(([pattern]) => pattern.test(message))?.[1] ?? 'rejected';
}
