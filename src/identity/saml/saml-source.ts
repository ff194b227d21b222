/**
 * Sign-in through a SAML 2.0 IdP (Dex's SAML connector, as a `RedirectSource`): an AuthnRequest
 * over the HTTP-Redirect binding, the Response back over HTTP-POST to the ACS.
 *
 * A Response is accepted only when, in this order:
 *   1. it is base64 of UTF-8 XML with no DTD, well-formed, a Response with exactly one
 *      assertion, signed (response and/or assertion), not with SHA-1, addressed to our ACS
 *      (Destination), from the IdP (Issuer), answering our request (InResponseTo);
 *   2. samlify accepts it: XML schema, Success status, a signature that verifies against a
 *      certificate from the IdP's metadata (never one carried in the message: see
 *      idp-metadata.ts), assertion Issuer, Conditions window;
 *   3. the assertion samlify verified (taken again from its signature check, because samlify's
 *      result does not say which part was signed) names us as Audience and Recipient, answers
 *      our request, and is within NotBefore/NotOnOrAfter with the configured skew;
 *   4. its ID has not been accepted before (replay cache until it expires).
 * The identity is then read from that verified assertion only.
 */
import { readFileSync } from 'node:fs';
import samlify from 'samlify';
import type { Clock } from '../../clock.js';
import { Forbidden, TemporarilyUnavailable, TesseraError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Identity, RedirectSource } from '../source.js';
import { validUsername } from '../users.js';
import { NAME_ID_FORMATS, type SamlSourceConfig } from './config.js';
import { IdpMetadataSource, identityProviderFrom, type IdentityProvider } from './idp-metadata.js';
import { checkAssertion, checkEnvelope, rejectSha1, type Expectations } from './response-checks.js';
import { parseXml, readAssertion, readEnvelope, signatureAlgorithms, type AssertionContent } from './response-reading.js';
import type { SamlSignIns } from './sign-ins.js';
import { rejectDtd, validateSchema, warmUpSchemaValidator } from './xml-schema.js';
import { silentLogger, type Logger } from '../../observability/logger.js';

type ServiceProvider = ReturnType<typeof samlify.ServiceProvider>;

const POST_BINDING = samlify.Constants.namespace.binding.post;
/** Failing to reach the IdP's metadata again is retried at most this often while we have none. */
const RETRY_MS = 30_000;

export interface SamlSourceDeps {
  store: Store;
  clock: Clock;
  signIns: SamlSignIns;
  /** Public base URL of the gateway (`server.issuer`). */
  issuer: string;
  /** Operator-facing problems (metadata unreachable or refused). Default: none logged. */
  logger?: Logger;
}

/** Messages samlify rejects with, in words an administrator can act on. */
const SAMLIFY_ERRORS: [RegExp, string][] = [
  [/FAILED_TO_VERIFY_SIGNATURE|UNMATCH_CERTIFICATE|MESSAGE_SIGNATURE_VERIFICATION|NO_SELECTED_CERTIFICATE|^invalid signature/, "the signature does not verify against the IdP's certificate from its metadata"],
  [/POTENTIAL_WRAPPING_ATTACK|MULTIPLE_ASSERTION|EMPTY_ASSERTION/, 'the signed part does not hold exactly one assertion (signature wrapping?)'],
  [/ERR_UNMATCH_ISSUER/, "the assertion's Issuer is not the IdP in the metadata"],
  [/ERR_SUBJECT_UNCONFIRMED|ERR_EXPIRED_SESSION/, 'the assertion is outside its validity period (NotBefore/NotOnOrAfter)'],
  [/ERR_FAILED_STATUS|ERR_UNDEFINED_STATUS/, 'the IdP did not sign the user in (the response status is not Success)'],
  [/ENCRYPTED_ASSERTION|DECRYPTION/, 'the encrypted assertion cannot be decrypted with this source\'s encryption key'],
];

function pemFrom(config: SamlSourceConfig, inline: string | undefined, file: string | undefined, key: string): string | undefined {
  if (inline) return inline;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`saml source ${config.id}: cannot read ${key}File ${file}: ${(err as Error).message}`);
  }
}

export class SamlSource implements RedirectSource {
  readonly id: string;
  readonly displayName: string;
  readonly spEntityId: string;
  readonly acsUrl: string;
  private readonly signing: { privateKey: string; signingCert: string } | undefined;
  private readonly encryption: { encPrivateKey: string; encryptCert: string } | undefined;
  private readonly metadataSource: IdpMetadataSource;
  private readonly log: Logger;
  private idp: IdentityProvider | undefined;
  private sp: ServiceProvider | undefined;
  private loading: Promise<IdentityProvider> | undefined;
  private lastFailure = 0;

  constructor(
    private readonly config: SamlSourceConfig,
    private readonly deps: SamlSourceDeps,
  ) {
    this.id = config.id;
    this.displayName = config.displayName;
    const base = deps.issuer.replace(/\/+$/, '');
    this.spEntityId = config.spEntityId ?? `${base}/saml/${config.id}/metadata`;
    this.acsUrl = `${base}/saml/${config.id}/acs`;
    this.log = (deps.logger ?? silentLogger).child({ component: 'saml', source: config.id });
    const signingKey = pemFrom(config, config.signingKey, config.signingKeyFile, 'signingKey');
    const signingCert = pemFrom(config, config.signingCert, config.signingCertFile, 'signingCert');
    this.signing = signingKey && signingCert ? { privateKey: signingKey, signingCert } : undefined;
    const encKey = pemFrom(config, config.encryptionKey, config.encryptionKeyFile, 'encryptionKey');
    const encCert = pemFrom(config, config.encryptionCert, config.encryptionCertFile, 'encryptionCert');
    this.encryption = encKey && encCert ? { encPrivateKey: encKey, encryptCert: encCert } : undefined;
    this.metadataSource = new IdpMetadataSource(config, deps.store, deps.clock, this.log);
  }

  /** Whether responses nobody asked for (from the IdP's dashboard) are accepted. */
  get allowIdpInitiated(): boolean {
    return this.config.allowIdpInitiated;
  }

  /** Whether usable IdP metadata is loaded (sign-ins can start): for metrics. */
  get hasMetadata(): boolean {
    return this.idp !== undefined;
  }

  /**
   * Loads the IdP metadata at start-up. A source whose IdP cannot be reached (and has no stored
   * copy) does not stop the gateway: it answers 503 and retries at its next sign-in.
   */
  async load(): Promise<void> {
    warmUpSchemaValidator();
    // identityProvider() has logged why, if it failed.
    await this.identityProvider().catch(() => undefined);
  }

  /** This gateway's SP metadata, for the IdP's administrator. */
  metadataXml(): string {
    return this.serviceProvider(Boolean(this.signing)).getMetadata();
  }

  private serviceProvider(signRequests: boolean): ServiceProvider {
    return samlify.ServiceProvider({
      entityID: this.spEntityId,
      assertionConsumerService: [{ Binding: POST_BINDING, Location: this.acsUrl }],
      nameIDFormat: [this.config.nameIdFormat],
      wantAssertionsSigned: true,
      // samlify refuses to build a request unless this equals the IdP's WantAuthnRequestsSigned.
      authnRequestsSigned: signRequests,
      ...(this.signing ?? {}),
      ...(this.encryption ?? {}),
      clockDrifts: [-this.config.clockSkew, this.config.clockSkew],
    });
  }

  private use(idp: IdentityProvider): IdentityProvider {
    const wantsSigned = idp.entityMeta.isWantAuthnRequestsSigned();
    if (wantsSigned && !this.signing) throw new Error('the IdP wants signed AuthnRequests: configure signingKey and signingCert');
    this.sp = this.serviceProvider(wantsSigned);
    this.idp = idp;
    return idp;
  }

  private async identityProvider(): Promise<IdentityProvider> {
    if (this.idp) {
      if (this.metadataSource.stale()) this.metadataSource.refresh((xml) => this.useRefreshed(xml));
      return this.idp;
    }
    if (this.deps.clock() - this.lastFailure < RETRY_MS) throw new TemporarilyUnavailable(`the identity provider of ${this.displayName} is not available`);
    this.loading ??= this.metadataSource
      .load()
      .then((xml) => this.use(identityProviderFrom(xml, this.idpOptions())))
      .catch((err: Error) => {
        this.lastFailure = this.deps.clock();
        this.log.warn(`cannot use the IdP metadata: ${err.message}`);
        throw new TemporarilyUnavailable(`the identity provider of ${this.displayName} is not available`);
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private useRefreshed(xml: string): void {
    try {
      this.use(identityProviderFrom(xml, this.idpOptions()));
    } catch (err) {
      this.log.warn(`refreshed metadata not used: ${(err as Error).message}`);
    }
  }

  private idpOptions() {
    // samlify decrypts when the IdP entity says its assertions are encrypted.
    return { isAssertionEncrypted: Boolean(this.encryption) };
  }

  async signInRedirect(relayState: string): Promise<{ url: string; requestId: string }> {
    const idp = await this.identityProvider();
    const { id, context } = this.sp!.createLoginRequest(idp, 'redirect', { relayState });
    return { url: context, requestId: id };
  }

  async verifyResponse(form: Record<string, unknown>, requestId: string | null): Promise<Identity> {
    if (requestId === null && !this.config.allowIdpInitiated) {
      throw new Forbidden(`IdP-initiated sign-in is turned off for ${this.displayName}: start from the Tessera sign-in page`);
    }
    const idp = await this.identityProvider();
    const encoded = form.SAMLResponse;
    if (typeof encoded !== 'string' || !encoded) throw new Forbidden('no SAMLResponse was posted');
    const xml = decodeMessage(encoded);
    const expect: Expectations = {
      idpEntityId: idp.entityMeta.getEntityID(),
      spEntityId: this.spEntityId,
      acsUrl: this.acsUrl,
      requestId,
      encrypted: Boolean(this.encryption),
      now: this.deps.clock(),
      skewMs: this.config.clockSkew,
    };
    checkEnvelope(readEnvelope(parseXml(xml)), expect);
    const assertion = readAssertion(await this.verifiedAssertion(idp, encoded));
    const { replayableUntil } = checkAssertion(assertion, expect);
    if (!(await this.deps.signIns.firstUseOfAssertion(this.id, assertion.id, replayableUntil))) {
      throw new Forbidden('this assertion has already been used (replay)');
    }
    return this.identityOf(assertion);
  }

  /** samlify's checks, then the assertion its signature check vouches for. */
  private async verifiedAssertion(idp: IdentityProvider, encoded: string): Promise<string> {
    try {
      let { samlContent } = await this.sp!.parseLoginResponse(idp, 'post', { body: { SAMLResponse: encoded } });
      if (this.encryption) {
        // samlify hands back the still encrypted document when the assertion was signed before
        // encryption (Okta's way): decrypt it again to reach the signature it verified.
        if (readEnvelope(parseXml(samlContent)).encryptedAssertions > 0) [samlContent] = (await samlify.SamlLib.decryptAssertion(this.sp!, samlContent)) as [string, string];
        // Anyone can encrypt to our public key, and samlify checked only the outer document.
        rejectDtd(samlContent);
        await validateSchema(samlContent);
        rejectSha1(signatureAlgorithms(parseXml(samlContent)));
      }
      const [verified, assertion] = samlify.SamlLib.verifySignature(samlContent, {
        metadata: idp.entityMeta,
        signatureAlgorithm: idp.entitySetting.requestSignatureAlgorithm,
      }) as [boolean, string | null];
      if (!verified || !assertion) throw new Error('FAILED_TO_VERIFY_SIGNATURE');
      return assertion;
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const known = SAMLIFY_ERRORS.find(([pattern]) => pattern.test(message));
      if (!known) this.log.warn(`response rejected by samlify: ${message}`);
      throw new Forbidden(known?.[1] ?? 'the response cannot be verified');
    }
  }

  private identityOf(a: AssertionContent): Identity {
    const { attributes: names, roleMapping } = this.config;
    const first = (name: string) => a.attributes.get(name)?.find((v) => v.trim() !== '');
    if (!names.username && a.nameIdFormat === NAME_ID_FORMATS.transient) {
      throw new Forbidden('the NameID is transient (it changes at every sign-in), so it cannot be the username: set attributes.username');
    }
    const username = names.username ? first(names.username) : a.nameId;
    if (!username) throw new Forbidden(`the assertion has no ${names.username} attribute for the username`);
    if (!validUsername(username)) throw new Forbidden('the username the IdP sent is not a valid Tessera username (letters, digits and . _ @ + -)');
    const groups = [...new Set((a.attributes.get(names.groups) ?? []).map((g) => g.trim()).filter(Boolean))];
    const nameIdIsEmail = a.nameIdFormat === NAME_ID_FORMATS.emailAddress;
    return {
      source: this.id,
      username,
      displayName: first(names.displayName) ?? username,
      email: first(names.email) ?? (nameIdIsEmail ? a.nameId : ''),
      groups,
      role: roleMapping ? (groups.some((g) => roleMapping.admin.includes(g)) ? 'admin' : 'normal') : undefined,
    };
  }
}

/**
 * The posted SAMLResponse as text. Strict base64 and strict UTF-8 (another encoding could hide
 * a DOCTYPE from the check below), and no DTD.
 */
function decodeMessage(encoded: string): string {
  const compact = encoded.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new Forbidden('the SAMLResponse is not base64');
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    throw new Forbidden('the SAMLResponse is not UTF-8 text');
  }
  rejectDtd(xml);
  return xml;
}
