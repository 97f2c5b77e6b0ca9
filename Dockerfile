# One image for every service: SERVICE=catalog|inventory|cart|... picks which one runs.
# The base is a build arg so the image can be built from a locally made Node 24 base:
#   buildah bud --build-arg NODE_IMAGE=localhost/node:24 -t shop:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: dev dependencies, TypeScript compile, then prune to production deps ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# `npm run build` runs tsc through scripts/node.mjs (the project's Node; here the image's own 24).
COPY scripts/node.mjs ./scripts/node.mjs
COPY services ./services
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: production deps and compiled JS only; no compiler, no sources, no npm cache ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
# The manifests' preStop hook runs `sleep` (charts-ts/lib/service-workload.ts): fail the build, not the drain.
RUN command -v sleep >/dev/null
# Owned by root and not writable by the app user: the process cannot modify its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The storefront page's static files (not compiled): served from beside its compiled app.js.
COPY --from=build /app/services/storefront/public ./dist/services/storefront/public
# Numeric uid/gid above 10000, the same the manifests set (runAsUser 10001); no passwd entry needed.
USER 10001:10001
EXPOSE 8080
# Kubernetes uses its own probes; this serves `docker run` and compose. No curl in slim images.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/services/main.js"]
