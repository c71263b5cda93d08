import type { Log } from './port.ts';

/**
 * How far a consumer group got in some topics: its committed positions and the topics' ends, each
 * summed over every partition (a partition the group never committed counts as position 0). The
 * group has processed what the topics held when `committed === end`.
 */
export async function groupProgress(
  log: Log,
  group: string,
  topics: readonly string[],
): Promise<{ committed: bigint; end: bigint }> {
  let committed = 0n;
  let end = 0n;
  for (const info of await log.describeTopics(topics)) {
    const positions = await log.committed(group, info.name);
    for (const p of info.partitions) {
      end += p.high;
      committed += positions.get(p.partition) ?? 0n;
    }
  }
  return { committed, end };
}
