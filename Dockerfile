# hetu's image (for the Helm chart and docker compose). Node 24 runs the TypeScript sources
# directly (type stripping, compiled once at build time into the compile cache); only runtime
# dependencies are installed.
# Build: docker build -t ghcr.io/hetu-dev/hetu:0.1.0 .
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY schemas/package.json schemas/
COPY streams/package.json streams/
COPY producers/package.json producers/
COPY processors/package.json processors/
COPY projections/package.json projections/
COPY web/package.json web/
COPY cli/package.json cli/
COPY infra/package.json infra/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY schemas schemas
COPY streams streams
COPY producers producers
COPY processors processors
COPY projections projections
COPY cli cli
COPY demo demo
RUN mkdir -p .cache && chown 10001 .cache
USER 10001
# Node's compile cache, filled as the user the roles run as (Node keeps one per user): a role then
# starts without Node's TypeScript stripper, ~27 MiB less RSS for its whole life (docs/roles.md,
# "Start-up and the compile cache"). Read-only at run time, which is all it needs.
RUN node cli/bin/warm-cache.js
ENV HETU_DATA_DIR=/data
EXPOSE 4380
ENTRYPOINT ["node", "cli/bin/hetu.js"]
CMD ["start", "--host=0.0.0.0"]
