import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppendRecord, Log, LogRecord, Subscription, TopicSpec } from '../port.ts';
import { errorCode, HetuError } from '../errors.ts';
import { ProcessorRuntime } from '../runtime/runtime.ts';
import { sumProcessor, type SumState } from './sum-processor.ts';
import { runCrashTest } from './crash-test.ts';

export interface LogFactory {
  /** Opens a new client on the same underlying log (same data dir, same brokers). */
  open(): Promise<Log>;
  /** Arguments that let a child process open the same log (see crash-child.ts). */
  childArgs(): string[];
  /** Extra topic settings that let the log compact soon (Kafka: short segments). */
  readonly compactableTopic?: Partial<TopicSpec>;
  /** Forces or awaits compaction of a topic. */
  compact(log: Log, topic: string, nudge: () => Promise<void>): Promise<void>;
}

const uid = () => randomUUID().slice(0, 8);
const k = (s: string) => Buffer.from(s);

async function collect(log: Log, group: string, topics: string[], sink: LogRecord[]): Promise<Subscription> {
  return log.subscribe({
    group,
    topics,
    handler: async (batch) => {
      sink.push(...batch.records);
    },
  });
}

async function table(log: Log, topic: string, partitions: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let p = 0; p < partitions; p++) {
    for (const r of await log.read(topic, p)) {
      const key = r.key!.toString();
      if (r.value === null) out.delete(key);
      else out.set(key, r.value.toString());
    }
  }
  return out;
}

async function readAll(log: Log, topic: string, partitions: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for (let p = 0; p < partitions; p++) out.push(...(await log.read(topic, p)));
  return out;
}

/** The log port's contract. Every adapter must pass all of it. */
export function logContract(name: string, factory: LogFactory): void {
  describe(`log contract: ${name}`, () => {
    const open: Log[] = [];
    const openLog = async () => {
      const l = await factory.open();
      open.push(l);
      return l;
    };
    afterEach(async () => {
      for (const l of open.splice(0)) await l.close();
    });

    it('appends with increasing offsets per partition and keeps per-key order through a group', async () => {
      const log = await openLog();
      const topic = `t-order-${uid()}`;
      await log.ensureTopics([{ name: topic, partitions: 3, cleanupPolicy: 'delete' }]);
      const sent = new Map<string, number[]>();
      const lastOffset = new Map<number, bigint>();
      for (let round = 0; round < 6; round++) {
        const recs: AppendRecord[] = [];
        for (let i = 0; i < 100; i++) {
          const n = round * 100 + i;
          const key = `k${n % 20}`;
          recs.push({ key: k(key), value: k(String(n)), timestamp: 1_000 + n });
          (sent.get(key) ?? sent.set(key, []).get(key)!).push(n);
        }
        const positions = await log.append(topic, recs);
        expect(positions).toHaveLength(100);
        for (const p of positions) {
          const prev = lastOffset.get(p.partition) ?? -1n;
          expect(p.offset).toBeGreaterThan(prev);
          lastOffset.set(p.partition, p.offset);
        }
      }
      // The same key always lands in the same partition.
      const all = await readAll(log, topic, 3);
      const partitionOf = new Map<string, number>();
      for (const r of all) {
        const key = r.key!.toString();
        expect(partitionOf.get(key) ?? r.partition).toBe(r.partition);
        partitionOf.set(key, r.partition);
      }
      const got: LogRecord[] = [];
      const sub = await collect(log, `g-${uid()}`, [topic], got);
      await sub.whenCaughtUp();
      expect(got).toHaveLength(600);
      const seen = new Map<string, number[]>();
      for (const r of got)
        (seen.get(r.key!.toString()) ?? seen.set(r.key!.toString(), []).get(r.key!.toString())!).push(
          Number(r.value!.toString()),
        );
      expect(seen).toEqual(sent);
      expect(got.find((r) => r.value!.toString() === '599')!.timestamp).toBe(1_599);
      await sub.close();
    });

    it('merges the topics of a task by event time, ties by topic name, the same way on every adapter', async () => {
      const log = await openLog();
      const [a, b] = [`t-merge-a-${uid()}`, `t-merge-b-${uid()}`];
      await log.ensureTopics([
        { name: a, partitions: 2, cleanupPolicy: 'delete' },
        { name: b, partitions: 2, cleanupPolicy: 'delete' },
      ]);
      // Each topic appended whole, in chunks: append order is not event-time order.
      const times: Record<string, number[][]> = {
        [a]: [
          [10, 20, 20, 30, 40, 50, 60, 70],
          [5, 5, 6, 90],
        ],
        [b]: [
          [1, 20, 25, 26, 27, 45, 80],
          [5, 7, 8, 9],
        ],
      };
      for (const topic of [a, b])
        for (const [p, ts] of times[topic]!.entries())
          await log.append(
            topic,
            ts.map((t, i) => ({
              key: k(`${p}`),
              value: k(`${topic === a ? 'a' : 'b'}${t}.${i}`),
              timestamp: t,
              partition: p,
            })),
          );
      const seen = new Map<number, string[]>();
      const sub = await log.subscribe({
        group: `g-${uid()}`,
        topics: [a, b],
        maxBatchRecords: 3,
        handler: async (batch) => {
          const list = seen.get(batch.task) ?? seen.set(batch.task, []).get(batch.task)!;
          list.push(...batch.records.map((r) => r.value!.toString()));
        },
      });
      await sub.whenCaughtUp();
      expect(Object.fromEntries(seen)).toEqual({
        0: [
          'b1.0',
          'a10.0',
          'a20.1',
          'a20.2',
          'b20.1',
          'b25.2',
          'b26.3',
          'b27.4',
          'a30.3',
          'a40.4',
          'b45.5',
          'a50.5',
          'a60.6',
          'a70.7',
          'b80.6',
        ],
        1: ['a5.0', 'a5.1', 'b5.0', 'a6.2', 'b7.1', 'b8.2', 'b9.3', 'a90.3'],
      });
      await sub.close();
    });

    it('runs a single-task group as one task over every partition, merged by event time', async () => {
      const log = await openLog();
      const [a, b] = [`t-single-a-${uid()}`, `t-single-b-${uid()}`];
      await log.ensureTopics([
        { name: a, partitions: 3, cleanupPolicy: 'delete' },
        { name: b, partitions: 2, cleanupPolicy: 'delete' },
      ]);
      const expected: { v: string; t: number; topic: string; p: number }[] = [];
      for (const [topic, parts] of [
        [a, 3],
        [b, 2],
      ] as const)
        for (let p = 0; p < parts; p++) {
          const recs = Array.from({ length: 7 }, (_, i) => ({
            t: 100 + i * 10 + ((p * 7 + (topic === a ? 0 : 3)) % 10),
            i,
          }));
          for (const r of recs)
            expected.push({ v: `${topic === a ? 'a' : 'b'}${p}.${r.i}`, t: r.t, topic, p });
          await log.append(
            topic,
            recs.map((r) => ({
              key: null,
              value: k(`${topic === a ? 'a' : 'b'}${p}.${r.i}`),
              timestamp: r.t,
              partition: p,
            })),
          );
        }
      expected.sort((x, y) => x.t - y.t || (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : 0) || x.p - y.p);
      const group = `g-${uid()}`;
      const got: string[][] = [[], []];
      const subs: Subscription[] = [];
      for (const i of [0, 1])
        subs.push(
          await log.subscribe({
            group,
            topics: [a, b],
            singleTask: true,
            maxBatchRecords: 4,
            handler: async (batch) => {
              got[i]!.push(...batch.records.map((r) => r.value!.toString()));
            },
          }),
        );
      for (const s of subs) await s.whenCaughtUp();
      // One member did everything, in one merged order; the other stood by.
      const [busy, idle] = got[0]!.length > 0 ? [got[0]!, got[1]!] : [got[1]!, got[0]!];
      expect(idle).toEqual([]);
      expect(busy).toEqual(expected.map((e) => e.v));
      for (const s of subs) await s.close();
    });

    it('resumes a group from its committed position after a restart, without duplicates', async () => {
      const topic = `t-resume-${uid()}`;
      const group = `g-${uid()}`;
      const log1 = await openLog();
      await log1.ensureTopics([{ name: topic, partitions: 2, cleanupPolicy: 'delete' }]);
      await log1.append(
        topic,
        Array.from({ length: 100 }, (_, i) => ({ key: k(`a${i}`), value: k(`v${i}`) })),
      );
      const first: LogRecord[] = [];
      const sub1 = await collect(log1, group, [topic], first);
      await sub1.whenCaughtUp();
      await sub1.close();
      await log1.close();
      expect(first).toHaveLength(100);

      const log2 = await openLog();
      const committed = await log2.committed(group, topic);
      expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(100n);
      await log2.append(
        topic,
        Array.from({ length: 50 }, (_, i) => ({ key: k(`b${i}`), value: k(`w${i}`) })),
      );
      const second: LogRecord[] = [];
      const sub2 = await collect(log2, group, [topic], second);
      await sub2.whenCaughtUp();
      expect(second.map((r) => r.value!.toString()).sort()).toEqual(
        Array.from({ length: 50 }, (_, i) => `w${i}`).sort(),
      );
      await sub2.close();
    });

    it('tells each member of a group the tasks it owns, when it joins and after each change', async () => {
      const log = await openLog();
      const topic = `t-assign-${uid()}`;
      const group = `g-${uid()}`;
      await log.ensureTopics([{ name: topic, partitions: 3, cleanupPolicy: 'delete' }]);
      const told: { a: (readonly number[])[]; b: (readonly number[])[] } = { a: [], b: [] };
      const member = (who: 'a' | 'b') =>
        log.subscribe({
          group,
          topics: [topic],
          handler: async () => undefined,
          onAssigned: (tasks) => told[who].push(tasks),
        });
      const until = async (what: string, ok: () => boolean) => {
        const deadline = Date.now() + 60_000;
        while (!ok()) {
          if (Date.now() > deadline)
            throw new Error(`not told within 60 s: ${what}; told ${JSON.stringify(told)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const last = (who: 'a' | 'b') => told[who].at(-1)?.join(',');
      const a = await member('a');
      await until('A alone owns every task', () => last('a') === '0,1,2');
      const b = await member('b');
      await until('A and B share the tasks', () => {
        const [x, y] = [told.a.at(-1) ?? [], told.b.at(-1) ?? []];
        return x.length > 0 && y.length > 0 && [...x, ...y].sort().join(',') === '0,1,2';
      });
      await b.close();
      await until('A owns every task again after B left', () => last('a') === '0,1,2' && told.a.length >= 3);
      for (const list of [...told.a, ...told.b]) expect([...list]).toEqual([...list].sort((x, y) => x - y));
      await a.close();
    });

    it('keeps the newest value per key in a compacted topic and removes deleted keys', async () => {
      const log = await openLog();
      const topic = `t-compact-${uid()}`;
      await log.ensureTopics([
        {
          name: topic,
          partitions: 1,
          cleanupPolicy: 'compact',
          deleteRetentionMs: 86_400_000,
          ...factory.compactableTopic,
        },
      ]);
      const positions = await log.append(topic, [
        { key: k('a'), value: k('1') },
        { key: k('b'), value: k('1') },
        { key: k('a'), value: k('2') },
        { key: k('c'), value: k('1') },
        { key: k('b'), value: null },
      ]);
      expect(await table(log, topic, 1)).toEqual(
        new Map([
          ['a', '2'],
          ['c', '1'],
        ]),
      );
      let filler = 0;
      await factory.compact(log, topic, async () => {
        await log.append(topic, [{ key: k(`z${filler++ % 2}`), value: k('x') }]);
      });
      const after = await log.read(topic, 0);
      const survivors = after.filter((r) => !r.key!.toString().startsWith('z'));
      // a=1 and b=1 are gone; the newest a, c and b's tombstone keep their offsets.
      expect(survivors.map((r) => [r.key!.toString(), r.value?.toString() ?? null, r.offset])).toEqual([
        ['a', '2', positions[2]!.offset],
        ['c', '1', positions[3]!.offset],
        ['b', null, positions[4]!.offset],
      ]);
      const rebuilt = await table(log, topic, 1);
      rebuilt.delete('z0');
      rebuilt.delete('z1');
      expect(rebuilt).toEqual(
        new Map([
          ['a', '2'],
          ['c', '1'],
        ]),
      );
    });

    it('redelivers a failed batch and commits nothing of the failed attempt', async () => {
      const log = await openLog();
      const input = `t-redeliver-in-${uid()}`;
      const output = `t-redeliver-out-${uid()}`;
      await log.ensureTopics([
        { name: input, partitions: 1, cleanupPolicy: 'delete' },
        { name: output, partitions: 1, cleanupPolicy: 'delete' },
      ]);
      await log.append(
        input,
        Array.from({ length: 50 }, (_, i) => ({ key: k(`k${i}`), value: k(String(i)) })),
      );
      let calls = 0;
      let failed = 0;
      const errors: unknown[] = [];
      const sub = await log.subscribe({
        group: `g-${uid()}`,
        topics: [input],
        maxBatchRecords: 10,
        onError: (err) => {
          errors.push(err);
          return 'retry';
        },
        handler: async (batch, tx) => {
          calls++;
          tx.append(
            output,
            batch.records.map((r) => ({ key: r.key, value: r.value })),
          );
          if (batch.records.some((r) => r.value!.toString() === '25') && failed < 2) {
            failed++;
            throw new HetuError('HETU_TEST_FLAKY', 'flaky handler', { transient: true });
          }
        },
      });
      await sub.whenCaughtUp();
      expect(failed).toBe(2);
      expect(errors.map(errorCode)).toEqual(['HETU_TEST_FLAKY', 'HETU_TEST_FLAKY']);
      expect(calls).toBeGreaterThanOrEqual(7);
      const out = await log.read(output, 0);
      expect(out.map((r) => r.value!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
      await sub.close();
    });

    it('resolves whenCaughtUp only after everything appended before it is committed', async () => {
      const log = await openLog();
      const topic = `t-caughtup-${uid()}`;
      const group = `g-${uid()}`;
      await log.ensureTopics([{ name: topic, partitions: 3, cleanupPolicy: 'delete' }]);
      let handled = 0;
      const sub = await log.subscribe({
        group,
        topics: [topic],
        maxBatchRecords: 7,
        handler: async (batch) => {
          handled += batch.records.length;
        },
      });
      await sub.whenCaughtUp(); // empty topic: caught up at once
      await log.append(
        topic,
        Array.from({ length: 300 }, (_, i) => ({ key: k(`k${i}`), value: k('v') })),
      );
      await sub.whenCaughtUp();
      expect(handled).toBe(300);
      const committed = await log.committed(group, topic);
      expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(300n);
      await sub.close();
    });

    it('says which input partition is behind, and where, when whenCaughtUp times out', async () => {
      const log = await openLog();
      const topic = `t-stuck-${uid()}`;
      await log.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: 'delete' }]);
      await log.append(topic, [{ key: k('a'), value: k('v') }]);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const sub = await log.subscribe({ group: `g-${uid()}`, topics: [topic], handler: () => held });
      const err = await sub.whenCaughtUp(1500).then(
        () => undefined,
        (e: unknown) => e,
      );
      release();
      expect(errorCode(err)).toBe('HETU_LOG_CATCH_UP_TIMEOUT');
      // Nothing committed yet: "none" (Kafka) or the start position 0 (embedded).
      expect((err as Error).message).toMatch(
        new RegExp(`within 1500 ms: ${topic} partition 0 is at offset (none|0) committed.* of 1\\.$`),
      );
      await sub.close();
    });

    it('closes idempotently and refuses work after close with a clear code', async () => {
      const log = await factory.open();
      const topic = `t-close-${uid()}`;
      await log.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: 'delete' }]);
      const sub = await collect(log, `g-${uid()}`, [topic], []);
      await Promise.all([sub.close(), sub.close()]);
      await sub.close();
      await Promise.all([log.close(), log.close()]);
      await log.close();
      await expect(log.append(topic, [{ key: null, value: k('x') }])).rejects.toMatchObject({
        code: 'HETU_LOG_CLOSED',
      });
    });

    it('names an unknown topic with a clear code', async () => {
      const log = await openLog();
      await expect(log.append(`t-missing-${uid()}`, [{ key: null, value: k('x') }])).rejects.toMatchObject({
        code: 'HETU_LOG_UNKNOWN_TOPIC',
      });
    });

    it('deletes topics and groups: the topics and their positions are gone, the names can be created again empty, the rest is untouched', async () => {
      const log = await openLog();
      const [gone, kept, group] = [`t-del-${uid()}`, `t-keep-${uid()}`, `g-${uid()}`];
      await log.ensureTopics([
        { name: gone, partitions: 2, cleanupPolicy: 'compact' },
        { name: kept, partitions: 2, cleanupPolicy: 'delete' },
      ]);
      const recs = Array.from({ length: 20 }, (_, i) => ({
        key: k(`k${i}`),
        value: k(String(i)),
        timestamp: 1_000 + i,
      }));
      await log.append(gone, recs);
      await log.append(kept, recs);
      const sub = await collect(log, group, [gone, kept], []);
      await sub.whenCaughtUp();
      // A group with a live member is not deleted.
      await expect(log.deleteGroups([group])).rejects.toMatchObject({ code: 'HETU_LOG_GROUP_IN_USE' });
      await sub.close();
      const sum = (m: Map<number, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);
      expect(sum(await log.committed(group, gone))).toBe(20n);

      await log.deleteTopics([gone, `t-never-${uid()}`]);
      expect((await log.describeTopics([gone, kept])).map((t) => t.name)).toEqual([kept]);
      await expect(log.append(gone, [{ key: k('a'), value: k('x') }])).rejects.toMatchObject({
        code: 'HETU_LOG_UNKNOWN_TOPIC',
      });
      // The other topic keeps its records and the group its positions in it.
      expect((await readAll(log, kept, 2)).map((r) => r.value!.toString()).sort()).toEqual(
        recs.map((r) => r.value.toString()).sort(),
      );
      expect(sum(await log.committed(group, kept))).toBe(20n);

      // Created again with other settings: empty, and no position survives from before.
      await log.ensureTopics([{ name: gone, partitions: 1, cleanupPolicy: 'delete' }]);
      const [again] = await log.describeTopics([gone]);
      expect(again).toMatchObject({
        name: gone,
        cleanupPolicy: 'delete',
        partitions: [{ partition: 0, low: 0n, high: 0n }],
      });
      expect((await log.committed(group, gone)).size).toBe(0);
      const [pos] = await log.append(gone, [{ key: k('a'), value: k('fresh') }]);
      expect(pos).toEqual({ topic: gone, partition: 0, offset: 0n });
      expect((await log.read(gone, 0)).map((r) => r.value!.toString())).toEqual(['fresh']);

      await log.deleteGroups([group, `g-never-${uid()}`]);
      expect((await log.committed(group, kept)).size).toBe(0);
      await log.deleteTopics([gone]);
    });

    describe('processor runtime', () => {
      async function setup(extra: Partial<Parameters<typeof sumProcessor>[0]> = {}) {
        const log = await openLog();
        const id = uid();
        const input = `t-sum-in-${id}`;
        const def = sumProcessor({ name: `sum-${id}`, input, changelog: `hetu.state.sum-${id}`, ...extra });
        await log.ensureTopics([{ name: input, partitions: 2, cleanupPolicy: 'delete' }]);
        return { log, input, def, dlq: `hetu.dlq.${id}` };
      }

      it('routes bad input to the dead-letter topic with its bytes, position and reason, and goes on', async () => {
        const { log, input, def, dlq } = await setup();
        const recs = Array.from({ length: 100 }, (_, i) => ({
          key: k(`k${i % 10}`),
          value: k(i % 20 === 7 ? `bad-${i}` : String(i)),
          timestamp: 1_000 + i,
        }));
        const positions = await log.append(input, recs);
        const rt = new ProcessorRuntime({ log, processor: def, dlqTopic: dlq });
        const sub = await rt.start();
        await sub.whenCaughtUp();
        const dead = (await log.read(dlq, 0)).map((r) => JSON.parse(r.value!.toString()));
        expect(dead.map((d) => Buffer.from(d.value, 'base64').toString()).sort()).toEqual(
          ['bad-7', 'bad-27', 'bad-47', 'bad-67', 'bad-87'].sort(),
        );
        for (const d of dead) {
          const i = Number(Buffer.from(d.value, 'base64').toString().slice(4));
          expect(d.reasonCode).toBe('HETU_INPUT_INVALID');
          expect(d.source).toEqual({
            topic: input,
            partition: positions[i]!.partition,
            offset: String(positions[i]!.offset),
          });
          expect(d.processor).toBe(def.name);
        }
        const expected = new Map<string, { count: number; sum: number }>();
        recs.forEach((r, i) => {
          if (i % 20 === 7) return;
          const cur = expected.get(r.key.toString()) ?? { count: 0, sum: 0 };
          expected.set(r.key.toString(), { count: cur.count + 1, sum: cur.sum + i });
        });
        const state = await table(log, def.changelogTopic, 2);
        for (const [key, v] of expected) {
          const s = JSON.parse(state.get(key)!) as SumState;
          expect({ key, count: s.count, sum: s.sum }).toEqual({ key, ...v });
        }
        await rt.close();
      });

      it('leaves state unchanged by a failed attempt: a transient failure is retried, never dead-lettered', async () => {
        const { log, input, def, dlq } = await setup();
        let failures = 0;
        const flaky = {
          ...def,
          decodeInput: (r: LogRecord) => {
            if (r.value!.toString() === '13' && failures < 3) {
              failures++;
              throw new HetuError('HETU_REGISTRY_UNREACHABLE', 'registry down', { transient: true });
            }
            return def.decodeInput(r);
          },
        };
        await log.append(
          input,
          Array.from({ length: 40 }, (_, i) => ({ key: k('only'), value: k(String(i)) })),
        );
        const rt = new ProcessorRuntime({ log, processor: flaky, dlqTopic: dlq, maxBatchRecords: 5 });
        const sub = await rt.start();
        await sub.whenCaughtUp();
        expect(failures).toBe(3);
        const state = await table(log, def.changelogTopic, 2);
        const s = JSON.parse(state.get('only')!) as SumState;
        expect([s.count, s.sum]).toEqual([40, (39 * 40) / 2]);
        await log.ensureTopics([{ name: dlq, partitions: 1, cleanupPolicy: 'delete' }]);
        expect(await log.read(dlq, 0)).toEqual([]);
        await rt.close();
      });

      it('stops on a programmer error without committing the failing batch', async () => {
        const { log, input, def, dlq } = await setup({ poison: '42' });
        await log.append(
          input,
          Array.from({ length: 60 }, (_, i) => ({ key: k('p'), value: k(String(i)), partition: 0 })),
        );
        const rt = new ProcessorRuntime({ log, processor: def, dlqTopic: dlq, maxBatchRecords: 10 });
        const sub = await rt.start();
        await expect(sub.done).rejects.toThrow('poison value');
        const state = await table(log, def.changelogTopic, 2);
        const s = JSON.parse(state.get('p')!) as SumState;
        expect(s.count).toBe(40); // batches 0–39 committed; the batch holding 42 was not
        await rt.close();
      });

      it('restores state from its changelog after a restart and continues from there', async () => {
        const { log, input, def, dlq } = await setup();
        await log.append(
          input,
          Array.from({ length: 30 }, (_, i) => ({ key: k(`k${i % 3}`), value: k('1') })),
        );
        const rt1 = new ProcessorRuntime({ log, processor: def, dlqTopic: dlq });
        await (await rt1.start()).whenCaughtUp();
        await rt1.close();
        await log.append(
          input,
          Array.from({ length: 30 }, (_, i) => ({ key: k(`k${i % 3}`), value: k('2') })),
        );
        const rt2 = new ProcessorRuntime({ log, processor: def, dlqTopic: dlq });
        await (await rt2.start()).whenCaughtUp();
        const merged = new Map<string, SumState>();
        for (const p of [0, 1]) for (const [key, v] of await rt2.state(p)) merged.set(key, v);
        expect([...merged].map(([key, v]) => [key, v.count, v.sum]).sort()).toEqual([
          ['k0', 20, 30],
          ['k1', 20, 30],
          ['k2', 20, 30],
        ]);
        await rt2.close();
      });
    });

    it('ends a crash-interrupted fold (20 kills at random points, 50 000 records) with state equal to a clean run, key by key', async () => {
      const log = await openLog();
      const report = await runCrashTest({
        log,
        childArgs: factory.childArgs(),
        kills: 20,
        records: 50_000,
        seed: 20261126,
      });
      console.log(
        `crash test: kills at ${report.killPoints.join(' ')}; batches per run ${report.batchesPerRun.join(' ')}`,
      );
      expect(report.kills).toBe(20);
      // Kills landed during restore and in the middle of the fold, not after it had finished.
      expect(report.killPoints.filter((p) => p === 'restore').length).toBeGreaterThan(0);
      expect(report.batchesPerRun.filter((b) => b > 0).length).toBeGreaterThanOrEqual(10);
      expect(report.differingKeys).toEqual([]);
      expect(report.keys).toBe(1_000);
      expect(report.folded).toBe(report.records - report.badRecords);
      expect(report.missingDeadLetters).toEqual([]);
      expect(report.deadLetters).toBe(report.badRecords);
    }, 600_000);
  });
}
