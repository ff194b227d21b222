/**
 * The layer check (`npm run lint:layers`, part of `npm test`): which part of src/ may import
 * which. The layout and its reasons are in docs/architecture.md; in short, imports flow one way,
 *
 *   composition root (server.ts, services.ts, main.ts)
 *     -> web (pages) -> http (API, request parsing, presenters, the error mapper)
 *     -> services (identity, tokens, oauth, signals, audit, leaks, workload) -> store
 *
 * and the CLI talks to a gateway over HTTP, so it imports no server code.
 * test/layers/layer-check.test.ts proves each rule fails on a fixture that breaks it.
 */
const SERVICES = '^src/(identity|tokens|oauth|signals|audit|leaks|workload)/';
const ROOT = '^src/(server|services|main)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'store-imports-nothing-above',
      severity: 'error',
      comment: 'The store is the bottom layer: it knows records, config and errors, never a service or a route.',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: ['^src/(store|config)/', '^src/(errors|clock|ids)[.]ts$'] },
    },
    {
      name: 'services-import-no-interface',
      severity: 'error',
      comment: 'Services are used by the API, the pages and the CLI; they import none of them, nor the composition root (take what you need as a parameter).',
      from: { path: SERVICES },
      to: { path: ['^src/(http|web|cli)/', ROOT] },
    },
    {
      name: 'http-imports-no-pages',
      severity: 'error',
      comment: 'The API does not depend on pages: the composition root hands the page routers and the error-page frame to createApp.',
      from: { path: '^src/http/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'pages-use-only-the-shared-http-parts',
      severity: 'error',
      comment: 'Pages share request parsing, presenters and the error mapper with the API; never its routes or app.',
      from: { path: '^src/web/' },
      to: { path: '^src/http/', pathNot: '^src/http/(body|presenters|login-session-presenter|errors)[.]ts$' },
    },
    {
      name: 'cli-imports-no-server-code',
      severity: 'error',
      comment: 'The CLI is a client of a gateway over HTTP. Only `tessera serve` starts one (lazily, in its own command file).',
      from: { path: '^src/cli/', pathNot: '^src/cli/commands/serve[.]ts$' },
      to: { path: ['^src/(http|web)/', ROOT, '^src/oauth/provider[.]ts$'], pathNot: '^src/services[.]ts$' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'Shipped code never reaches into tests, benchmarks or scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    // Type-only imports count: a type import is still a dependency on the module's meaning.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
