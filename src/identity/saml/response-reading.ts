/**
 * Reading a SAML Response with a DOM (xmldom, samlify's own parser): the unsigned envelope, for
 * the structural checks made before samlify verifies anything, and the assertion samlify
 * verified, which is the only place an identity is read from.
 *
 * Text is read with `textContent`, which joins every text node of an element and skips comments:
 * `<NameID>admin<!---->@evil.com</NameID>` reads as `admin@evil.com`, the value the IdP signed
 * (exclusive c14n drops comments before digesting), never as `admin`.
 */
import { DOMParser } from '@xmldom/xmldom';
import { Forbidden } from '../../errors.js';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
};

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** Everything the checks and the identity need from the verified assertion. */
export interface AssertionContent {
  id: string;
  issuer: string;
  nameId: string;
  nameIdFormat: string | undefined;
  notBefore: string | undefined;
  notOnOrAfter: string | undefined;
  /** One list per AudienceRestriction: each must name us (saml-core §2.5.1.4). */
  audienceRestrictions: string[][];
  /** SubjectConfirmationData of each bearer SubjectConfirmation. */
  bearerConfirmations: { recipient?: string; inResponseTo?: string; notOnOrAfter?: string; notBefore?: string }[];
  attributes: Map<string, string[]>;
}

/** What the checks need from the (unsigned) Response around it. */
export interface ResponseEnvelope {
  destination: string | undefined;
  inResponseTo: string | undefined;
  issuer: string | undefined;
  assertions: number;
  encryptedAssertions: number;
  /** A ds:Signature directly under the Response or under one of its assertions. */
  signed: boolean;
  /** Signature and digest algorithms of every signature in the message (not of encryption). */
  algorithms: string[];
}

export function parseXml(xml: string): Document {
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: { warning: () => undefined, error: (m) => problems.push(m), fatalError: (m) => problems.push(m) },
  }).parseFromString(xml, 'text/xml');
  if (problems.length || !doc?.documentElement) throw new Forbidden('the message is not well-formed XML');
  return doc;
}

const attr = (el: Element | undefined, name: string): string | undefined => (el?.hasAttribute(name) ? el.getAttribute(name)! : undefined);

function children(parent: Element | undefined, ns: string, name: string): Element[] {
  if (!parent) return [];
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).namespaceURI === ns && (node as Element).localName === name) out.push(node as Element);
  }
  return out;
}

const child = (parent: Element | undefined, ns: string, name: string): Element | undefined => children(parent, ns, name)[0];

export function readEnvelope(doc: Document): ResponseEnvelope {
  const root = doc.documentElement!;
  if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') throw new Forbidden('the message is not a SAML Response');
  const all = (ns: string, name: string) => Array.from(doc.getElementsByTagNameNS(ns, name));
  const assertions = children(root, NS.assertion, 'Assertion');
  return {
    destination: attr(root, 'Destination'),
    inResponseTo: attr(root, 'InResponseTo'),
    issuer: child(root, NS.assertion, 'Issuer')?.textContent ?? undefined,
    // Anywhere in the document, not just under the Response: a second assertion hidden in
    // Extensions, Advice or a Signature's Object is how signature wrapping works.
    assertions: all(NS.assertion, 'Assertion').length,
    encryptedAssertions: all(NS.assertion, 'EncryptedAssertion').length,
    signed: children(root, NS.dsig, 'Signature').length > 0 || assertions.some((a) => children(a, NS.dsig, 'Signature').length > 0),
    algorithms: signatureAlgorithms(doc),
  };
}

/** The SignatureMethod and Reference DigestMethod of each ds:SignedInfo in the document. */
export function signatureAlgorithms(doc: Document): string[] {
  return Array.from(doc.getElementsByTagNameNS(NS.dsig, 'SignedInfo'))
    .flatMap((info) => [...children(info, NS.dsig, 'SignatureMethod'), ...children(info, NS.dsig, 'Reference').flatMap((r) => children(r, NS.dsig, 'DigestMethod'))])
    .map((el) => attr(el, 'Algorithm') ?? '');
}

export function readAssertion(xml: string): AssertionContent {
  const root = parseXml(xml).documentElement!;
  if (root.namespaceURI !== NS.assertion || root.localName !== 'Assertion') throw new Forbidden('the signed part is not an assertion');
  const subject = child(root, NS.assertion, 'Subject');
  const nameId = child(subject, NS.assertion, 'NameID');
  const conditions = child(root, NS.assertion, 'Conditions');
  const attributes = new Map<string, string[]>();
  for (const statement of children(root, NS.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, NS.assertion, 'Attribute')) {
      const name = attr(attribute, 'Name');
      if (!name) continue;
      const values = children(attribute, NS.assertion, 'AttributeValue').map((v) => v.textContent ?? '');
      attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
    }
  }
  return {
    id: attr(root, 'ID') ?? '',
    issuer: child(root, NS.assertion, 'Issuer')?.textContent ?? '',
    nameId: nameId?.textContent ?? '',
    nameIdFormat: attr(nameId, 'Format'),
    notBefore: attr(conditions, 'NotBefore'),
    notOnOrAfter: attr(conditions, 'NotOnOrAfter'),
    audienceRestrictions: children(conditions, NS.assertion, 'AudienceRestriction').map((r) =>
      children(r, NS.assertion, 'Audience').map((a) => (a.textContent ?? '').trim()),
    ),
    bearerConfirmations: children(subject, NS.assertion, 'SubjectConfirmation')
      .filter((c) => attr(c, 'Method') === BEARER)
      .map((c) => {
        const data = child(c, NS.assertion, 'SubjectConfirmationData');
        return {
          recipient: attr(data, 'Recipient'),
          inResponseTo: attr(data, 'InResponseTo'),
          notOnOrAfter: attr(data, 'NotOnOrAfter'),
          notBefore: attr(data, 'NotBefore'),
        };
      }),
    attributes,
  };
}
