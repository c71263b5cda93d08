import { HetuError, type AnyProcessor, type LogRecord } from '@hetu/streams';
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
  const decode = async (sourceTopic: string, value: Buffer) => serde.decode(value, recordOf(sourceTopic));
  const decoder =
    <N extends RecordName>(name: N) =>
    async (r: LogRecord) => {
      if (r.value === null)
        throw new HetuError(
          'HETU_INPUT_INVALID',
          `Record ${r.topic}/${r.partition}/${r.offset} has no value (a tombstone), not a ${name}.`,
        );
      return serde.decode(r.value, name);
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
