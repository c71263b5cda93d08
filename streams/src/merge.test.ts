import { describe, expect, it } from 'vitest';
import { planBatch, type BatchPlan, type MergeQueue } from './merge.ts';
import { prng } from './prng.ts';

interface Rec {
  readonly timestamp: number;
  readonly id: string;
}

/** Queues of records; every record fetched (complete). */
function queues(spec: Record<string, number[]>, ungated: readonly string[] = []): MergeQueue<Rec>[] {
  return Object.entries(spec).map(([topic, times]) => ({
    topic,
    partition: 0,
    records: times.map((t, i) => ({ timestamp: t, id: `${topic}${i}@${t}` })),
    complete: true,
    ...(ungated.includes(topic) ? { ungated: true } : {}),
  }));
}

/** Plans and takes batches until nothing is left below the gate: the ids in order, and the batches. */
function drain(
  qs: MergeQueue<Rec>[],
  max: number,
  options: { bound?: number; slotMs?: number } = {},
): { order: string[]; batches: string[][] } {
  const pending = qs.map((q) => ({ ...q, records: [...q.records] }));
  const order: string[] = [];
  const batches: string[][] = [];
  for (;;) {
    const plan = planBatch(pending, max, options) as BatchPlan;
    if (plan.length === 0) break;
    const batch: string[] = [];
    const taken = pending.map(() => 0);
    for (const run of plan) {
      batch.push(...pending[run.queue]!.records.slice(run.from, run.from + run.count).map((r) => r.id));
      taken[run.queue] = run.from + run.count;
    }
    for (const [i, n] of taken.entries()) pending[i]!.records.splice(0, n);
    order.push(...batch);
    batches.push(batch);
  }
  return { order, batches };
}

describe('planBatch: the event-time merge', () => {
  it('orders by time, then topic, then partition, wherever batches end', () => {
    // At time 2, topic a's record comes before topic b's, whether b's run from time 1 is in the
    // same batch or not (a merge that ran b on up to the next head's time gave b1 first in one
    // big batch and a0 first in batches of one).
    const spec = { b: [1, 2], a: [2] };
    for (const max of [1, 2, 100])
      expect([max, drain(queues(spec), max).order]).toEqual([max, ['b0@1', 'a0@2', 'b1@2']]);
  });

  it('gives one order for random inputs at every batch size, slot and gate', () => {
    const rand = prng(7);
    for (let round = 0; round < 50; round++) {
      const spec: Record<string, number[]> = {};
      for (const t of ['x', 'y', 'z']) {
        let ts = 0;
        spec[t] = Array.from({ length: Math.floor(rand() * 30) }, () => (ts += Math.floor(rand() * 4)));
      }
      const want = drain(queues(spec), 1_000).order;
      for (const max of [1, 3, 7])
        for (const slotMs of [undefined, 2, 5]) {
          const got = drain(queues(spec), max, slotMs === undefined ? {} : { slotMs }).order;
          expect(got).toEqual(want);
        }
      // A gate takes a prefix of that order: everything older than the bound.
      const bound = Math.floor(rand() * 60);
      const gated = drain(queues(spec), 4, { bound }).order;
      expect(gated).toEqual(want.filter((id) => Number(id.split('@')[1]) < bound));
    }
  });

  it('never puts two event-time slots in one batch', () => {
    const { batches } = drain(queues({ a: [0, 999, 1000, 1500, 2999, 3000], b: [500, 2500] }), 100, {
      slotMs: 1000,
    });
    expect(batches).toEqual([
      ['a0@0', 'b0@500', 'a1@999'],
      ['a2@1000', 'a3@1500'],
      ['b1@2500', 'a4@2999'],
      ['a5@3000'],
    ]);
  });

  it('cuts a slot into max-sized pieces counted from its first record', () => {
    const { batches } = drain(queues({ a: [10, 11, 12, 13, 14, 1000, 1001] }), 2, { slotMs: 1000 });
    expect(batches).toEqual([['a0@10', 'a1@11'], ['a2@12', 'a3@13'], ['a4@14'], ['a5@1000', 'a6@1001']]);
  });

  it('holds back records at or after the gate, floored to a slot, but not those of ungated topics', () => {
    const qs = queues({ a: [100, 900, 1100, 2100], cmd: [5000] }, ['cmd']);
    // Bound 2050 floors to the slot start 2000: a's 2100 waits; the command is taken, in its own batch.
    expect(drain(qs, 100, { bound: 2050, slotMs: 1000 }).batches).toEqual([
      ['a0@100', 'a1@900'],
      ['a2@1100'],
      ['cmd0@5000'],
    ]);
    expect(drain(queues({ a: [100] }), 100, { bound: -Infinity }).order).toEqual([]);
  });

  it('waits for records not fetched yet rather than plan around them', () => {
    const qs: MergeQueue<Rec>[] = [
      { topic: 'a', partition: 0, records: [{ timestamp: 1, id: 'a' }], complete: true },
      { topic: 'b', partition: 0, records: [], complete: false },
    ];
    expect(planBatch(qs, 10)).toBe('wait');
  });
});
