/**
 * Runs in a worker thread of the response pool (response-pool.ts), never on the event loop:
 * everything a posted SAML response costs before it is trusted. Parse, envelope rules, the
 * Response's own signature, samlify's checks (XML schema, status, decryption, signature against
 * the metadata certificate), then the assertion that signature vouches for, read into plain data.
 *
 * The answer is a verdict, not an exception: errors do not keep their class across threads, and
 * a refusal must reach the page with the rule it broke.
 *
 * Each worker compiles the schema validator (xmllint as asm.js, seconds of CPU) when it starts,
 * before it takes its first response, so no sign-in pays for that inside its budget.
 */
import samlify from 'samlify';
import { SignedXml } from 'xml-crypto';
import { Forbidden, TesseraError } from '../../errors.js';
import { checkEnvelope, rejectSha1, type Expectations } from './response-checks.js';
import { NS, parseXml, readAssertion, readEnvelope, signatureAlgorithms, type AssertionContent } from './response-reading.js';
import { checkResponseShape, type ShapeLimits } from './response-shape.js';
import { installSchemaValidator, rejectDtd, SCHEMA_INVALID, validateSchema } from './xml-schema.js';

/** What the pool sends: the source's trusted settings, the untrusted response, the rules. */
export interface VerifyTask {
  /** Identifies `source` below, so each worker builds samlify's entities once per setting. */
  sourceKey: string;
  source: {
    idpMetadata: string;
    sp: Record<string, unknown>;
    encrypted: boolean;
  };
  /** The posted SAMLResponse, base64 as posted. */
  encoded: string;
  /** The decoded XML (already through the shape scan). */
  xml: string;
  expect: Expectations;
  limits: ShapeLimits;
  /** Set to 1 (and notified) when this worker takes the task: the pool's budget starts then. */
  started: Int32Array;
}

/** A warm-up task only waits for the worker's start-up (see the pool's `warmUp`). */
export type WorkerTask = VerifyTask | { warmUp: true };

export type Verdict = { ok: true; assertion: AssertionContent } | { ok: false; message: string; log?: string };

/** Messages samlify rejects with, in words an administrator can act on. */
const SAMLIFY_ERRORS: [RegExp, string][] = [
  [/FAILED_TO_VERIFY_SIGNATURE|UNMATCH_CERTIFICATE|MESSAGE_SIGNATURE_VERIFICATION|NO_SELECTED_CERTIFICATE|^invalid signature/, "the signature does not verify against the IdP's certificate from its metadata"],
  [/POTENTIAL_WRAPPING_ATTACK|MULTIPLE_ASSERTION|EMPTY_ASSERTION/, 'the signed part does not hold exactly one assertion (signature wrapping?)'],
  [/ERR_UNMATCH_ISSUER/, "the assertion's Issuer is not the IdP in the metadata"],
  [/ERR_SUBJECT_UNCONFIRMED|ERR_EXPIRED_SESSION/, 'the assertion is outside its validity period (NotBefore/NotOnOrAfter)'],
  [/ERR_FAILED_STATUS|ERR_UNDEFINED_STATUS/, 'the IdP did not sign the user in (the response status is not Success)'],
  [/ENCRYPTED_ASSERTION|DECRYPTION/, "the encrypted assertion cannot be decrypted with this source's encryption key"],
  [new RegExp(SCHEMA_INVALID), 'the message is not valid SAML 2.0 (XML schema check failed)'],
];

// xmllint prints its findings; the gateway's log is not the place for them.
process.stdout.write = () => true;
process.stderr.write = () => true;
await installSchemaValidator();

// ---- samlify entities per source setting --------------------------------------------------------

interface Entities {
  idp: ReturnType<typeof samlify.IdentityProvider>;
  sp: ReturnType<typeof samlify.ServiceProvider>;
  certificates: string[];
}

const entities = new Map<string, Entities>();

function entitiesFor(task: VerifyTask): Entities {
  let found = entities.get(task.sourceKey);
  if (!found) {
    const idp = samlify.IdentityProvider({ metadata: task.source.idpMetadata, isAssertionEncrypted: task.source.encrypted });
    const certs = ([] as string[]).concat((idp.entityMeta.getX509Certificate('signing') as string | string[] | null) ?? []);
    found = { idp, sp: samlify.ServiceProvider(task.source.sp), certificates: certs.map((c) => c.replace(/\s+/g, '')) };
    // Metadata refreshes add settings; a handful per source over a process's life.
    if (entities.size > 64) entities.clear();
    entities.set(task.sourceKey, found);
  }
  return found;
}

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

/**
 * A signature directly under the Response must verify, against a certificate from the metadata,
 * and sign the Response itself. samlify accepts the first signature that verifies, so a broken
 * Response signature beside a good assertion signature would otherwise pass: a Response signed
 * by its IdP but then altered is not a response the IdP sent.
 */
function checkResponseSignature(doc: Document, xml: string, certificates: string[]): void {
  const root = doc.documentElement!;
  const signature = Array.from(root.childNodes).find((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === NS.dsig && (n as Element).localName === 'Signature');
  if (!signature) return;
  const reference = signature.getElementsByTagNameNS(NS.dsig, 'Reference')[0];
  const id = root.getAttribute('ID');
  if (!id || reference?.getAttribute('URI') !== `#${id}`) throw new Forbidden('the signature directly under the Response does not sign the Response');
  const verifies = certificates.some((cert) => {
    const check = new SignedXml({ publicCert: pem(cert) });
    check.loadSignature(signature);
    try {
      return check.checkSignature(xml);
    } catch {
      return false;
    }
  });
  if (!verifies) throw new Forbidden("the response's own signature does not verify against the IdP's certificate (when a Response is signed, that signature must hold)");
}

function hasSignatureChild(el: Element | null | undefined): boolean {
  return Boolean(el && Array.from(el.childNodes).some((n) => n.nodeType === 1 && (n as Element).namespaceURI === NS.dsig && (n as Element).localName === 'Signature'));
}

/**
 * An encrypted assertion gets the shape check the outside got before samlify decrypts and
 * verifies it (anyone can encrypt to our public certificate, so the inside is as untrusted as
 * the outside). And with the Response unsigned, only a signature inside the assertion can vouch
 * for it: samlify would report a missing one as a signature that does not verify, so say so.
 */
async function inspectEncrypted(task: VerifyTask, { sp }: Entities, responseSigned: boolean): Promise<void> {
  const [decrypted] = (await samlify.SamlLib.decryptAssertion(sp, task.xml)) as [string, string];
  rejectDtd(decrypted);
  checkResponseShape(decrypted, task.limits);
  const assertion = parseXml(decrypted).getElementsByTagNameNS(NS.assertion, 'Assertion')[0];
  if (!responseSigned && !hasSignatureChild(assertion)) throw new Forbidden('the encrypted assertion is not signed, and neither is the response: set the IdP to sign the assertion');
}

async function verifiedAssertion(task: VerifyTask, { idp, sp }: Entities): Promise<string> {
  let { samlContent } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: task.encoded } });
  if (task.source.encrypted) {
    // samlify hands back the still encrypted document when the assertion was signed before
    // encryption (Okta's way): decrypt it again to reach the signature it verified.
    if (readEnvelope(parseXml(samlContent)).encryptedAssertions > 0) [samlContent] = (await samlify.SamlLib.decryptAssertion(sp, samlContent)) as [string, string];
    // Anyone can encrypt to our public key: what was inside gets every check the outside got.
    rejectDtd(samlContent);
    checkResponseShape(samlContent, task.limits);
    await validateSchema(samlContent);
    rejectSha1(signatureAlgorithms(parseXml(samlContent)));
  }
  const [verified, assertion] = samlify.SamlLib.verifySignature(samlContent, {
    metadata: idp.entityMeta,
    signatureAlgorithm: idp.entitySetting.requestSignatureAlgorithm,
  }) as [boolean, string | null];
  if (!verified || !assertion) throw new Error('FAILED_TO_VERIFY_SIGNATURE');
  return assertion;
}

/** The piscina task: a verdict on one response. */
export default async function verifyResponse(task: WorkerTask): Promise<Verdict> {
  if ('warmUp' in task) return { ok: false, message: 'warm' };
  Atomics.store(task.started, 0, 1);
  Atomics.notify(task.started, 0);
  try {
    const found = entitiesFor(task);
    const doc = parseXml(task.xml);
    checkEnvelope(readEnvelope(doc), task.expect);
    checkResponseSignature(doc, task.xml, found.certificates);
    if (task.source.encrypted) await inspectEncrypted(task, found, hasSignatureChild(doc.documentElement));
    const assertion = await verifiedAssertion(task, found);
    return { ok: true, assertion: readAssertion(assertion) };
  } catch (err) {
    if (err instanceof TesseraError) return { ok: false, message: err.message };
    const message = err instanceof Error ? err.message : String(err);
    const known = SAMLIFY_ERRORS.find(([pattern]) => pattern.test(message));
    return known ? { ok: false, message: known[1] } : { ok: false, message: 'the response cannot be verified', log: `response rejected by samlify: ${message}` };
  }
}
