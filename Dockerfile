# syntax=docker/dockerfile:1
#
# Tessera gateway image.
#
#   docker build -t tessera .
#   docker run --rm -p 8080:8080 -e REDIS_URL=redis://redis:6379 -e TESSERA_ADMIN_PASSWORD=... tessera
#
# Configuration: environment (PORT, REDIS_URL, TESSERA_ISSUER, TESSERA_ADMIN_PASSWORD) and/or a YAML
# file mounted into the container and named by TESSERA_CONFIG. Without REDIS_URL the gateway uses
# its in-memory store, which loses everything on restart.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript to dist/ ---------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# The whole context (see .dockerignore): `npm run build` needs more than src/ (tsconfig*.json,
# scripts/copy-assets.mjs for the web assets).
COPY . .
RUN npm run build

# ---- runtime: production dependencies + dist/, non-root --------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
# No lifecycle scripts: no production dependency needs one, and the app's own `prestart` (a build)
# must never run here. The image therefore starts with `node dist/main.js`, never `npm start`.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
# Liveness only (/healthz: the process answers). Readiness of the store is /readyz. Node, not curl:
# the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# main.ts handles SIGTERM (docker stop) and closes the server and the store.
CMD ["node", "dist/main.js"]
