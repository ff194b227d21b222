/**
 * Sign-in through a SAML 2.0 IdP (Dex's SAML connector, as a `RedirectSource`): an AuthnRequest
 * over the HTTP-Redirect binding, the Response back over HTTP-POST to the ACS.
 *
 * A Response is accepted only when, in this order:
 *   0. on the event loop, only what costs little and is bounded: base64 of UTF-8 XML with no
 *      DTD, within the size, element, depth and signature-Reference limits (response-shape.ts);
 *      everything after it runs in a worker thread with a time budget (response-pool.ts);
 *   1. it is well-formed, a Response with exactly one assertion, signed (response and/or
 *      assertion), not with SHA-1, addressed to our ACS (Destination), from the IdP (Issuer),
 *      answering our request (InResponseTo); a signature directly under the Response verifies;
 *   2. samlify accepts it: XML schema, Success status, a signature that verifies against a
 *      certificate from the IdP's metadata (never one carried in the message: see
 *      idp-metadata.ts), assertion Issuer, Conditions window;
 *   3. the assertion samlify verified (taken again from its signature check, because samlify's
 *      result does not say which part was signed) names us as Audience and Recipient, answers
 *      our request, and is within NotBefore/NotOnOrAfter with the configured skew;
 *   4. its ID has not been accepted before (replay cache until it expires).
 * The identity is then read from that verified assertion only.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import samlify from 'samlify';
import type { Clock } from '../../clock.js';
import { Forbidden, TemporarilyUnavailable } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Identity, RedirectSource } from '../source.js';
import { roleFor } from '../role-mapping.js';
import { validUsername } from '../users.js';
import { NAME_ID_FORMATS, samlLimitsSchema, type SamlLimits, type SamlSourceConfig } from './config.js';
import { IdpMetadataSource, identityProviderFrom, type IdentityProvider } from './idp-metadata.js';
import { checkAssertion, type Expectations } from './response-checks.js';
import { responsePool, type ResponsePool } from './response-pool.js';
import type { AssertionContent } from './response-reading.js';
import { checkResponseShape } from './response-shape.js';
import type { VerifyTask } from './response-worker.js';
import type { SamlSignIns } from './sign-ins.js';
import { rejectDtd } from './xml-schema.js';
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
  /** `samlLimits` of the config; the defaults when omitted. */
  limits?: SamlLimits;
}

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
  readonly startPath: string;
  private readonly signing: { privateKey: string; signingCert: string } | undefined;
  private readonly encryption: { encPrivateKey: string; encryptCert: string } | undefined;
  private readonly metadataSource: IdpMetadataSource;
  private readonly log: Logger;
  private readonly limits: SamlLimits;
  private readonly pool: ResponsePool;
  private idp: IdentityProvider | undefined;
  private sp: ServiceProvider | undefined;
  /** What the response workers need to rebuild `idp` and `sp`, under a key naming that setting. */
  private workerSource: { key: string; source: VerifyTask['source'] } | undefined;
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
    this.startPath = `/saml/${config.id}/login`;
    this.log = (deps.logger ?? silentLogger).child({ component: 'saml', source: config.id });
    const signingKey = pemFrom(config, config.signingKey, config.signingKeyFile, 'signingKey');
    const signingCert = pemFrom(config, config.signingCert, config.signingCertFile, 'signingCert');
    this.signing = signingKey && signingCert ? { privateKey: signingKey, signingCert } : undefined;
    const encKey = pemFrom(config, config.encryptionKey, config.encryptionKeyFile, 'encryptionKey');
    const encCert = pemFrom(config, config.encryptionCert, config.encryptionCertFile, 'encryptionCert');
    this.encryption = encKey && encCert ? { encPrivateKey: encKey, encryptCert: encCert } : undefined;
    this.metadataSource = new IdpMetadataSource(config, deps.store, deps.clock, this.log);
    this.limits = deps.limits ?? samlLimitsSchema.parse({});
    this.pool = responsePool(this.limits);
  }

  /** Whether responses nobody asked for (from the IdP's dashboard) are accepted. */
  get allowIdpInitiated(): boolean {
    return this.config.allowIdpInitiated;
  }

  /** Whether usable IdP metadata is loaded (sign-ins can start): for metrics. */
  get hasMetadata(): boolean {
    return this.idp !== undefined;
  }

  up(): boolean {
    return this.hasMetadata;
  }

  /**
   * Loads the IdP metadata at start-up. A source whose IdP cannot be reached (and has no stored
   * copy) does not stop the gateway: it answers 503 and retries at its next sign-in.
   */
  async load(): Promise<void> {
    // Workers start now and compile their schema validator in the background; a response that
    // arrives first waits for them, outside its budget.
    this.pool.warmUp().catch((err: Error) => this.log.warn(`the SAML response workers did not start: ${err.message}`));
    // identityProvider() has logged why, if it failed.
    await this.identityProvider().catch(() => undefined);
  }

  /** This gateway's SP metadata, for the IdP's administrator. */
  metadataXml(): string {
    return this.serviceProvider(Boolean(this.signing)).getMetadata();
  }

  private serviceProvider(signRequests: boolean): ServiceProvider {
    return samlify.ServiceProvider(this.spSettings(signRequests));
  }

  /** samlify's settings of this SP: plain data, so a response worker can build the same SP. */
  private spSettings(signRequests: boolean) {
    return {
      entityID: this.spEntityId,
      assertionConsumerService: [{ Binding: POST_BINDING, Location: this.acsUrl }],
      nameIDFormat: [this.config.nameIdFormat],
      wantAssertionsSigned: true,
      // samlify refuses to build a request unless this equals the IdP's WantAuthnRequestsSigned.
      authnRequestsSigned: signRequests,
      ...(this.signing ?? {}),
      ...(this.encryption ?? {}),
      clockDrifts: [-this.config.clockSkew, this.config.clockSkew] as [number, number],
    };
  }

  private use(idp: IdentityProvider): IdentityProvider {
    const wantsSigned = idp.entityMeta.isWantAuthnRequestsSigned();
    if (wantsSigned && !this.signing) throw new Error('the IdP wants signed AuthnRequests: configure signingKey and signingCert');
    this.sp = this.serviceProvider(wantsSigned);
    this.idp = idp;
    const source = { idpMetadata: idp.entityMeta.getMetadata() as string, sp: this.spSettings(wantsSigned), encrypted: Boolean(this.encryption) };
    this.workerSource = { key: createHash('sha256').update(JSON.stringify(source)).digest('base64url'), source };
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
    const xml = decodeMessage(encoded, this.limits.maxResponseBytes);
    // Bounded work before trust: what the workers would parse and digest, scanned first.
    checkResponseShape(xml, this.limits);
    const expect: Expectations = {
      idpEntityId: idp.entityMeta.getEntityID(),
      spEntityId: this.spEntityId,
      acsUrl: this.acsUrl,
      requestId,
      encrypted: Boolean(this.encryption),
      now: this.deps.clock(),
      skewMs: this.config.clockSkew,
    };
    const { key, source } = this.workerSource!;
    const assertion = await this.pool.verify({ sourceKey: key, source, encoded, xml, expect, limits: this.limits }, (line) => this.log.warn(line));
    const { replayableUntil } = checkAssertion(assertion, expect);
    if (!(await this.deps.signIns.firstUseOfAssertion(this.id, assertion.id, replayableUntil))) {
      throw new Forbidden('this assertion has already been used (replay)');
    }
    return this.identityOf(assertion);
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
      role: roleFor(groups, roleMapping),
    };
  }
}

/**
 * The posted SAMLResponse as text. Strict base64 and strict UTF-8 (another encoding could hide
 * a DOCTYPE from the check below), and no DTD.
 */
function decodeMessage(encoded: string, maxBytes: number): string {
  // Base64 is 4 characters for 3 bytes (plus line breaks): refused by its length, before decoding.
  if (encoded.length > Math.ceil((maxBytes / 3) * 4 * 1.05) + 1024) throw new Forbidden(`the SAML response is larger than ${maxBytes} bytes`);
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
