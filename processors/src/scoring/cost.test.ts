import { describe, expect, it } from 'vitest';
import { costEfficiency, efficiency, emptyCostSums } from './cost.ts';
import { ev, merge, pod, wellRunNamespace, workload } from './fixtures.ts';
import { scoreScope } from './score.ts';
import type { ScoringInput } from './types.ts';

const GIB = 2 ** 30;

describe('efficiency curve (SPEC §3.3 test points)', () => {
  it.each([
    [0.15, 25],
    [0.3, 50],
    [0.45, 75],
    [0.7, 100],
    [0.9, 80],
    [1.0, 60],
    [1.3, 0],
  ])('%f → %f', (r, e) => {
    expect(efficiency(r)).toBe(e);
  });

  it('is continuous at the knees and floors at 0', () => {
    expect(efficiency(0)).toBe(0);
    expect(efficiency(0.29)).toBe(48.33);
    expect(efficiency(0.6)).toBe(100);
    expect(efficiency(0.8)).toBe(100);
    expect(efficiency(0.81)).toBe(98);
    expect(efficiency(2)).toBe(0);
  });
});

describe('costEfficiency', () => {
  it('is 100 when nothing is requested and there are no PVCs', () => {
    expect(costEfficiency(emptyCostSums())).toEqual({
      cpuRatio: null,
      memoryRatio: null,
      storageRatio: null,
      cpu: 100,
      memory: 100,
      storage: 100,
      base: 100,
    });
  });

  it('weights cpu 0.4, memory 0.4, storage 0.2 and rounds', () => {
    const e = costEfficiency({
      cpuUsageMicro: 300_000,
      cpuRequestMicro: 1_000_000, // 0.3 → 50
      memoryUsageBytes: 45,
      memoryRequestBytes: 100, // 0.45 → 75
      pvcUsedBytes: 9,
      pvcCapacityBytes: 10, // 0.9 → 80
    });
    expect(e.cpu).toBe(50);
    expect(e.memory).toBe(75);
    expect(e.storage).toBe(80);
    expect(e.base).toBe(66); // 20 + 30 + 16
  });

  it('rounds a half up: cpu 25, memory 100, storage 100 → 70; cpu 48.33 → 79.33 → 79', () => {
    expect(costEfficiency({ ...emptyCostSums(), cpuUsageMicro: 15, cpuRequestMicro: 100 }).base).toBe(70);
    expect(costEfficiency({ ...emptyCostSums(), cpuUsageMicro: 29, cpuRequestMicro: 100 }).base).toBe(79);
    // cpu 98.75 (r = 0.80625) → 39.5 + 40 + 20 = 99.5 → 100
    expect(costEfficiency({ ...emptyCostSums(), cpuUsageMicro: 80_625, cpuRequestMicro: 100_000 }).base).toBe(
      100,
    );
  });
});

describe('cost dimension through scoreScope', () => {
  const base = (): ScoringInput =>
    merge(wellRunNamespace('shop'), {
      workloads: [workload('shop', 'api')],
      pods: [
        // requests: cpu 0.5 + 0.5 = 1 core, memory 1 GiB; usage cpu 0.3 (r 0.3 → 50), memory 0.7 GiB (→ 100)
        pod('shop', 'api-1', 'api', [], {
          containers: [
            { name: 'app', cpuCores: 0.5, memoryBytes: GIB / 2 },
            { name: 'sidecar', cpuCores: 0.5, memoryBytes: GIB / 2 },
          ],
          usage: { cpuCores: 0.3, memoryBytes: 0.7 * GIB },
        }),
        // not running: its requests and usage are ignored
        pod('shop', 'api-2', 'api', ['pending'], { usage: { cpuCores: 5, memoryBytes: 10 * GIB } }),
        // running without a usage sample: ignored
        pod('shop', 'api-3', 'api'),
      ],
    });

  it('uses the running pods that have usage and requests', () => {
    const s = scoreScope(base(), 'workload:shop/Deployment/api');
    expect(s.efficiency).toEqual({
      cpuRatio: 0.3,
      memoryRatio: 0.7,
      storageRatio: null,
      cpu: 50,
      memory: 100,
      storage: 100,
      base: 80,
    });
    expect(s.cost).toBe(80);
    expect(scoreScope(base(), 'namespace:shop').cost).toBe(80);
    expect(scoreScope(base(), 'cluster').cost).toBe(80);
  });

  it('a pod without requests does not enter the ratio (no requests anywhere → 100)', () => {
    const input = merge(wellRunNamespace('shop'), {
      workloads: [workload('shop', 'api')],
      pods: [
        pod('shop', 'api-1', 'api', [], {
          containers: [{ name: 'app' }],
          usage: { cpuCores: 3, memoryBytes: GIB },
        }),
      ],
    });
    const s = scoreScope(input, 'cluster');
    expect(s.efficiency?.cpuRatio).toBe(null);
    expect(s.cost).toBe(100);
  });

  it('storage uses PVC used ÷ capacity, summed over the scope', () => {
    const input = merge(base(), {
      pvcs: [
        {
          namespace: 'shop',
          name: 'data-api',
          workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
          usedBytes: 8 * GIB,
          capacityBytes: 10 * GIB,
          evidence: [ev(1)],
        },
        {
          namespace: 'shop',
          name: 'scratch',
          usedBytes: 10 * GIB,
          capacityBytes: 10 * GIB,
          evidence: [ev(2)],
        },
      ],
    });
    // workload: 0.8 → 100 → base 80; namespace: 18/20 = 0.9 → 80 → 20 + 40 + 16 = 76
    expect(scoreScope(input, 'workload:shop/Deployment/api').cost).toBe(80);
    expect(scoreScope(input, 'namespace:shop').efficiency?.storage).toBe(80);
    expect(scoreScope(input, 'namespace:shop').cost).toBe(76);
  });

  it('subtracts rightsizing-opportunities from the computed base', () => {
    const input = merge(base(), {
      recommendations: [
        {
          id: 'rightsizing:shop/api/app',
          type: 'rightsizing',
          status: 'open',
          workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
          evidence: [ev(3)],
        },
      ],
    });
    const s = scoreScope(input, 'workload:shop/Deployment/api');
    expect(s.cost).toBe(78);
  });
});
