import { describe, expect, it } from 'vitest';
import {
  ceilToStep,
  ndotsPatch,
  provisioning,
  ratio,
  recommendationId,
  resourcesPatch,
  suggestCpuMilli,
  suggestMemoryMib,
  suggestedMaxReplicas,
} from './rules.ts';

const MIB = 1_048_576;

describe('suggestion arithmetic (SPEC §8)', () => {
  it('CPU: request 1.2 × p95, limit 1.5 × p95, rounded up to 50m', () => {
    // 0.101 cores: 121.2m → 150m; 151.5m → 200m.
    expect(suggestCpuMilli(0.101)).toEqual({ request: 150, limit: 200 });
    // 0.125 cores: 150m is already a multiple (no float creep to 200m); 187.5m → 200m.
    expect(suggestCpuMilli(0.125)).toEqual({ request: 150, limit: 200 });
    // 0.25 cores: 300m exactly; 375m → 400m.
    expect(suggestCpuMilli(0.25)).toEqual({ request: 300, limit: 400 });
    // 0.29 cores: 348m → 350m; 435m → 450m.
    expect(suggestCpuMilli(0.29)).toEqual({ request: 350, limit: 450 });
    // An idle container still gets one step.
    expect(suggestCpuMilli(0)).toEqual({ request: 50, limit: 50 });
  });

  it('memory: rounded up to 32Mi', () => {
    // 100 MiB: 120 → 128; 150 → 160.
    expect(suggestMemoryMib(100 * MIB)).toEqual({ request: 128, limit: 160 });
    // 80 MiB: 96 exactly; 120 → 128.
    expect(suggestMemoryMib(80 * MIB)).toEqual({ request: 96, limit: 128 });
    // 86 MiB: 103.2 → 128; 129 → 160.
    expect(suggestMemoryMib(86 * MIB)).toEqual({ request: 128, limit: 160 });
    expect(suggestMemoryMib(0)).toEqual({ request: 32, limit: 32 });
  });

  it('ceilToStep treats values within 1e-9 steps of a multiple as on it', () => {
    expect(ceilToStep(100.00000001, 50)).toBe(100);
    expect(ceilToStep(100.001, 50)).toBe(150);
    expect(ceilToStep(0.000001, 50)).toBe(50);
    expect(ceilToStep(0, 50)).toBe(0);
  });

  it('hpa-at-max: max(⌊1.5 × max⌋, max + 2)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(suggestedMaxReplicas)).toEqual([3, 4, 5, 6, 7, 9, 10, 15]);
  });

  it('ratios compare at 1e-9 resolution: band edges', () => {
    expect(ratio(0.03, 0.1)).toBe(0.3); // 0.03 / 0.1 is 0.29999999999999993 in floating point
    expect(provisioning(0.29)).toBe('over');
    expect(provisioning(0.3)).toBe(null);
    expect(provisioning(ratio(0.03, 0.1))).toBe(null);
    expect(provisioning(0.85)).toBe(null);
    expect(provisioning(0.86)).toBe('under');
    expect(provisioning(0.850000001)).toBe('under');
  });
});

describe('ids and patches', () => {
  it('stable ids: type + target', () => {
    expect(
      recommendationId('rightsizing', {
        kind: 'Deployment',
        namespace: 'shop',
        name: 'api',
        container: 'web',
      }),
    ).toBe('rightsizing:Deployment/shop/api/web');
    expect(recommendationId('idle-node', { kind: 'Node', namespace: null, name: 'n1' })).toBe(
      'idle-node:Node//n1',
    );
  });

  it('resources patch per workload kind', () => {
    const p = { cpu: { request: 150, limit: 200 }, memory: { request: 128, limit: 160 } };
    expect(resourcesPatch({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 'api', p)).toBe(
      [
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          resources:',
        '            requests:',
        '              cpu: 150m',
        '              memory: 128Mi',
        '            limits:',
        '              cpu: 200m',
        '              memory: 160Mi',
        '',
      ].join('\n'),
    );
    expect(
      resourcesPatch({ kind: 'CronJob', namespace: 'ops', name: 'backup' }, 'b', { memory: p.memory }),
    ).toBe(
      [
        'spec:',
        '  jobTemplate:',
        '    spec:',
        '      template:',
        '        spec:',
        '          containers:',
        '            - name: b',
        '              resources:',
        '                requests:',
        '                  memory: 128Mi',
        '                limits:',
        '                  memory: 160Mi',
        '',
      ].join('\n'),
    );
    expect(resourcesPatch({ kind: 'Pod', namespace: 'x', name: 'p' }, 'c', { cpu: p.cpu })).toBe(
      'spec:\n  containers:\n    - name: c\n      resources:\n        requests:\n          cpu: 150m\n        limits:\n          cpu: 200m\n',
    );
  });

  it('ndots patch', () => {
    expect(ndotsPatch()).toBe(
      'spec:\n  template:\n    spec:\n      dnsConfig:\n        options:\n          - name: ndots\n            value: "2"\n',
    );
  });
});
