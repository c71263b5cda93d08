import {
  HetuError,
  ProcessorRuntime,
  avroDeadLetterEncoder,
  avroFactEncoder,
  type AnyProcessor,
  type BatchCommittedInfo,
  type LogRecord,
  type RuntimeEvents,
} from '@hetu/streams';
import { topicEntry, type RecordName } from '@hetu/schemas';
import { kubeProcessor } from '@hetu/processors/kube';
import { errorsProcessor } from '@hetu/processors/errors';
import { anomaliesProcessor } from '@hetu/processors/anomalies';
import { rekeyProcessor, clusterOfKey } from '@hetu/processors/rekey';
import { incidentsProcessor } from '@hetu/processors/incidents/topology';
import { recommendationsProcessor } from '@hetu/processors/recommendations/topology';
import {
  SCORING_CLUSTER_TOPIC,
  SCORING_FEED_TOPIC,
  scoringClusterProcessor,
  scoringFeedProcessor,
  scoringNamespacesProcessor,
} from '@hetu/processors/scoring/topology';
import type { Backend } from './backend.ts';
import { CLUSTER_FEED, SCORING_FEEDS } from './feeds.ts';

export { CLUSTER_FEED, INTERNAL_FEEDS, internalFeedSpecs } from './feeds.ts';

// feeds.ts names the scoring feeds without loading the processors: they must be the processors' own
if (SCORING_FEEDS[0] !== SCORING_FEED_TOPIC || SCORING_FEEDS[1] !== SCORING_CLUSTER_TOPIC)
  throw new Error(
    `cli/src/feeds.ts names the scoring feeds ${SCORING_FEEDS.join(', ')}: update it to ${SCORING_FEED_TOPIC}, ${SCORING_CLUSTER_TOPIC}.`,
  );

/** The topic a record's value came from decides its Avro record. */
export function recordOf(topic: string): RecordName {
  const name = topicEntry(topic)?.valueSchema;
  if (!name)
    throw new HetuError('HETU_RUNTIME_NO_SCHEMA', `Topic ${topic} has no value schema in the catalogue.`);
  return name;
}

/**
 * Every stage of the pipeline, in dependency order (docs/design-analysis-topology.md): `hetu
 * analyze` runs them one after another, `hetu start` all at once.
 */
export function pipelineStages(backend: Backend): [string, AnyProcessor<unknown, unknown>][] {
  const { serde } = backend;
  // Without a promise when the writer's schema is known (nearly always): the fold awaits none.
  const decodeAs = <N extends RecordName>(value: Buffer, name: N) =>
    serde.decodeKnown(value, name) ?? serde.decode(value, name);
  const decode = (sourceTopic: string, value: Buffer) => decodeAs(value, recordOf(sourceTopic));
  const decoder =
    <N extends RecordName>(name: N) =>
    (r: LogRecord) => {
      if (r.value === null)
        throw new HetuError(
          'HETU_INPUT_INVALID',
          `Record ${r.topic}/${r.partition}/${r.offset} has no value (a tombstone), not a ${name}.`,
        );
      return decodeAs(r.value, name);
    };
  const any = (p: unknown) => p as AnyProcessor<unknown, unknown>;
  return [
    ['kube', any(kubeProcessor({ decodeWatch: decoder('WatchObserved') }))],
    [
      'errors',
      any(errorsProcessor({ decodeLog: decoder('LogLineObserved'), decodeCommand: decoder('Command') })),
    ],
    ['anomalies', any(anomaliesProcessor({ decodeMetric: decoder('MetricSampled') }))],
    [
      'feed',
      any(
        rekeyProcessor({
          name: 'feed-by-cluster',
          inputs: [
            'hetu.raw.kube',
            'hetu.raw.metrics',
            'hetu.facts.pod-health',
            'hetu.facts.node-health',
            'hetu.facts.error-groups',
            'hetu.facts.anomalies',
          ],
          output: CLUSTER_FEED,
          keyOf: clusterOfKey,
          singleTask: true,
        }),
      ),
    ],
    ['incidents', any(incidentsProcessor({ decode, decodeCommand: decoder('Command') }))],
    ['recommendations', any(recommendationsProcessor({ decode, decodeCommand: decoder('Command') }))],
    // Staged scoring (docs/scoring.md): route by namespace, score namespaces, combine per cluster.
    ['scoring-feed', any(scoringFeedProcessor({ decode }))],
    ['scoring-namespaces', any(scoringNamespacesProcessor({ decode }))],
    ['scoring-cluster', any(scoringClusterProcessor({ decode }))],
  ];
}

/**
 * The topics each stage appends to (besides its changelog and the DLQ), by stage name: with the
 * processors' inputs they say which stages may run at the same time (`stageDependencies`).
 * `cli/src/commands/analyze.test.ts` checks them against what the stages write.
 */
export const STAGE_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
  kube: ['hetu.facts.pod-health', 'hetu.facts.node-health'],
  errors: ['hetu.facts.error-groups'],
  anomalies: ['hetu.facts.anomalies'],
  feed: [CLUSTER_FEED],
  incidents: ['hetu.facts.incidents', 'hetu.facts.rca'],
  recommendations: ['hetu.facts.recommendations'],
  'scoring-feed': [SCORING_FEED_TOPIC, SCORING_CLUSTER_TOPIC],
  'scoring-namespaces': ['hetu.facts.scores', 'hetu.facts.score-history', 'hetu.internal.score-partials'],
  'scoring-cluster': ['hetu.facts.scores', 'hetu.facts.score-history'],
  'llm-requests': ['hetu.llm.requests'],
};

/**
 * For each stage, the earlier stages (in the given order) it must wait for: those writing a topic
 * it reads, reading a topic it writes, or writing a topic it writes. Stages that wait for none of
 * each other may run at the same time and still derive what they derive one after another: each
 * reads only finished input, and no topic has two writers at once.
 */
export function stageDependencies(
  stages: readonly (readonly [string, { readonly inputs: readonly string[] }])[],
): Map<string, Set<string>> {
  const outputsOf = (name: string) => {
    const out = STAGE_OUTPUTS[name];
    if (!out)
      throw new HetuError(
        'HETU_RUNTIME_UNKNOWN_STAGE',
        `Stage ${name} has no outputs in STAGE_OUTPUTS (cli/src/stages.ts): add the topics it writes there.`,
      );
    return out;
  };
  const deps = new Map<string, Set<string>>();
  for (const [i, [name, p]] of stages.entries()) {
    const mine = new Set<string>();
    const reads = new Set(p.inputs);
    const writes = new Set(outputsOf(name));
    for (const [earlier, q] of stages.slice(0, i)) {
      const theirWrites = outputsOf(earlier);
      if (theirWrites.some((t) => reads.has(t) || writes.has(t)) || q.inputs.some((t) => writes.has(t)))
        mine.add(earlier);
    }
    deps.set(name, mine);
  }
  return deps;
}

/** Records in a stage's inputs now (ends minus starts: what `runStage` will go through, about). */
export async function inputRecords(
  backend: Backend,
  processor: { readonly inputs: readonly string[] },
  tasks?: readonly number[],
): Promise<number> {
  let total = 0;
  for (const [task, n] of await recordsByTask(backend, processor))
    if (tasks === undefined || tasks.includes(task)) total += n;
  return total;
}

/** Records in a stage's inputs now, by partition number (its task, unless it is single-task). */
export async function recordsByTask(
  backend: Backend,
  processor: { readonly inputs: readonly string[] },
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const t of await backend.log.describeTopics(processor.inputs))
    for (const p of t.partitions) out.set(p.partition, (out.get(p.partition) ?? 0) + Number(p.high - p.low));
  return out;
}

/**
 * Records per batch of a stage in `hetu analyze`, `hetu replay` and `hetu start`: with the
 * event-time slots (EVENT_TIME_SLOT_MS) it decides where batches end, and so the offsets of batch
 * markers that evidence points at; the same everywhere, so the three derive the same facts.
 */
export const STAGE_BATCH_RECORDS = 2000;

/**
 * A stage's runtime on `backend` as `hetu analyze` runs it: Avro facts and dead letters, batches of
 * STAGE_BATCH_RECORDS; `changelog` false: none (`ProcessorRuntimeOptions.changelog`).
 */
export function stageRuntime(
  backend: Backend,
  processor: AnyProcessor<unknown, unknown>,
  events?: RuntimeEvents,
  tasks?: readonly number[],
  changelog = true,
): ProcessorRuntime<unknown, unknown> {
  return new ProcessorRuntime({
    log: backend.log,
    processor,
    encodeFact: avroFactEncoder(backend.serde),
    encodeDeadLetter: avroDeadLetterEncoder(backend.serde),
    maxBatchRecords: STAGE_BATCH_RECORDS,
    ...(events ? { events } : {}),
    ...(tasks ? { tasks } : {}),
    ...(changelog ? {} : { changelog: false }),
  });
}

/**
 * Runs one stage to the end of its input (what its inputs held when it started), then stops it.
 * `onBatch` is told each committed batch; `tasks`: only those (the embedded log only); `changelog`
 * false: without a changelog (a log thrown away after this run).
 */
export async function runStage(
  backend: Backend,
  processor: AnyProcessor<unknown, unknown>,
  onBatch?: (info: BatchCommittedInfo) => void,
  tasks?: readonly number[],
  changelog = true,
): Promise<void> {
  const rt = stageRuntime(
    backend,
    processor,
    onBatch ? { batchCommitted: onBatch } : undefined,
    tasks,
    changelog,
  );
  const sub = await rt.start();
  try {
    await sub.whenCaughtUp(3_600_000);
  } finally {
    await rt.close();
  }
}
