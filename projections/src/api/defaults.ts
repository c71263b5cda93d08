/**
 * Where the API listens by default. Apart from the server (app.ts) so that reading a
 * configuration does not load fastify, mercurius and GraphQL (`@hetu/projections/defaults`).
 */

/** hetu's API port by default: 4317 and 4318 belong to OpenTelemetry's OTLP, so hetu takes 4380. */
export const DEFAULT_API_PORT = 4380;
export const DEFAULT_API_HOST = '127.0.0.1';
