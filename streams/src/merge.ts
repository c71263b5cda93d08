/**
 * The event-time merge of a task's partitions, shared by both adapters so a processor sees the
 * same record order on the embedded log and on Kafka: the next batch comes from the partition
 * whose pending record is oldest (ties: topic name, then partition number) and runs up to, and
 * including, records as old as the next-oldest head.
 */
export interface MergeHead {
  readonly topic: string;
  readonly partition: number;
  /** Timestamp of the partition's next pending record. */
  readonly ts: number;
}

export function compareHeads(a: MergeHead, b: MergeHead): number {
  return a.ts - b.ts || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) || a.partition - b.partition;
}

/** The head to take from, and the newest timestamp its batch may include; undefined when none. */
export function pickHead<H extends MergeHead>(heads: readonly H[]): { head: H; bound: number } | undefined {
  if (heads.length === 0) return undefined;
  const sorted = [...heads].sort(compareHeads);
  return { head: sorted[0]!, bound: sorted.length > 1 ? sorted[1]!.ts : Infinity };
}

/** How many of a partition's pending records (in offset order) a batch takes: at least one. */
export function takeUpTo(records: readonly { readonly timestamp: number }[], bound: number): number {
  let n = Math.min(1, records.length);
  while (n < records.length && records[n]!.timestamp <= bound) n++;
  return n;
}
