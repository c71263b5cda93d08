// The generation mapping (cli/src/generations.ts) on a real embedded log: names in, names out.
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '@hetu/streams';
import {
  GENERATIONS_TOPIC,
  activeLog,
  mappedLog,
  physicalName,
  readGenerations,
  switchGeneration,
  writeGenerationRecord,
  writePrunedRecord,
  type GenerationRecord,
} from './generations.ts';

let log: EmbeddedLog;
afterEach(async () => {
  await log?.close();
});

const mapping = {
  topics: { 'hetu.facts.scores': 'hetu.facts.scores.g2' },
  groups: { scoring: 'scoring.g2' },
};

describe('generations', () => {
  it('names generation N with a .g<N> suffix, and generation 1 with the name itself', () => {
    expect(physicalName('hetu.facts.scores', 1)).toBe('hetu.facts.scores');
    expect(physicalName('hetu.facts.scores', 3)).toBe('hetu.facts.scores.g3');
  });

  it('maps topics and groups to their physical names and back', async () => {
    log = new EmbeddedLog({ dataDir: ':memory:' });
    const spec = { partitions: 1, cleanupPolicy: 'compact' as const };
    await log.ensureTopics([
      { name: 'hetu.facts.scores', ...spec },
      { name: 'hetu.raw.kube', ...spec },
    ]);
    const g2 = mappedLog(log, mapping);
    await g2.ensureTopics([{ name: 'hetu.facts.scores', ...spec }]);
    await log.append('hetu.facts.scores', [
      { key: Buffer.from('k'), value: Buffer.from('one'), partition: 0 },
    ]);
    const [pos] = await g2.append('hetu.facts.scores', [
      { key: Buffer.from('k'), value: Buffer.from('two'), partition: 0 },
    ]);
    expect(pos!.topic).toBe('hetu.facts.scores');
    // The record went to the physical topic of generation 2; generation 1 kept its own.
    expect((await log.read('hetu.facts.scores.g2', 0)).map((r) => r.value!.toString())).toEqual(['two']);
    expect((await log.read('hetu.facts.scores', 0)).map((r) => r.value!.toString())).toEqual(['one']);
    const [read] = await g2.read('hetu.facts.scores', 0);
    expect([read!.topic, read!.value!.toString()]).toEqual(['hetu.facts.scores', 'two']);
    // A listing shows every logical name once; unmapped names pass through.
    const names = (await g2.describeTopics()).map((t) => t.name).sort();
    expect(names).toEqual(['hetu.facts.scores', 'hetu.raw.kube']);

    const seen: string[] = [];
    const sub = await g2.subscribe({
      group: 'scoring',
      topics: ['hetu.facts.scores'],
      handler: async (batch) => {
        for (const r of batch.records) seen.push(`${r.topic}=${r.value!.toString()}`);
      },
    });
    await sub.whenCaughtUp(10_000);
    await sub.close();
    expect(seen).toEqual(['hetu.facts.scores=two']);
    expect((await log.committed('scoring.g2', 'hetu.facts.scores.g2')).get(0)).toBeGreaterThan(0n);
    expect((await log.committed('scoring', 'hetu.facts.scores')).size).toBe(0);
    expect((await g2.committed('scoring', 'hetu.facts.scores')).get(0)).toBeGreaterThan(0n);
  });

  it('resolves readers through the active record, and refuses generations that are not ready', async () => {
    log = new EmbeddedLog({ dataDir: ':memory:' });
    expect((await activeLog(log)).generation).toBe(1);
    const record = (generation: number, status: GenerationRecord['status'], bounded: boolean) => ({
      generation,
      status,
      createdAt: '',
      window: { from: 'earliest', to: null, fromMs: null, toMs: null, fromOffset: null, toOffset: null },
      stages: ['scoring'],
      mapping,
      basedOn: 1,
      bounded,
    });
    await writeGenerationRecord(log, record(2, 'verified', false));
    await writeGenerationRecord(log, record(3, 'running', false));
    await writeGenerationRecord(log, record(4, 'verified', true));
    const codes = async (n: number) =>
      switchGeneration(log, n, '').then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    expect(await codes(3)).toBe('HETU_REPLAY_NOT_VERIFIED');
    expect(await codes(4)).toBe('HETU_REPLAY_BOUNDED');
    expect(await codes(9)).toBe('HETU_REPLAY_UNKNOWN_GENERATION');
    expect(await codes(2)).toBe('ok');
    const state = await readGenerations(log);
    expect(state.active).toMatchObject({ generation: 2, previous: 1, mapping });
    expect(state.generations.size).toBe(3);
    const [info] = await log.describeTopics([GENERATIONS_TOPIC]);
    expect(info!.cleanupPolicy).toBe('compact');
    expect(await codes(1)).toBe('ok');
    expect((await activeLog(log)).generation).toBe(1);
  });

  it('reads pruned marks, and refuses to switch to a pruned generation, generation 1 included', async () => {
    log = new EmbeddedLog({ dataDir: ':memory:' });
    await writeGenerationRecord(log, {
      generation: 2,
      status: 'verified',
      createdAt: '',
      window: { from: 'earliest', to: null, fromMs: null, toMs: null, fromOffset: null, toOffset: null },
      stages: ['scoring'],
      mapping,
      basedOn: 1,
      bounded: false,
    });
    await switchGeneration(log, 2, '');
    await writePrunedRecord(log, {
      generation: 1,
      prunedAt: 'x',
      topics: ['hetu.facts.scores'],
      groups: ['scoring'],
    });
    const state = await readGenerations(log);
    expect([...state.pruned.keys()]).toEqual([1]);
    expect(state.pruned.get(1)).toMatchObject({ topics: ['hetu.facts.scores'], groups: ['scoring'] });
    expect(state.generations.size).toBe(1);
    await expect(switchGeneration(log, 1, '')).rejects.toMatchObject({ code: 'HETU_REPLAY_PRUNED' });
    expect((await activeLog(log)).generation).toBe(2);
  });
});
