// tsc compiles only .ts: copy the web pages' static files next to the compiled code.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/web/static', import.meta.url), new URL('../dist/web/static', import.meta.url), { recursive: true });
