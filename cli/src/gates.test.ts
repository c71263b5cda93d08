import { describe, expect, it } from 'vitest';
import { LIVE_INPUT_SLACK_MS, RawFrontier, StageGates, startLiveClock } from './gates.ts';
import { STAGE_OUTPUTS, pipelineStages } from './stages.ts';
import type { Backend } from './backend.ts';

const stages = [
  { name: 'kube', inputs: ['hetu.raw.kube'], outputs: ['hetu.facts.pod-health'] },
  { name: 'errors', inputs: ['hetu.raw.logs', 'hetu.commands'], outputs: ['hetu.facts.error-groups'] },
  {
    name: 'feed',
    inputs: ['hetu.raw.kube', 'hetu.facts.pod-health', 'hetu.facts.error-groups'],
    outputs: ['hetu.internal.cluster-feed'],
  },
];

describe('stage gates', () => {
  it('bounds a stage by the raw frontier and by how far the stages writing its inputs got', () => {
    const raw = new RawFrontier();
    const gates = new StageGates(stages, raw);
    expect(gates.bound('kube')).toBe(-Infinity);
    raw.complete(5_000);
    expect(gates.bound('kube')).toBe(5_000);
    expect(gates.bound('errors')).toBe(5_000);
    // The feed waits for kube and errors, whatever the raw frontier.
    expect(gates.bound('feed')).toBe(-Infinity);
    gates.gate('kube').reached(5_000);
    expect(gates.bound('feed')).toBe(-Infinity);
    gates.gate('errors').reached(3_000);
    expect(gates.bound('feed')).toBe(3_000);
    gates.gate('errors').reached(2_000); // never backwards
    expect(gates.frontier('errors')).toBe(3_000);
    raw.complete(4_000); // never backwards either
    expect(raw.value()).toBe(5_000);
  });

  it('does not hold back inputs no stage writes and no collector feeds (commands)', () => {
    const gates = new StageGates(stages, new RawFrontier());
    expect(gates.ungated('errors')).toEqual(['hetu.commands']);
    expect(gates.ungated('feed')).toEqual([]);
  });

  it('tells every gate when a bound may have moved', () => {
    const raw = new RawFrontier();
    const gates = new StageGates(stages, raw);
    let calls = 0;
    const stop = gates.gate('feed').onMove(() => calls++);
    raw.complete(1_000);
    gates.gate('kube').reached(1_000);
    gates.gate('kube').reached(1_000); // no move, no call
    expect(calls).toBe(2);
    stop();
    raw.complete(2_000);
    expect(calls).toBe(2);
  });

  it('refuses a stage that reads what it writes, and an unknown stage', () => {
    expect(
      () => new StageGates([{ name: 'loop', inputs: ['t'], outputs: ['t'] }], new RawFrontier()),
    ).toThrow(/reads t, which it writes/);
    expect(() => new StageGates(stages, new RawFrontier()).gate('nope')).toThrow(/No stage nope/);
  });

  it('gates every input of the pipeline stages but the commands', () => {
    const backend = { serde: {} } as unknown as Backend;
    const all = pipelineStages(backend).map(([name, p]) => ({
      name,
      inputs: p.inputs,
      outputs: STAGE_OUTPUTS[name] ?? [],
    }));
    const gates = new StageGates(all, new RawFrontier());
    const ungated = new Set(all.flatMap((s) => gates.ungated(s.name)));
    expect([...ungated].sort()).toEqual(['hetu.commands']);
  });

  it('moves raw input with the wall clock, 1 s behind it, while live collectors run', async () => {
    const raw = new RawFrontier();
    let now = 1_000_000;
    const stop = startLiveClock(raw, () => now);
    expect(raw.value()).toBe(1_000_000 - LIVE_INPUT_SLACK_MS);
    now += 5_000;
    await new Promise((r) => setTimeout(r, 400));
    expect(raw.value()).toBe(1_005_000 - LIVE_INPUT_SLACK_MS);
    stop();
    now += 5_000;
    await new Promise((r) => setTimeout(r, 400));
    expect(raw.value()).toBe(1_005_000 - LIVE_INPUT_SLACK_MS);
  });
});
