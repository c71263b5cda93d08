/**
 * The event-time merge of a task's partitions, shared by both adapters so a processor sees the
 * same record order on the embedded log and on Kafka: records in the order of their time, then
 * topic name, then partition number (within a partition, offset order). The order depends on the
 * records only, not on where batches end.
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

/** The head to take from, and the one after it (undefined when there is none); undefined when none. */
export function pickHead<H extends MergeHead>(
  heads: readonly H[],
): { head: H; next: H | undefined } | undefined {
  if (heads.length === 0) return undefined;
  const sorted = [...heads].sort(compareHeads);
  return { head: sorted[0]!, next: sorted[1] };
}

/** One partition of a task as the planner sees it: its pending records, in offset order. */
export interface MergeQueue<R extends { readonly timestamp: number } = { readonly timestamp: number }> {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly R[];
  /** True when `records` is everything pending in the partition (nothing unfetched). */
  readonly complete: boolean;
  /**
   * The event-time gate does not hold this partition back (`PlanOptions.bound`): its records are
   * taken whatever their time (commands a person gives, which no stage writes).
   */
  readonly ungated?: boolean;
}

/** A batch plan: runs of consecutive records taken from the queues, in delivery order. */
export type BatchPlan = { readonly queue: number; readonly from: number; readonly count: number }[];

export interface PlanOptions {
  /**
   * Event-time gate (docs/design-deterministic-live.md): no record at or after this time is
   * taken (except from `ungated` queues), because records older than one already taken might
   * still arrive in another input. Floored to a multiple of `slotMs` when that is given.
   * Default: no gate.
   */
  readonly bound?: number;
  /**
   * Event-time slot: a batch never holds records of two slots (`Math.floor(timestamp / slotMs)`),
   * so where batches end depends on the records only, not on how far the inputs had got when the
   * batch was planned. Default: no slots.
   */
  readonly slotMs?: number;
}

/**
 * The event-time slot every stage of hetu uses (`SubscribeOptions.slotMs`): `hetu analyze`,
 * `hetu replay`, `hetu start` and `hetu run` cut batches at the same places, so they derive the
 * same facts from the same input.
 */
export const EVENT_TIME_SLOT_MS = 1000;

/** The slot of an event time (`PlanOptions.slotMs`). */
export function slotOf(timestamp: number, slotMs: number): number {
  return Math.floor(timestamp / slotMs);
}

/** A gate bound floored to a slot start, so a batch the gate ends also ends at a slot boundary. */
export function gateBound(bound: number, slotMs: number | undefined): number {
  if (!Number.isFinite(bound) || slotMs === undefined) return bound;
  return slotOf(bound, slotMs) * slotMs;
}

/**
 * Plans a task's next batch of at most `max` records by repeating the head merge: take from the
 * oldest head up to the next-oldest head, then look again. Returns `wait` when the plan would
 * depend on records not fetched yet (so every adapter plans the same batches from the same
 * records), and an empty plan when nothing is pending (or nothing below the gate).
 */
export function planBatch(
  queues: readonly MergeQueue[],
  max: number,
  options: PlanOptions = {},
): BatchPlan | 'wait' {
  const { slotMs } = options;
  const bound = gateBound(options.bound ?? Infinity, slotMs);
  const used = queues.map(() => 0);
  const plan: { queue: number; from: number; count: number }[] = [];
  let total = 0;
  /** End (exclusive) of the batch's slot, once its first record is known. */
  let slotEnd = Infinity;
  /** No record of `q` at or after this time goes into the batch. */
  const limitOf = (q: MergeQueue) => (q.ungated ? slotEnd : Math.min(bound, slotEnd));
  while (total < max) {
    const heads: (MergeHead & { i: number })[] = [];
    for (const [i, q] of queues.entries()) {
      const r = q.records[used[i]!];
      if (r !== undefined) {
        // A gated partition whose next record is at or past the gate waits, and so does all
        // that follows it in the partition (offset order).
        if (r.timestamp >= limitOf(q)) continue;
        heads.push({ topic: q.topic, partition: q.partition, ts: r.timestamp, i });
      } else if (!q.complete) return 'wait';
    }
    const pick = pickHead(heads);
    if (!pick) break;
    const q = queues[pick.head.i]!;
    const from = used[pick.head.i]!;
    if (slotMs !== undefined && slotEnd === Infinity) slotEnd = (slotOf(pick.head.ts, slotMs) + 1) * slotMs;
    const limit = limitOf(q);
    const pending = q.records.slice(from, from + (max - total));
    // Up to the next head in the merge's total order (time, then topic, then partition), so the
    // order is the same wherever batches end.
    const next = pick.next;
    let n = 1;
    while (
      n < pending.length &&
      pending[n]!.timestamp < limit &&
      (next === undefined ||
        compareHeads({ topic: q.topic, partition: q.partition, ts: pending[n]!.timestamp }, next) < 0)
    )
      n++;
    const last = plan[plan.length - 1];
    if (last !== undefined && last.queue === pick.head.i) last.count += n;
    else plan.push({ queue: pick.head.i, from, count: n });
    used[pick.head.i] = from + n;
    total += n;
  }
  return plan;
}
