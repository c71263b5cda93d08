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

/** The topic every cluster-wide stage reads: facts and raw records re-keyed by cluster. */
export const CLUSTER_FEED = 'hetu.internal.cluster-feed';

/**
 * The internal feeds the stages pass on (byte copies of records of several topics under a new
 * key, so they are not in the topic catalogue): the cluster feed and the scoring feeds
 * (docs/design-analysis-topology.md). Whoever creates the pipeline's topics creates these too.
 */
export const INTERNAL_FEEDS: readonly string[] = [CLUSTER_FEED, SCORING_FEED_TOPIC, SCORING_CLUSTER_TOPIC];

/** The TopicSpecs of the internal feeds: 3 partitions each, delete policy, `retentionMs` (-1 keeps all). */
export function internalFeedSpecs(
  retentionMs: number,
): { name: string; partitions: number; cleanupPolicy: 'delete'; retentionMs: number }[] {
  return INTERNAL_FEEDS.map((name) => ({ name, partitions: 3, cleanupPolicy: 'delete', retentionMs }));
}

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
