/**
 * The shared registry suite against a real Apicurio Registry (its Confluent-compatible API),
 * started by the int project's global setup (test/global-setup.ts), which provides its URL as
 * `schemaRegistryUrl`.
 */
import { describe, inject } from 'vitest';
import { registrySuite } from './registry-suite.ts';

describe('Apicurio Registry: the shared registry suite', () => {
  registrySuite(() => inject('schemaRegistryUrl'));
});
