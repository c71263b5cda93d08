# hetu's image (for the Helm chart and docker compose). Node 24 runs the TypeScript sources
# directly (type stripping); only runtime dependencies are installed.
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
USER 10001
ENV HETU_DATA_DIR=/data
EXPOSE 4380
ENTRYPOINT ["node", "cli/src/main.ts"]
CMD ["start", "--host=0.0.0.0"]
