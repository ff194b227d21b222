/**
 * The API reference page: the OpenAPI document rendered as a list of operations grouped by tag,
 * each with its parameters, body, responses and a curl example. Plain server-rendered HTML (no
 * script, nothing from elsewhere), so it reads the same offline and under the pages' CSP.
 */
import { html, type SafeHtml } from '../html.js';

type Json = Record<string, any>;

/** What the page reads of an OpenAPI 3.1 document. */
export interface ApiDocumentView {
  info: { title: string; version: string; description?: string };
  servers: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const refName = (ref: string) => ref.split('/').pop()!;

/** A schema in one line: the type, or a link to the named component. */
function typeOf(schema: Json | undefined): SafeHtml | string {
  if (!schema) return '';
  if (schema.$ref) return html`<a href="#schema-${slug(refName(schema.$ref))}">${refName(schema.$ref)}</a>`;
  if (schema.enum) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return html`${(schema.anyOf as Json[]).map((s, i) => html`${i ? ' or ' : ''}${typeOf(s)}`)}`;
  if (schema.type === 'array') return html`list of ${typeOf(schema.items)}`;
  return Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
}

function fieldTable(rows: { name: string; where?: string; required: boolean; schema: Json; description?: string }[]): SafeHtml | '' {
  if (!rows.length) return '';
  return html`<table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td><code>${r.name}</code>${r.where ? html` <span class="hint">(${r.where})</span>` : ''}${r.required ? html` <span class="hint">required</span>` : ''}</td><td>${typeOf(r.schema)}</td><td>${r.description ?? r.schema.description ?? ''}</td></tr>`)}
</tbody></table>`;
}

/** The properties of an object schema (following one `$ref`), as table rows. */
function propertyRows(schema: Json | undefined, document: ApiDocumentView) {
  const target = schema?.$ref ? document.components.schemas[refName(schema.$ref)] : schema;
  const required: string[] = target?.required ?? [];
  return Object.entries((target?.properties ?? {}) as Record<string, Json>).map(([name, property]) => ({ name, required: required.includes(name), schema: property }));
}

/** A value to show in an example body, from the property's schema. */
function exampleValue(name: string, schema: Json): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.type === 'boolean') return true;
  if (schema.type === 'integer' || schema.type === 'number') return 1;
  if (schema.type === 'array') return [];
  return `<${name}>`;
}

function curlExample(method: string, path: string, operation: Json, document: ApiDocumentView): string {
  const lines = [`curl -s${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} "$GW${path.replace(/\{(\w+)\}/g, '<$1>')}"`];
  const security = (operation.security ?? []) as Json[];
  if (security.some((s) => 'bearerToken' in s)) lines.push('-H "authorization: Bearer $TOKEN"');
  else if (security.some((s) => 'clientBasic' in s)) lines.push('-u "$CLIENT_ID:$CLIENT_SECRET"');
  const content = operation.requestBody?.content as Record<string, Json> | undefined;
  if (content) {
    const [type, { schema }] = Object.entries(content)[0]!;
    const rows = propertyRows(schema, document);
    const shown = rows.filter((r) => r.required).length ? rows.filter((r) => r.required) : rows.slice(0, 1);
    if (type === 'application/x-www-form-urlencoded') lines.push(...shown.map((r) => `-d "${r.name}=${String(exampleValue(r.name, r.schema))}"`));
    else lines.push(`-H 'content-type: application/json' -d '${JSON.stringify(Object.fromEntries(shown.map((r) => [r.name, exampleValue(r.name, r.schema)])))}'`);
  }
  return lines.join(' \\\n  ');
}

function operationView(method: string, path: string, operation: Json, document: ApiDocumentView): SafeHtml {
  const parameters = ((operation.parameters ?? []) as Json[]).map((p) => ({ name: p.name, where: p.in, required: p.required, schema: p.schema, description: p.description }));
  const content = operation.requestBody?.content as Record<string, Json> | undefined;
  const [bodyType, body] = content ? Object.entries(content)[0]! : [];
  const auth = ((operation.security ?? []) as Json[]).map((s) => Object.keys(s)[0] ?? 'none');
  return html`<section class="card operation" id="${slug(`${method} ${path}`)}" aria-labelledby="${slug(`${method} ${path}`)}-title">
<h3 id="${slug(`${method} ${path}`)}-title"><code>${method.toUpperCase()} ${path}</code></h3>
<p>${operation.summary}</p>
${operation.description ? html`<p class="description">${operation.description}</p>` : ''}
<p class="hint">Authentication: ${auth.length ? auth.map((a) => ({ bearerToken: 'Bearer token', clientBasic: 'OAuth client (HTTP Basic)', none: 'optional' })[a] ?? a).join(', or ') : 'none'}</p>
${parameters.length ? html`<h4>Parameters</h4>${fieldTable(parameters)}` : ''}
${body ? html`<h4>Body <span class="hint">${bodyType}</span></h4>${fieldTable(propertyRows(body.schema, document))}` : ''}
<h4>Responses</h4>
<ul>${Object.entries(operation.responses as Record<string, Json>).map(([status, r]) => {
    const schema = r.content ? (Object.values(r.content as Record<string, Json>)[0]!.schema as Json) : undefined;
    return html`<li><strong>${status}</strong> ${r.description}${schema ? html` — ${typeOf(schema)}` : ''}</li>`;
  })}</ul>
<h4>Example</h4>
<pre class="example">${curlExample(method, path, operation, document)}</pre>
</section>`;
}

export function apiReferencePage(document: ApiDocumentView): SafeHtml {
  const byTag = document.tags.map((tag) => ({
    tag: tag.name,
    operations: Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).filter(([, op]) => (op.tags as string[]).includes(tag.name)).map(([method, op]) => ({ method, path, op })),
    ),
  }));
  return html`<h1>${document.info.title} API reference <span class="hint">version ${document.info.version}</span></h1>
<p>${document.info.description ?? ''}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). In the examples, <code>$GW</code> is ${document.servers[0]?.url ?? 'the gateway'}.</p>
<nav aria-label="Operations" class="card"><ul>
${byTag.map(({ tag, operations }) => html`<li><a href="#tag-${slug(tag)}">${tag}</a><ul>${operations.map(({ method, path, op }) => html`<li><a href="#${slug(`${method} ${path}`)}"><code>${method.toUpperCase()} ${path}</code></a> ${op.summary}</li>`)}</ul></li>`)}
</ul></nav>
${byTag.map(({ tag, operations }) => html`<h2 id="tag-${slug(tag)}">${tag}</h2>${operations.map(({ method, path, op }) => operationView(method, path, op, document))}`)}
<h2 id="schemas">Schemas</h2>
${Object.entries(document.components.schemas).map(([name, schema]) => html`<section class="card" id="schema-${slug(name)}" aria-labelledby="schema-${slug(name)}-title"><h3 id="schema-${slug(name)}-title">${name}</h3>${schema.description ? html`<p>${schema.description}</p>` : ''}${fieldTable(propertyRows(schema, document))}</section>`)}`;
}
