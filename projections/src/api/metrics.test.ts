import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { EmbeddedLog } from '@hetu/streams';
import { createPipelineMetrics } from './metrics.ts';

describe('pipeline metrics: stage frontiers', () => {
  it('reports each known frontier in seconds, +Inf for finished input, and leaves out the unknown', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    const frontiers = new Map<string, number>([
      ['kube', 1_764_144_001_500],
      ['feed', Number.NEGATIVE_INFINITY],
      ['incidents', Infinity],
    ]);
    const registry = new Registry();
    createPipelineMetrics({ log, groups: () => [], frontiers: () => frontiers }).register(registry);
    const lines = (await registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('hetu_stage_frontier_seconds'));
    expect(lines.sort()).toEqual([
      'hetu_stage_frontier_seconds{stage="incidents"} +Inf',
      'hetu_stage_frontier_seconds{stage="kube"} 1764144001.5',
    ]);
    // Asked at each scrape: a stage that moves on shows its new frontier.
    frontiers.set('feed', 1_764_144_000_000);
    expect(
      (await registry.metrics()).includes('hetu_stage_frontier_seconds{stage="feed"} 1764144000\n'),
    ).toBe(true);
    await log.close();
  });
});
