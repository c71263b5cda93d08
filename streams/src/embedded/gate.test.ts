import { describe, expect, it } from 'vitest';
import type { EventTimeGate } from '../port.ts';
import { EmbeddedLog } from './embedded-log.ts';

/** A gate moved by the test, recording what the subscription reports. */
function testGate(initial: number) {
  let bound = initial;
  const listeners = new Set<() => void>();
  const reached: number[] = [];
  const gate: EventTimeGate = {
    bound: () => bound,
    onMove: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    reached: (t) => {
      if (reached[reached.length - 1] !== t) reached.push(t);
    },
  };
  return {
    gate,
    reached,
    move(to: number) {
      bound = to;
      for (const l of listeners) l();
    },
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

/** Subscribes to `in` with `gate` and 1 s slots, keeping the values it is given. */
async function followIn(log: EmbeddedLog, gate: EventTimeGate) {
  const seen: string[] = [];
  const sub = await log.subscribe({
    group: 'g',
    topics: ['in'],
    gate,
    slotMs: 1_000,
    handler: async (b) => {
      seen.push(...b.records.map((r) => r.value!.toString()));
    },
  });
  return { seen, sub };
}

describe('embedded log: an event-time gate', () => {
  it('delivers only records older than the bound, reports when it got there, and goes on when it moves', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([
      { name: 'in', partitions: 1, cleanupPolicy: 'delete' },
      { name: 'cmd', partitions: 1, cleanupPolicy: 'delete' },
    ]);
    await log.append(
      'in',
      [100, 900, 1_000, 1_500, 2_500].map((t) => ({ key: null, value: Buffer.from(`in${t}`), timestamp: t })),
    );
    await log.append('cmd', [{ key: null, value: Buffer.from('cmd9000'), timestamp: 9_000 }]);
    const g = testGate(1_000);
    const batches: string[][] = [];
    const sub = await log.subscribe({
      group: 'g',
      topics: ['in', 'cmd'],
      gate: g.gate,
      ungatedTopics: ['cmd'],
      slotMs: 1_000,
      handler: async (b) => {
        batches.push(b.records.map((r) => r.value!.toString()));
      },
    });
    // Below 1 000 only; the command is not held back.
    await until(() => g.reached.includes(1_000));
    expect(batches).toEqual([['in100', 'in900'], ['cmd9000']]);
    g.move(2_000);
    await until(() => g.reached.includes(2_000));
    expect(batches.slice(2)).toEqual([['in1000', 'in1500']]);
    g.move(Infinity);
    await until(() => g.reached.includes(Infinity));
    expect(batches.slice(3)).toEqual([['in2500']]);
    expect(g.reached).toEqual([1_000, 2_000, Infinity]);
    await sub.close();
    await log.close();
  });

  it('reports nothing while records below the bound are still to be processed', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 'in', partitions: 1, cleanupPolicy: 'delete' }]);
    await log.append('in', [{ key: null, value: Buffer.from('x'), timestamp: 10 }]);
    const g = testGate(Infinity);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let handled = 0;
    const sub = await log.subscribe({
      group: 'g',
      topics: ['in'],
      gate: g.gate,
      handler: async () => {
        await held;
        handled++;
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(g.reached).toEqual([]);
    release();
    await until(() => g.reached.includes(Infinity));
    expect(handled).toBe(1);
    await sub.close();
    await log.close();
  });

  it('reports the bound floored to a slot start, as far as it took records', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 'in', partitions: 1, cleanupPolicy: 'delete' }]);
    await log.append(
      'in',
      [500, 2_100].map((t) => ({ key: null, value: Buffer.from(`in${t}`), timestamp: t })),
    );
    const g = testGate(2_500);
    const { seen, sub } = await followIn(log, g.gate);
    // 2 500 floors to 2 000: the record at 2 100 waits, so 2 000 is as far as it got.
    await until(() => g.reached.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['in500']);
    expect(g.reached).toEqual([2_000]);
    await sub.close();
    await log.close();
  });

  it('reports each task it owns, floored, once nothing of that task below the bound is left', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 'in', partitions: 2, cleanupPolicy: 'delete' }]);
    await log.append('in', [
      { key: null, value: Buffer.from('p0@100'), timestamp: 100, partition: 0 },
      { key: null, value: Buffer.from('p0@3100'), timestamp: 3_100, partition: 0 },
      { key: null, value: Buffer.from('p1@1200'), timestamp: 1_200, partition: 1 },
    ]);
    const g = testGate(2_500);
    const tasks: string[] = [];
    g.gate.reachedTask = (task, bound) => {
      const t = `${task}<${bound}`;
      if (!tasks.includes(t)) tasks.push(t);
    };
    const { seen, sub } = await followIn(log, g.gate);
    await until(() => tasks.length === 2);
    expect(tasks.sort()).toEqual(['0<2000', '1<2000']);
    expect(seen.sort()).toEqual(['p0@100', 'p1@1200']);
    g.move(4_000);
    await until(() => tasks.includes('0<4000') && tasks.includes('1<4000'));
    expect(seen).toContain('p0@3100');
    await sub.close();
    await log.close();
  });
});
