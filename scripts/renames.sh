#!/usr/bin/env bash
# One-off: renames and moves files so their names say what they are, and rewrites every import
# and every mention of the old paths. Run it once on the merged tree from the repository root
# (bash scripts/renames.sh), review `git status`, commit, then delete this script.
#
# Idempotent: a move whose source is gone and whose destination exists is skipped, and an import
# that already resolves is left alone, so running it twice changes nothing the second time.
#
#   src/gateway.ts                 -> src/services.ts              builds the services; "gateway" is the whole product
#   src/web/session.ts             -> src/web/browser-session.ts   the browser's cookie session (1 of 3 "sessions")
#   src/tokens/sessions.ts         -> src/tokens/login-sessions.ts the API's login sessions (access + refresh pair)
#   src/http/session-presenter.ts  -> src/http/login-session-presenter.ts
#   src/http/routes/session-routes.ts -> src/http/routes/login-routes.ts  POST /api/v1/login, /refresh, /logout
#   src/web/pages/*.ts             -> src/web/routes/*.ts          every web router in one folder...
#   src/web/interactions.ts        -> src/web/routes/interaction.ts
#   src/web/saml-routes.ts         -> src/web/routes/saml.ts
#   src/web/redirect-routes.ts     -> src/web/routes/sso.ts
#   src/web/layout.ts              -> src/web/views/layout.ts      ...and every view in one folder
#   src/web/provider-pages.ts      -> src/web/views/provider-pages.ts
#   src/web/sign-in-buttons.ts     -> src/web/views/sign-in-buttons.ts
#
# oidc-provider's own sessions keep their name: they are the provider's (its `Session` model).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

MOVES=(
  src/gateway.ts:src/services.ts
  src/web/session.ts:src/web/browser-session.ts
  src/tokens/sessions.ts:src/tokens/login-sessions.ts
  src/http/session-presenter.ts:src/http/login-session-presenter.ts
  src/http/routes/session-routes.ts:src/http/routes/login-routes.ts
  src/web/interactions.ts:src/web/routes/interaction.ts
  src/web/saml-routes.ts:src/web/routes/saml.ts
  src/web/redirect-routes.ts:src/web/routes/sso.ts
  src/web/layout.ts:src/web/views/layout.ts
  src/web/provider-pages.ts:src/web/views/provider-pages.ts
  src/web/sign-in-buttons.ts:src/web/views/sign-in-buttons.ts
)
for page in src/web/pages/*.ts; do
  [ -e "$page" ] && MOVES+=("$page:src/web/routes/$(basename "$page")")
done
MAP_FILE=$(mktemp)
trap 'rm -f "$MAP_FILE"' EXIT
for move in "${MOVES[@]}"; do
  from=${move%%:*}
  to=${move#*:}
  echo "$from $to" >>"$MAP_FILE"
  if [ -e "$from" ]; then
    mkdir -p "$(dirname "$to")"
    git mv "$from" "$to"
    echo "moved   $from -> $to"
  elif [ -e "$to" ]; then
    echo "already $to"
  fi
done
rmdir src/web/pages 2>/dev/null || true

# Imports: every relative specifier in src/, test/, bench/, scripts/ that no longer resolves is
# resolved from where its file was, mapped through the moves, and written relative to where it is.
MAP_FILE="$MAP_FILE" node --input-type=module <<'NODE'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const moves = new Map(readFileSync(process.env.MAP_FILE, 'utf8').trim().split('\n').map((line) => line.split(' ')));
const movedTo = new Map([...moves].map(([from, to]) => [to, from]));
const files = [];
const walk = (dir) => {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|mts|mjs|js)$/.test(name)) files.push(path);
  }
};
['src', 'test', 'bench', 'scripts', 'examples'].forEach(walk);

// An import names `x.js` for the source `x.ts`.
const source = (path) => [path, path.replace(/\.js$/, '.ts'), path.replace(/\.mjs$/, '.mts')].find((p) => existsSync(p) && statSync(p).isFile());
const specifier = (fromDir, target) => {
  let spec = relative(fromDir, target).replace(/\.ts$/, '.js').split('\\').join('/');
  return spec.startsWith('.') ? spec : `./${spec}`;
};

let changed = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const here = dirname(file);
  const before = dirname(movedTo.get(file) ?? file);
  const next = text.replace(/(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g, (whole, lead, quote, spec) => {
    if (source(normalize(join(here, spec)))) return whole;
    const old = normalize(join(before, spec)).replace(/\.js$/, '.ts');
    const target = moves.get(old) ?? old;
    if (!existsSync(target)) return whole;
    return `${lead}${quote}${specifier(here, target)}${quote}`;
  });
  if (next !== text) {
    writeFileSync(file, next);
    changed++;
  }
}
console.log(`imports rewritten in ${changed} files`);
NODE

# Mentions of the old paths in comments, docs and the layer-check config. Longest paths first, and
# only whole path words, so `web/session.ts` does not touch `web/browser-session.ts`.
mention_files=$(git ls-files src test bench scripts docs README.md .dependency-cruiser.cjs | grep -E '\.(ts|mjs|cjs|md|sh)$' | grep -v '^scripts/renames\.sh$' || true)
while read -r from to; do
  old=${from#src/}
  new=${to#src/}
  for pair in "$from|$to" "$old|$new"; do
    a=${pair%%|*}
    b=${pair#*|}
    # shellcheck disable=SC2086
    sed -i -E "s#(^|[^A-Za-z0-9_./-])${a//./[.]}([^A-Za-z0-9_-]|\$)#\\1${b}\\2#g" $mention_files
  done
done < <(sort -r "$MAP_FILE")
# Bare file names in comments where the name alone is unambiguous.
# shellcheck disable=SC2086
sed -i -E \
  -e 's#(^|[ `(])saml-routes\.ts#\1routes/saml.ts#g' \
  -e 's#(^|[ `(])redirect-routes\.ts#\1routes/sso.ts#g' \
  -e 's#(^|[ `(])session-presenter\.ts#\1login-session-presenter.ts#g' \
  $mention_files
# The layer check's rules name the shared http modules and the composition root by file name,
# and its test builds a fixture with the same names.
sed -i -E -e 's#\|session-presenter\|#|login-session-presenter|#' -e 's#\(server\|gateway\|main\)#(server|services|main)#' -e 's#gateway\[\.\]ts#services[.]ts#g' .dependency-cruiser.cjs
sed -i -E -e 's#gateway\.js#services.js#g' -e 's#gateway\.ts#services.ts#g' test/architecture/layer-check.test.ts

npx tsc -p tsconfig.json --noEmit
npx depcruise src --config .dependency-cruiser.cjs
echo "renames done: review git status, run npm test, commit"
