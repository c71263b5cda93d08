import { describe, expect, it } from 'vitest';
import { errorCode, partitionForKey } from '@hetu/streams';
import { logShardOf, parseLogShard } from './collector.ts';

describe('log collector shards', () => {
  it("give each pod one shard, Kafka's partition of <namespace>/<name>, spread evenly", () => {
    expect(logShardOf('shop', 'api-0', 3)).toBe(partitionForKey(Buffer.from('shop/api-0'), 3));
    expect(logShardOf('shop', 'api-0', 1)).toBe(0);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[logShardOf(`ns-${i % 20}`, `pod-${i}`, 4)]! += 1;
    // 2 500 each if even; murmur2 keeps every share within 5 % of it
    for (const n of counts) expect(Math.abs(n - 2500)).toBeLessThan(125);
    // the same pod, the same shard, whatever else exists
    expect(logShardOf('ns-3', 'pod-43', 4)).toBe(logShardOf('ns-3', 'pod-43', 4));
  });

  it('parse <index>/<count> and refuse anything else with one sentence', () => {
    expect(parseLogShard('1/3', '--shard')).toEqual({ index: 1, count: 3 });
    expect(parseLogShard(' 0/1 ', '--shard')).toEqual({ index: 0, count: 1 });
    for (const bad of ['3/3', '0/0', '1', 'a/b', '-1/2', '0/2000'])
      try {
        parseLogShard(bad, '--shard (HETU_LOG_SHARD)');
        expect.unreachable(`${bad} was accepted`);
      } catch (err) {
        expect(errorCode(err)).toBe('HETU_CLI_BAD_OPTION');
        expect((err as Error).message).toBe(
          `--shard (HETU_LOG_SHARD) is '${bad}': give <index>/<count> with 0 ≤ index < count ≤ 1024, e.g. 0/2 and 1/2 for two collectors sharing the pods.`,
        );
      }
  });
});
