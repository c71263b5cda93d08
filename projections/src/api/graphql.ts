/**
 * graphql, loaded as CommonJS the way mercurius and graphql-armor load it, so there is one
 * instance of its classes: a loader that prefers graphql's ESM build (vitest does) would otherwise
 * give us a second GraphQLError and GraphQLSchema, and `instanceof` checks across them fail.
 */
import { createRequire } from 'node:module';

export const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');
