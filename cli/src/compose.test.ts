import { readFileSync } from 'node:fs';
import { loadYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

/**
 * docker-compose.yml cannot be run here (no Docker engine); this checks what can be checked without
 * one: images pinned, hetu pointed at the compose services, tokens required.
 */
describe('docker-compose.yml', () => {
  const compose = loadYaml<{
    services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string> }>;
  }>(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'));

  it('pins every image and points hetu at the Kafka, registry and Prometheus services', () => {
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(['hetu', 'kafka', 'prometheus', 'registry']);
    for (const [name, s] of Object.entries(services))
      expect([name, s.image]).toEqual([name, expect.stringMatching(/:v?\d[\w.-]*$/)]);
    const args = services['hetu']!.command!;
    const flag = (f: string) => args.find((a) => a.startsWith(`--${f}=`))!.split('=')[1]!;
    const host = (url: string) => new URL(url.includes('://') ? url : `x://${url}`).hostname;
    expect(args[0]).toBe('start');
    expect([host(flag('kafka')), host(flag('registry')), host(flag('prometheus'))]).toEqual([
      'kafka',
      'registry',
      'prometheus',
    ]);
    expect(flag('registry')).toMatch(/\/apis\/ccompat\/v7$/);
    expect(services['hetu']!.environment!['HETU_API_READ_TOKEN']).toMatch(/^\$\{HETU_API_READ_TOKEN:\?/);
    expect(services['hetu']!.environment!['HETU_API_ADMIN_TOKEN']).toMatch(/^\$\{HETU_API_ADMIN_TOKEN:\?/);
  });
});
