// `hetu replay --prune <N>` (docs/replay.md, "Keeping and pruning") on the embedded log and on
// Kafka (the test broker and Apicurio of the global setup, in a namespace of its own): the start of
// the demo recording is analysed (generation 1), replayed with one stage into generation 2 and in
// full into generation 3, readers switched to 3; then generations 2 and 1 are pruned, and exactly
// their topics and groups are gone while generation 3's facts and the raw input stay.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DLQ_TOPIC, errorCode, prefixedLog } from '@hetu/streams';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { analyzeOn } from './commands/analyze.ts';
import { derivedTopics, listGenerations, pruneOn, replayOn } from './commands/replay.ts';
import { factDigest } from './digest.ts';
import { FRONTIERS_TOPIC, encodeFrontier, ensureFrontiersTopic, frontierKey } from './frontiers.ts';
import { activeLog, latestValues, physicalName, readGenerations, switchGeneration } from './generations.ts';
import { pipelineStages } from './stages.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hetu-replay-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first 1 500 observations of the demo: every stage has input, and a replay takes seconds. */
const recording = join(dir, 'demo-start.jsonl');
writeFileSync(
  recording,
  gunzipSync(readFileSync(new URL('../../demo/demo.jsonl.gz', import.meta.url)))
    .toString('utf8')
    .split('\n')
    .slice(0, 1500)
    .join('\n') + '\n',
);

function hetu(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN, ...args],
      { timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end();
  });
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => errorCode(e) ?? String(e),
  );

const LAST_STAGE = 'scoring-cluster';
/** The time below which the planted frontiers say their tasks are done. */
const T_FRONTIER = Date.parse('2026-11-27T08:00:00.000Z');

/**
 * The scenario on one backend. `pruneTwo` prunes generation 2 (through the CLI on the embedded
 * log, where another process can open the same data directory).
 */
async function scenario(
  ns: Backend,
  pruneTwo: () => Promise<{ topics: readonly string[]; groups: readonly string[] }>,
) {
  await analyzeOn(ns, recording);
  const original = await factDigest(ns);
  expect(Object.values(original).some((d) => d.entries > 0)).toBe(true);

  // Generation 2: one stage, reading the others from generation 1. Generation 3: everything, active.
  const two = await replayOn(ns, { from: 'earliest', processors: [LAST_STAGE] });
  expect([two.generation, two.verified]).toEqual([2, true]);
  const three = await replayOn(ns, { from: 'earliest', switchOnSuccess: true });
  expect([three.generation, three.verified, three.switched]).toEqual([3, true, true]);

  // Frontiers `hetu run` processes published for generations 2 and 3 (docs/roles.md).
  await ensureFrontiersTopic(ns.log);
  const frontierTwo = frontierKey(2, physicalName(LAST_STAGE, 2), 0);
  const frontierThree = frontierKey(3, physicalName('kube', 3), 0);
  await ns.log.append(
    FRONTIERS_TOPIC,
    [frontierTwo, frontierThree].map((k) => ({ key: Buffer.from(k), value: encodeFrontier(T_FRONTIER) })),
  );

  const stages = pipelineStages(ns);
  const logical = [...derivedTopics(stages), ...stages.map(([, p]) => p.changelogTopic)];
  const topicsBefore = new Set((await ns.log.describeTopics()).map((t) => t.name));

  // Refused: the active generation, an unknown one, and generation 1 while generation 2 reads it.
  expect(await code(pruneOn(ns, 3))).toBe('HETU_REPLAY_PRUNE_ACTIVE');
  expect(await code(pruneOn(ns, 9))).toBe('HETU_REPLAY_UNKNOWN_GENERATION');
  expect(await code(pruneOn(ns, 1))).toBe('HETU_REPLAY_PRUNE_IN_USE');
  expect(new Set((await ns.log.describeTopics()).map((t) => t.name))).toEqual(topicsBefore);

  // Generation 2: every topic it created (all derived topics, created up front, its stage's
  // changelog, its dead letters) and its stage's group.
  const g2 = await pruneTwo();
  const expectedTwo = [...logical, DLQ_TOPIC]
    .map((t) => physicalName(t, 2))
    .filter((t) => topicsBefore.has(t));
  expect([...g2.topics].sort()).toEqual(expectedTwo.sort());
  expect(g2.topics).toContain(physicalName('hetu.state.scoring-cluster', 2));
  expect(g2.groups).toEqual([physicalName(LAST_STAGE, 2)]);
  const afterTwo = new Set((await ns.log.describeTopics()).map((t) => t.name));
  // …and its frontier: a tombstone for its key; generation 3's stays.
  expect([...(await latestValues(ns.log, FRONTIERS_TOPIC)).keys()]).toEqual([frontierThree]);
  expect([...topicsBefore].filter((t) => !afterTwo.has(t)).sort()).toEqual(expectedTwo.sort());
  expect([...afterTwo].filter((t) => t.endsWith('.g2'))).toEqual([]);

  // Generation 1 now: its derived topics, changelogs and groups — not the raw input, the commands,
  // the dead letters every generation's running stages write, the LLM topics, the control topic.
  const committedBefore = await ns.log.committed('kube', 'hetu.raw.kube');
  expect(committedBefore.size).toBeGreaterThan(0);
  const g1 = await pruneOn(ns, 1, { confirm: async () => true });
  expect(g1.pruned).toBe(true);
  const expectedOne = logical.filter((t) => afterTwo.has(t)).sort();
  expect(g1.topics).toEqual(expectedOne);
  expect(g1.groups).toEqual(stages.map(([, p]) => p.name).sort());
  const afterOne = new Set((await ns.log.describeTopics()).map((t) => t.name));
  expect([...afterTwo].filter((t) => !afterOne.has(t)).sort()).toEqual(expectedOne);
  for (const kept of [
    'hetu.raw.kube',
    'hetu.raw.logs',
    'hetu.raw.metrics',
    DLQ_TOPIC,
    'hetu.meta.generations',
  ])
    expect(afterOne.has(kept), kept).toBe(true);
  expect([...afterOne].filter((t) => t.startsWith('hetu.facts.llm-')).length).toBeGreaterThan(0);
  expect((await ns.log.committed('kube', 'hetu.raw.kube')).size).toBe(0);
  expect((await ns.log.committed('kube.g3', 'hetu.raw.kube')).size).toBeGreaterThan(0);

  // Readers still see generation 3's facts, the same as generation 1's were.
  const active = await activeLog(ns.log);
  expect(active.generation).toBe(3);
  expect(await factDigest({ ...ns, log: active.log })).toEqual(original);

  // Pruned generations are listed as such and cannot be switched to or resumed.
  const list = await listGenerations(ns.log);
  expect(list.map((r) => [r['generation'], r['status'], r['active']])).toEqual([
    [1, 'pruned', false],
    [2, 'pruned', false],
    [3, 'verified', true],
  ]);
  expect(await code(switchGeneration(ns.log, 1, ''))).toBe('HETU_REPLAY_PRUNED');
  expect(await code(switchGeneration(ns.log, 2, ''))).toBe('HETU_REPLAY_PRUNED');
  expect(await code(replayOn(ns, { resume: 2 }))).toBe('HETU_REPLAY_PRUNED');
  // Pruning again finishes an interrupted prune: here there is nothing left.
  const again = await pruneOn(ns, 1);
  expect([again.again, again.topics]).toEqual([true, []]);
  // …and the control topic still says what the first prune deleted.
  expect((await readGenerations(ns.log)).pruned.get(1)!.topics).toEqual(expectedOne);
}

describe('hetu replay --prune', () => {
  it('on the embedded log: prunes a one-stage generation (through the CLI) and then generation 1, and refuses the active, an unknown and a used generation', async () => {
    const dataDir = join(dir, 'embedded');
    const backend = await openBackend(parseGlobalConfig({ dataDir, output: 'json' }, {}));
    try {
      await scenario(backend, async () => {
        // Not on a terminal, without --yes: one sentence, exit 2, nothing deleted.
        const refused = await hetu(['--data-dir', dataDir, 'replay', '--prune', '2']);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain('add --yes to confirm it when not on a terminal');
        expect((await backend.log.describeTopics([physicalName('hetu.facts.scores', 2)])).length).toBe(1);
        const run = await hetu(['--data-dir', dataDir, '-o', 'json', 'replay', '--prune', 'g2', '--yes']);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const out = JSON.parse(run.stdout) as {
          generation: number;
          pruned: boolean;
          topics: string[];
          groups: string[];
        };
        expect([out.generation, out.pruned]).toEqual([2, true]);
        return out;
      });
    } finally {
      await backend.close();
    }
  }, 600_000);

  it('on Kafka: prunes a one-stage generation and then generation 1, and refuses the active, an unknown and a used generation', async () => {
    const kafka = await openBackend(
      parseGlobalConfig(
        { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      ),
    );
    try {
      const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, `prune-${randomUUID().slice(0, 8)}.`) };
      await scenario(ns, () => pruneOn(ns, 2));
    } finally {
      await kafka.close();
    }
  }, 900_000);
});
