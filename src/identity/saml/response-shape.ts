/**
 * The cheap look at a SAML response taken before any parser or cryptography touches it: one pass
 * over the text, each character read a bounded number of times, no DOM, no regular expression
 * that can backtrack. It refuses the shapes that make the expensive steps expensive:
 *
 *   - signatures and References beyond what a response needs: each Reference is a
 *     canonicalisation and a digest of the element it names, so a response with hundreds of them
 *     costs hundreds of passes over the document before its signature is found wanting. A
 *     response needs at most two signatures (Response and assertion) with one Reference each,
 *     and at most two Transforms per Reference (enveloped-signature, exclusive c14n);
 *   - element count, nesting depth and attributes per element beyond a legitimate response:
 *     parsing, XPath and canonicalisation all grow with them;
 *   - size.
 *
 * Names are matched by local name, whatever the prefix: a prefix can be bound to any namespace,
 * so counting every `Reference` errs on the side of refusing. The scan does not decide that the
 * XML is well-formed (the parser in the worker does); it only bounds what the parser will meet.
 */
import { Forbidden } from '../../errors.js';

export interface ShapeLimits {
  maxResponseBytes: number;
  maxElements: number;
  maxDepth: number;
}

/** What a legitimate response needs, never more (see above). */
const MAX_SIGNATURES = 2;
const MAX_REFERENCES = 2;
const MAX_TRANSFORMS = 4;
/** Response and Assertion carry about six attributes and namespace declarations each. */
const MAX_ATTRIBUTES = 32;

export interface ResponseShape {
  elements: number;
  depth: number;
  signatures: number;
  references: number;
}

const isNameEnd = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f /* / */ || c === 0x3e; /* > */

function skipPast(xml: string, from: number, terminator: string): number {
  const at = xml.indexOf(terminator, from);
  if (at < 0) throw new Forbidden('the message is not well-formed XML');
  return at + terminator.length;
}

/** Throws `Forbidden` naming the first limit the response exceeds; returns what it counted. */
export function checkResponseShape(xml: string, limits: ShapeLimits): ResponseShape {
  // UTF-16 length: at most the UTF-8 byte length, and a bound on the work below either way.
  if (xml.length > limits.maxResponseBytes || Buffer.byteLength(xml) > limits.maxResponseBytes) {
    throw new Forbidden(`the SAML response is larger than ${limits.maxResponseBytes} bytes`);
  }
  const shape: ResponseShape = { elements: 0, depth: 0, signatures: 0, references: 0 };
  let transforms = 0;
  let depth = 0;
  let i = xml.indexOf('<');
  while (i >= 0) {
    const next = xml.charCodeAt(i + 1);
    if (next === 0x3f /* ? */) i = skipPast(xml, i + 2, '?>');
    else if (xml.startsWith('<!--', i)) i = skipPast(xml, i + 4, '-->');
    else if (xml.startsWith('<![CDATA[', i)) i = skipPast(xml, i + 9, ']]>');
    else if (next === 0x21 /* ! */) throw new Forbidden('the message carries a DOCTYPE or entity declaration, which SAML never needs');
    else if (next === 0x2f /* / */) {
      depth -= 1;
      i = skipPast(xml, i + 2, '>');
    } else {
      let end = i + 1;
      while (end < xml.length && !isNameEnd(xml.charCodeAt(end))) end += 1;
      const name = xml.slice(i + 1, end);
      const local = name.slice(name.indexOf(':') + 1);
      // To the tag's closing '>', skipping quoted attribute values (which may hold '>').
      let quote = 0;
      let attributes = 0;
      for (; end < xml.length; end += 1) {
        const c = xml.charCodeAt(end);
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x3d /* = */) attributes += 1;
        else if (c === 0x3e /* > */) break;
      }
      if (end >= xml.length) throw new Forbidden('the message is not well-formed XML');
      const selfClosing = xml.charCodeAt(end - 1) === 0x2f;
      shape.elements += 1;
      if (!selfClosing) depth += 1;
      shape.depth = Math.max(shape.depth, depth + (selfClosing ? 1 : 0));
      if (local === 'Signature') shape.signatures += 1;
      else if (local === 'Reference') shape.references += 1;
      else if (local === 'Transform') transforms += 1;
      if (attributes > MAX_ATTRIBUTES) throw new Forbidden(`an element of the SAML response has more than ${MAX_ATTRIBUTES} attributes`);
      if (shape.elements > limits.maxElements) throw new Forbidden(`the SAML response has more than ${limits.maxElements} elements`);
      if (shape.depth > limits.maxDepth) throw new Forbidden(`the SAML response nests deeper than ${limits.maxDepth} elements`);
      if (shape.signatures > MAX_SIGNATURES) throw new Forbidden(`the SAML response carries more than ${MAX_SIGNATURES} signatures (a response needs one, an assertion one)`);
      if (shape.references > MAX_REFERENCES || shape.references > shape.signatures) {
        throw new Forbidden('a signature of the SAML response has more than one Reference (a SAML signature signs exactly one element)');
      }
      if (transforms > MAX_TRANSFORMS) throw new Forbidden('a signature Reference of the SAML response has more than two Transforms');
      i = end + 1;
    }
    i = xml.indexOf('<', i);
  }
  return shape;
}
