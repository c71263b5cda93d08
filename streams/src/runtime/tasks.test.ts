import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../embedded/embedded-log.ts';
import { KafkaLog } from '../kafka/kafka-log.ts';
import { keyedProcessor } from './processor.ts';
import { ProcessorRuntime } from './runtime.ts';

// A stage run on some of its tasks (`SubscribeOptions.tasks`): `hetu analyze` splits a stage over
// its two threads this way, each with a connection of its own to one embedded log.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function logWithInput(): Promise<{ dir: string; log: EmbeddedLog }> {
  const dir = mkdtempSync(join(tmpdir(), 'hetu-tasks-'));
  dirs.push(dir);
  const log = new EmbeddedLog({ dataDir: dir });
  await log.ensureTopics([
    { name: 'in', partitions: 3, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: 'out', partitions: 3, cleanupPolicy: 'compact' },
  ]);
  for (let p = 0; p < 3; p++)
    await log.append(
      'in',
      Array.from({ length: 5 }, (_, i) => ({
        key: Buffer.from(`k${p}-${i}`),
        value: Buffer.from(`${p}:${i}`),
        timestamp: 1000 + i,
        partition: p,
      })),
    );
  return { dir, log };
}

/** Copies each input to `out`: to its task's partition, or to partition `to` when given. */
const copier = (to?: number) =>
  keyedProcessor<string, string>({
    name: 'copier',
    inputs: ['in'],
    changelogTopic: 'copier-changelog',
    encodeState: (v) => Buffer.from(v),
    decodeState: (b) => b.toString(),
    decodeInput: (r) => r.value!.toString(),
    process: (_store, input, ctx) =>
      ctx.emit('out', {
        key: input,
        value: input,
        timestamp: ctx.timestamp,
        ...(to === undefined ? {} : { partition: to }),
      }),
  });

async function runOn(log: EmbeddedLog, tasks: number[], to?: number): Promise<void> {
  const rt = new ProcessorRuntime({ log, processor: copier(to), tasks });
  const sub = await rt.start();
  try {
    await sub.whenCaughtUp(30_000);
  } finally {
    await rt.close();
  }
}

describe('a stage run on some of its tasks', () => {
  it('works only on their partitions, commits only theirs, and is caught up at their ends', async () => {
    const { dir, log } = await logWithInput();
    // Two connections, as two threads have: tasks 0 and 2 on one, 1 on the other.
    const other = new EmbeddedLog({ dataDir: dir });
    await Promise.all([runOn(log, [0, 2]), runOn(other, [1])]);
    const out = (await log.describeTopics(['out']))[0]!.partitions;
    // Five facts (JSON, the runtime's default encoding) and a batch marker in each partition,
    // each written by its own task.
    expect(out.map((p) => Number(p.high))).toEqual([6, 6, 6]);
    for (const p of [0, 1, 2])
      expect((await log.read('out', p)).map((r) => JSON.parse(r.value!.toString()) as string)).toEqual(
        Array.from({ length: 5 }, (_, i) => `${p}:${i}`),
      );
    expect([...(await log.committed('copier', 'in'))].sort()).toEqual([
      [0, 5n],
      [1, 5n],
      [2, 5n],
    ]);
    await other.close();
    await log.close();
  });

  it('refuses an output outside its tasks (two writers of a partition would interleave by timing)', async () => {
    const { log } = await logWithInput();
    await expect(runOn(log, [0, 2], 1)).rejects.toMatchObject({ code: 'HETU_RUNTIME_TASK_SPLIT' });
    expect(Number((await log.describeTopics(['out']))[0]!.partitions[1]!.high)).toBe(0);
    await log.close();
  });

  it('is refused by the Kafka adapter, where the group assigns partitions', async () => {
    // Refused before any broker is asked: nothing listens on this port.
    const kafka = new KafkaLog({ brokers: ['127.0.0.1:1'], clientId: 'tasks-test' });
    await expect(
      kafka.subscribe({ group: 'g', topics: ['in'], tasks: [0], handler: async () => undefined }),
    ).rejects.toMatchObject({ code: 'HETU_LOG_BAD_OPTION' });
    await kafka.close();
  });

  it('is refused for a single-task subscription', async () => {
    const { log } = await logWithInput();
    await expect(
      log.subscribe({
        group: 'g',
        topics: ['in'],
        singleTask: true,
        tasks: [0],
        handler: async () => undefined,
      }),
    ).rejects.toMatchObject({ code: 'HETU_LOG_BAD_OPTION' });
    await log.close();
  });
});
