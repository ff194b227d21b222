/**
 * A SAML IdP for tests, built from samlify's own pieces: an `IdentityProvider` entity for the
 * metadata (and, in one test, its own response builder), samlify's Response template and its
 * XML-DSig signing (xml-crypto underneath). Keys and certificates are made at run time by
 * openssl, never committed.
 *
 * `response()` builds an assertion with every field a test may want to get wrong, signs the
 * assertion and/or the response with any key, and lets a test edit the XML text before and after
 * signing: each rejection test changes one thing of a response that is otherwise accepted.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import samlify from 'samlify';
import { samlLimitsSchema, type SamlLimits } from '../../src/identity/saml/config.js';
import { responsePool } from '../../src/identity/saml/response-pool.js';
import { CookieBrowser, type Page } from './browser.js';

export interface KeyPair {
  key: string;
  cert: string;
}

/** A fresh RSA key and self-signed certificate (openssl, as an operator would make them). */
export function makeKeyPair(cn: string): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-saml-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The base64 body of a PEM certificate, as metadata and KeyInfo carry it. */
export const certBody = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

/** Base64 of the XML text, as the HTML form the IdP returns posts it. */
export const encode = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

const escapeXml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface ResponseOptions {
  /** The AuthnRequest answered; omit for an unsolicited (IdP-initiated) response. */
  inResponseTo?: string;
  acsUrl: string;
  audience: string;
  nameId: string;
  nameIdFormat?: string;
  attributes?: Record<string, string[]>;
  /** Base time (ms); the assertion is valid from now - 1 min to now + 5 min. */
  now: number;
  notBefore?: number;
  notOnOrAfter?: number;
  /** Defaults: Destination and Recipient = acsUrl, Issuer = the IdP. */
  destination?: string;
  recipient?: string;
  issuer?: string;
  /** What to sign, and with which key. Default: the assertion, with the IdP's key. */
  sign?: 'assertion' | 'response' | 'both' | 'none';
  signWith?: KeyPair;
  /** Edits of the XML text before signing (still signed) and after (breaking or not the signature). */
  beforeSigning?: (xml: string) => string;
  afterSigning?: (xml: string) => string;
}

export class TestIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly keys: KeyPair;
  readonly entity: ReturnType<typeof samlify.IdentityProvider>;

  constructor(options: { entityId?: string; ssoUrl?: string; keys?: KeyPair } = {}) {
    this.entityId = options.entityId ?? 'http://idp.example.test/metadata';
    this.ssoUrl = options.ssoUrl ?? 'http://idp.example.test/sso';
    this.keys = options.keys ?? makeKeyPair('test-idp');
    this.entity = samlify.IdentityProvider({
      entityID: this.entityId,
      signingCert: this.keys.cert,
      privateKey: this.keys.key,
      nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
      singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: this.ssoUrl }],
    });
  }

  metadata(): string {
    return this.entity.getMetadata();
  }

  /** What the browser brings to the IdP: the AuthnRequest (inflated) and the RelayState. */
  readRequest(url: string): { id: string; acsUrl: string; issuer: string; relayState: string; xml: string } {
    const params = new URL(url).searchParams;
    const xml = inflateRawSync(Buffer.from(params.get('SAMLRequest')!, 'base64')).toString('utf8');
    return {
      id: /\bID="([^"]+)"/.exec(xml)![1]!,
      acsUrl: /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)?.[1] ?? '',
      issuer: /<saml:Issuer>([^<]+)</.exec(xml)?.[1] ?? '',
      relayState: params.get('RelayState') ?? '',
      xml,
    };
  }

  /** The unsigned Response XML from samlify's template. */
  responseXml(o: ResponseOptions): string {
    const iso = (ms: number) => new Date(ms).toISOString();
    const attributes = Object.entries(o.attributes ?? {})
      .map(
        ([name, values]) =>
          `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values
            .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`)
            .join('')}</saml:Attribute>`,
      )
      .join('');
    const notOnOrAfter = iso(o.notOnOrAfter ?? o.now + 5 * 60_000);
    const xml = samlify.SamlLib.replaceTagsByValue(samlify.SamlLib.defaultLoginResponseTemplate.context, {
      ID: `_${randomUUID()}`,
      AssertionID: `_${randomUUID()}`,
      Destination: o.destination ?? o.acsUrl,
      Audience: o.audience,
      SubjectRecipient: o.recipient ?? o.acsUrl,
      Issuer: o.issuer ?? this.entityId,
      IssueInstant: iso(o.now),
      StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      ConditionsNotBefore: iso(o.notBefore ?? o.now - 60_000),
      ConditionsNotOnOrAfter: notOnOrAfter,
      SubjectConfirmationDataNotOnOrAfter: notOnOrAfter,
      NameIDFormat: o.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      NameID: o.nameId,
      InResponseTo: o.inResponseTo,
      AuthnStatement: '',
      AttributeStatement: '',
    });
    // The template leaves no room for attributes: they go at the end of the assertion.
    return attributes ? xml.replace('</saml:Assertion>', `<saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion>`) : xml;
  }

  /** A signed (or not) Response, base64 as the browser posts it. */
  response(o: ResponseOptions): string {
    const xml = (o.beforeSigning ?? ((x) => x))(this.responseXml(o));
    return encode((o.afterSigning ?? ((x) => x))(this.sign(xml, o.sign, o.signWith)));
  }

  /** Encrypts the (signed) assertion for the SP whose metadata is given, as samlify's IdP does: base64. */
  encrypt(xml: string, spMetadata: string): Promise<string> {
    const encrypting = samlify.IdentityProvider({ ...this.entity.entitySetting, metadata: this.metadata(), isAssertionEncrypted: true });
    return samlify.SamlLib.encryptAssertion(encrypting, samlify.ServiceProvider({ metadata: spMetadata }), xml);
  }

  /** Signs Response XML as samlify's IdentityProvider does (exclusive c14n, RSA-SHA256 unless told). */
  sign(xml: string, what: ResponseOptions['sign'] = 'assertion', keys: KeyPair = this.keys, signatureAlgorithm = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'): string {
    const common = { privateKey: keys.key, signingCert: certBody(keys.cert), isBase64Output: false, signatureAlgorithm };
    if (what === 'assertion' || what === 'both') {
      xml = samlify.SamlLib.constructSAMLSignature({
        ...common,
        rawSamlMessage: xml,
        referenceTagXPath: "/*[local-name(.)='Response']/*[local-name(.)='Assertion']",
        signatureConfig: { prefix: 'ds', location: { reference: "/*[local-name(.)='Response']/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' } },
      });
    }
    if (what === 'response' || what === 'both') {
      xml = samlify.SamlLib.constructSAMLSignature({
        ...common,
        rawSamlMessage: xml,
        isMessageSigned: true,
        signatureConfig: { prefix: 'ds', location: { reference: "/*[local-name(.)='Response']/*[local-name(.)='Issuer']", action: 'after' } },
      });
    }
    return xml;
  }
}

/**
 * The browser's half of a SAML sign-in. The IdP's POST to the ACS is cross-site, so it carries
 * none of the gateway's SameSite=Lax cookies: it is sent from a cookie-less client, and only the
 * 303 that follows comes back to the browser.
 */
export class SamlBrowser extends CookieBrowser {
  /** A cookie's value (the jar is private to CookieBrowser; reading it is test-only). */
  cookie(name: string): string | undefined {
    return (Reflect.get(this, 'jar') as Map<string, string>).get(name);
  }

  /** Follows a sign-in link to the IdP; returns the request the IdP receives. */
  async startSignIn(url: string, idp: TestIdp): Promise<ReturnType<TestIdp['readRequest']>> {
    const page = await this.get(url);
    if (page.status !== 303 || !page.location?.startsWith(idp.ssoUrl)) throw new Error(`no redirect to the IdP: ${page.status} ${page.text.slice(0, 500)}`);
    return idp.readRequest(page.location);
  }
}

/** The IdP's auto-submitted form, as a cross-site POST: no cookies. */
export function postToAcs(acsUrl: string, SAMLResponse: string, RelayState?: string): Promise<Page> {
  return new CookieBrowser().post(acsUrl, { SAMLResponse, ...(RelayState === undefined ? {} : { RelayState }) });
}

/**
 * The test IdP as a web server for real-browser tests, on `localhost` (another site than the
 * gateway's 127.0.0.1, so its form post to the ACS is cross-site, cookies and all). GET /sso
 * signs in `user()` at once and answers with the auto-submitting form a real IdP sends.
 */
export async function serveTestIdp(user: () => { nameId: string; attributes?: Record<string, string[]> }, now: () => number): Promise<{ idp: TestIdp; close(): Promise<void> }> {
  let idp: TestIdp | undefined;
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/sso?')) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const request = idp!.readRequest(new URL(req.url!, idp!.ssoUrl).toString());
    const response = idp!.response({ ...user(), inResponseTo: request.id, acsUrl: request.acsUrl, audience: request.issuer, now: now() });
    const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${attr(request.acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${attr(response)}"><input type="hidden" name="RelayState" value="${attr(request.relayState)}">
<noscript><button type="submit">Continue</button></noscript></form></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp = new TestIdp({ ssoUrl: `http://localhost:${(server.address() as AddressInfo).port}/sso` });
  return { idp, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Waits until this process's SAML response workers have started: each compiles the schema
 * validator first, seconds of CPU (tens on a loaded machine), which a test's first sign-in
 * should not have to sit through inside its own timeout.
 */
export function samlWorkersReady(limits: Partial<SamlLimits> = {}): Promise<void> {
  return responsePool(samlLimitsSchema.parse(limits)).warmUp();
}
