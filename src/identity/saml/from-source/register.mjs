// Loaded (`--import`) into the response pool's worker threads only when the gateway runs from its
// TypeScript sources (tests, `vitest`): the compiled build has `response-worker.js` and never
// loads this. Node 20 cannot run TypeScript itself; hooks.mjs strips the types.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
