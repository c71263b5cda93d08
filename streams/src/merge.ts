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

/** One partition of a task as the planner sees it: its pending records, in offset order. */
export interface MergeQueue<R extends { readonly timestamp: number } = { readonly timestamp: number }> {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly R[];
  /** True when `records` is everything pending in the partition (nothing unfetched). */
  readonly complete: boolean;
}

/** A batch plan: runs of consecutive records taken from the queues, in delivery order. */
export type BatchPlan = { readonly queue: number; readonly from: number; readonly count: number }[];

/**
 * Plans a task's next batch of at most `max` records by repeating the head merge: take from the
 * oldest head up to the next-oldest head, then look again. Returns `wait` when the plan would
 * depend on records not fetched yet (so every adapter plans the same batches from the same
 * records), and an empty plan when nothing is pending.
 */
export function planBatch(queues: readonly MergeQueue[], max: number): BatchPlan | 'wait' {
  const used = queues.map(() => 0);
  const plan: { queue: number; from: number; count: number }[] = [];
  let total = 0;
  while (total < max) {
    const heads: (MergeHead & { i: number })[] = [];
    for (const [i, q] of queues.entries()) {
      const r = q.records[used[i]!];
      if (r !== undefined) heads.push({ topic: q.topic, partition: q.partition, ts: r.timestamp, i });
      else if (!q.complete) return 'wait';
    }
    const pick = pickHead(heads);
    if (!pick) break;
    const q = queues[pick.head.i]!;
    const from = used[pick.head.i]!;
    const n = takeUpTo(q.records.slice(from, from + (max - total)), pick.bound);
    const last = plan[plan.length - 1];
    if (last !== undefined && last.queue === pick.head.i) last.count += n;
    else plan.push({ queue: pick.head.i, from, count: n });
    used[pick.head.i] = from + n;
    total += n;
  }
  return plan;
}
