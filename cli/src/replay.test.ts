// `hetu replay` on the embedded log: the demo recording is analysed once (generation 1), then
// replayed into new generations, verified, switched, interrupted and resumed (docs/replay.md).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorCode } from '@hetu/streams';
import { Projections } from '@hetu/projections';
import { StageWorker, analyze } from './commands/analyze.ts';
import { derivedTopics, listGenerations, replayOn } from './commands/replay.ts';
import { activeLog, physicalName, readGenerations, switchGeneration } from './generations.ts';
import { openBackend, type Backend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';
import { pipelineStages } from './stages.ts';
import { runStart } from './commands/start.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-replay-test-'));
let backend: Backend;

/** Newest value bytes per key of a physical topic. */
async function rows(topic: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const info of await backend.log.describeTopics([topic]))
    for (const p of info.partitions) {
      const recs = await backend.log.read(topic, p.partition, { fromOffset: p.low, toOffset: p.high });
      for (const r of recs) {
        const k = r.key?.toString('utf8') ?? '';
        if (r.value === null) out.delete(k);
        else out.set(k, r.value.toString('base64'));
      }
    }
  return out;
}

const FACTS = () => derivedTopics(pipelineStages(backend)).filter((t) => t.startsWith('hetu.facts.'));

async function sameFacts(a: number, b: number, topics = FACTS()): Promise<void> {
  for (const t of topics) {
    const x = await rows(physicalName(t, a));
    const y = await rows(physicalName(t, b));
    expect({ topic: t, keys: [...y.keys()].sort() }).toEqual({ topic: t, keys: [...x.keys()].sort() });
    for (const [k, v] of x) expect(y.get(k), `${t} ${k}`).toBe(v);
  }
}

beforeAll(async () => {
  await analyze('demo/demo.jsonl.gz', { dataDir: dir });
  backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
}, 300_000);

// Each test starts with readers on the original topics.
beforeEach(async () => {
  if ((await readGenerations(backend.log)).active.generation !== 1)
    await switchGeneration(backend.log, 1, new Date(0).toISOString());
});

afterAll(async () => {
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hetu replay', () => {
  it('replays everything from the earliest record into generation 2 with the same facts, and leaves readers on generation 1', async () => {
    const report = await replayOn(backend, { from: 'earliest' });
    expect(report.generation).toBe(2);
    expect(report.verified).toBe(true);
    expect(report.switched).toBe(false);
    expect(report.active).toBe(1);
    // Every raw observation of the recording reached the first stages.
    const kube = report.stages.find((s) => s.stage === 'kube')!;
    const errors = report.stages.find((s) => s.stage === 'errors')!;
    const anomalies = report.stages.find((s) => s.stage === 'anomalies')!;
    expect(kube.inWindow + errors.inWindow + anomalies.inWindow).toBe(21_779);
    expect(report.observations).toBe(21_779);
    for (const s of report.stages) {
      expect(s.complete).toBe(true);
      expect(s.deliveredThisRun).toBe(s.inWindow);
      expect(s.processed + s.deadLettered).toBe(s.inWindow);
    }
    expect(report.observationsPerSecond).toBeGreaterThan(0);
    // Deterministic: byte for byte the facts of the original run.
    await sameFacts(1, 2);
    const scores = report.outputs.find((o) => o.topic === 'hetu.facts.scores')!;
    expect(scores.keys).toBeGreaterThan(0);
    expect(scores.diff).toEqual({ added: 0, changed: 0, removed: 0, examples: [] });
    // Readers still resolve to the original topics.
    expect((await activeLog(backend.log)).generation).toBe(1);
    expect((await readGenerations(backend.log)).generations.get(2)?.status).toBe('verified');
  }, 600_000);

  it('replays every stage on two threads (a stage worker), stages side by side, to the same facts', async () => {
    const writeLock = new SharedArrayBuffer(4);
    const both = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}), { writeLock });
    const worker = new StageWorker();
    const labels: string[] = [];
    try {
      await worker.open(dir, writeLock, 'normal');
      const report = await replayOn(both, {
        from: 'earliest',
        worker,
        progress: { stage: (label) => labels.push(label) },
      });
      expect(report.verified).toBe(true);
      expect(report.observations).toBe(21_779);
      for (const s of report.stages) {
        expect(s.complete).toBe(true);
        expect(s.deliveredThisRun).toBe(s.inWindow);
        expect(s.processed + s.deadLettered).toBe(s.inWindow);
      }
      // Two stages ran at once (errors and anomalies read only raw input).
      expect(labels.some((l) => l.includes(' + '))).toBe(true);
      // When one of two ends while the other runs on, the label names the one still running.
      expect(
        labels.some(
          (l, i) =>
            i > 0 && labels[i - 1]!.split(' + ').length === 2 && labels[i - 1]!.split(' + ').includes(l),
        ),
      ).toBe(true);
      await sameFacts(1, report.generation);
    } finally {
      await worker.close();
      await both.close();
    }
  }, 600_000);

  it('on two threads, stops at Ctrl-C with a stage part-way and resumes on two threads to the same facts', async () => {
    const writeLock = new SharedArrayBuffer(4);
    const both = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}), { writeLock });
    let worker = new StageWorker();
    try {
      await worker.open(dir, writeLock, 'normal');
      const ac = new AbortController();
      const err = await replayOn(both, {
        from: 'earliest',
        worker,
        signal: ac.signal,
        // Once records of the first stages (errors beside anomalies) were handed over.
        progress: { records: (done) => done > 0 && ac.abort() },
      }).catch((e: unknown) => e);
      expect(errorCode(err)).toBe('HETU_REPLAY_INTERRUPTED');
      // The interrupted worker is closed (as `hetu replay` does) and a new one resumes.
      await worker.close();
      worker = new StageWorker();
      await worker.open(dir, writeLock, 'normal');
      let gen = 0;
      for (const [n, g] of (await readGenerations(both.log)).generations) if (g.status === 'running') gen = n;
      expect(gen).toBeGreaterThan(0);
      const resumed = await replayOn(both, { resume: gen, worker });
      expect(resumed.verified).toBe(true);
      for (const s of resumed.stages) {
        expect(s.complete).toBe(true);
        expect(s.processed + s.deadLettered).toBe(s.inWindow);
      }
      await sameFacts(1, gen);
    } finally {
      await worker.close();
      await both.close();
    }
  }, 600_000);

  it('replays a window the same way twice, switches readers (projections rebuild from it) and switches back', async () => {
    const first = await replayOn(backend, { from: '2026-11-26T09:00:00Z' });
    const second = await replayOn(backend, { from: '2026-11-26T09:00:00Z' });
    expect([first.verified, second.verified]).toEqual([true, true]);
    await sameFacts(first.generation, second.generation);
    // The window leaves out the first hour: only records from 09:00 on went in.
    const raw = first.stages.filter((s) => ['kube', 'errors', 'anomalies'].includes(s.stage));
    const inWindow = raw.reduce((s, x) => s + x.inWindow, 0);
    expect(inWindow).toBeGreaterThan(0);
    expect(inWindow).toBeLessThan(21_779);
    const changed = first.outputs.find((o) => o.topic === 'hetu.facts.scores')!.diff!;
    expect(changed.added + changed.changed + changed.removed).toBeGreaterThan(0);

    const cluster = { cluster: 'demo', scope: 'cluster' };
    const project = async () => {
      const { generation, log } = await activeLog(backend.log);
      const p = await Projections.start({ log, serde: backend.serde });
      try {
        await p.whenCaughtUp(120_000);
        return { generation, score: p.stores.scores.scoresOf([cluster])[0]?.score ?? null };
      } finally {
        await p.close();
      }
    };
    const before = await project();
    expect(before.generation).toBe(1);
    await switchGeneration(backend.log, first.generation, new Date(0).toISOString());
    const after = await project();
    expect(after.generation).toBe(first.generation);
    // The projections read generation N: their score is N's, not the original one.
    const decode = async (g: number) => {
      const v = (await rows(physicalName('hetu.facts.scores', g))).get('demo/cluster')!;
      return ((await backend.serde.decode(Buffer.from(v, 'base64'), 'ScopeScore')) as { overall: number })
        .overall;
    };
    expect(before.score?.overall).toBe(await decode(1));
    expect(after.score?.overall).toBe(await decode(first.generation));
    expect(await decode(first.generation)).not.toBe(await decode(1));

    // `hetu start` serves the active generation, from a read model of its own.
    const expected = await decode(first.generation);
    await backend.close();
    try {
      const ac = new AbortController();
      let listening!: (url: string) => void;
      const urlP = new Promise<string>((r) => (listening = r));
      const done = runStart(parseGlobalConfig({ dataDir: dir, output: 'table' }, {}), {
        out: { write: () => true } as unknown as NodeJS.WritableStream,
        signal: ac.signal,
        demo: false,
        kube: null,
        webRoot: null,
        port: 0,
        onListening: (u) => listening(u),
      });
      const url = await Promise.race([
        urlP,
        done.then(() => Promise.reject(new Error('hetu start stopped early'))),
      ]);
      // Ready once the projections caught up with the generation's topics.
      for (let i = 0; i < 1200 && !(await fetch(`${url}/readyz`)).ok; i++)
        await new Promise((res) => setTimeout(res, 100));
      const r = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ score(cluster: "demo") { overall } }' }),
      });
      const served = ((await r.json()) as { data?: { score?: { overall?: number } } }).data?.score?.overall;
      ac.abort();
      await done;
      expect(served).toBe(expected);
      expect(existsSync(join(dir, `projections.g${first.generation}`))).toBe(true);
    } finally {
      backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
    }

    // The original topics stayed; switching back is the rollback.
    await switchGeneration(backend.log, 1, new Date(0).toISOString());
    const back = await project();
    expect(back.generation).toBe(1);
    expect(back.score?.overall).toBe(before.score?.overall);
  }, 600_000);

  it('refuses a bad --from or --to with one sentence saying what to give', async () => {
    const fail = async (o: { from: string; to?: string }) => {
      try {
        await replayOn(backend, o);
      } catch (err) {
        return { code: errorCode(err), message: (err as Error).message };
      }
      throw new Error('expected a rejection');
    };
    const bad = await fail({ from: 'yesterday' });
    expect(bad.code).toBe('HETU_CLI_BAD_OPTION');
    expect(bad.message).toMatch(
      /^--from yesterday is not a time, a position or an offset: give an RFC3339 time/,
    );
    expect(bad.message.split('. ').length).toBe(1);
    const gone = await fail({ from: 'hetu.raw.kube:0:999999999' });
    expect(gone.message).toMatch(
      /^--from hetu\.raw\.kube:0:999999999 names no retained record \(partition 0 of hetu\.raw\.kube holds offsets 0 to \d+\)/,
    );
    const reversed = await fail({ from: '2026-11-26T09:00:00Z', to: '2026-11-26T08:00:00Z' });
    expect(reversed.message).toMatch(/^--to 2026-11-26T08:00:00Z is before --from/);
    const stage = await replayOn(backend, { from: 'earliest', processors: ['nope'] }).catch((e: Error) => e);
    expect((stage as Error).message).toMatch(/^--processor nope names no stage: choose from kube, errors/);
  }, 600_000);

  it('an interrupted replay leaves readers where they were and can be resumed to the same facts', async () => {
    const ac = new AbortController();
    let gen = 0;
    let stage = '';
    const err = await replayOn(backend, {
      from: 'earliest',
      signal: ac.signal,
      progress: {
        records: (done) => {
          // Midway through the errors stage.
          if (done > 0 && stage === 'errors') ac.abort();
        },
        stage: (name) => {
          stage = name;
        },
      },
    }).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('HETU_REPLAY_INTERRUPTED');
    const state = await readGenerations(backend.log);
    expect(state.active.generation).toBe(1);
    for (const [n, g] of state.generations) if (g.status === 'running') gen = n;
    expect(gen).toBeGreaterThan(0);
    // Part of the errors stage was committed before the interruption; the rest was not.
    const [groups] = await backend.log.describeTopics([physicalName('hetu.facts.error-groups', gen)]);
    expect(groups).toBeDefined();
    const resumed = await replayOn(backend, { resume: gen, switchOnSuccess: true });
    expect(resumed.generation).toBe(gen);
    expect(resumed.verified).toBe(true);
    expect(resumed.switched).toBe(true);
    for (const s of resumed.stages) expect(s.processed + s.deadLettered).toBe(s.inWindow);
    await sameFacts(1, gen);
    expect((await activeLog(backend.log)).generation).toBe(gen);
    await switchGeneration(backend.log, 1, new Date(0).toISOString());
  }, 600_000);

  it('replays one stage on top of the active generation and keeps a --to window out of readers', async () => {
    // The scoring stage(s), whatever the pipeline calls them, over the facts of generation 1.
    const names = pipelineStages(backend).map(([n]) => n);
    const chosen = names.filter((n) => n.startsWith('scoring'));
    expect(chosen.length).toBeGreaterThan(0);
    const scoring = await replayOn(backend, { from: 'earliest', processors: chosen });
    expect(scoring.verified).toBe(true);
    expect(scoring.stages.map((s) => s.stage)).toEqual(chosen);
    const written = scoring.outputs.map((o) => o.topic);
    expect(written).toEqual(expect.arrayContaining(['hetu.facts.score-history', 'hetu.facts.scores']));
    expect(written).not.toContain('hetu.facts.incidents');
    await sameFacts(1, scoring.generation, ['hetu.facts.scores', 'hetu.facts.score-history']);
    const g = (await readGenerations(backend.log)).generations.get(scoring.generation)!;
    expect(g.mapping.topics['hetu.facts.incidents']).toBeUndefined();
    expect(g.mapping.topics['hetu.facts.scores']).toBe(physicalName('hetu.facts.scores', scoring.generation));
    for (const [n, p] of pipelineStages(backend))
      expect(g.mapping.groups[p.name]).toBe(
        chosen.includes(n) ? physicalName(p.name, scoring.generation) : undefined,
      );

    const bounded = await replayOn(backend, {
      from: '2026-11-26T08:00:00Z',
      to: '2026-11-26T08:30:00Z',
      processors: ['kube'],
      switchOnSuccess: true,
    });
    expect(bounded.verified).toBe(true);
    expect(bounded.bounded).toBe(true);
    expect(bounded.switched).toBe(false);
    const refused = await switchGeneration(backend.log, bounded.generation, '').catch((e: Error) => e);
    expect(errorCode(refused)).toBe('HETU_REPLAY_BOUNDED');
    const list = await listGenerations(backend.log);
    expect(list.map((r) => r.generation)).toContain(bounded.generation);
    expect(list.find((r) => r.active === true)?.generation).toBe(1);
  }, 600_000);
});
