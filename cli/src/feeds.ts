/**
 * The internal feeds the stages pass on (byte copies of records of several topics under a new
 * key, so they are not in the topic catalogue): the cluster feed and the scoring feeds
 * (docs/design-analysis-topology.md). Whoever creates the pipeline's topics creates these too.
 * Apart from the stages (stages.ts, which checks these names against the processors' own) so that
 * a collector's process creates the topics without loading every processor.
 */

/** The topic every cluster-wide stage reads: facts and raw records re-keyed by cluster. */
export const CLUSTER_FEED = 'hetu.internal.cluster-feed';
/** processors/scoring's SCORING_FEED_TOPIC and SCORING_CLUSTER_TOPIC. */
export const SCORING_FEEDS = ['hetu.internal.scoring-feed', 'hetu.internal.scoring-cluster'] as const;

export const INTERNAL_FEEDS: readonly string[] = [CLUSTER_FEED, ...SCORING_FEEDS];

/** The TopicSpecs of the internal feeds: 3 partitions each, delete policy, `retentionMs` (-1 keeps all). */
export function internalFeedSpecs(
  retentionMs: number,
): { name: string; partitions: number; cleanupPolicy: 'delete'; retentionMs: number }[] {
  return INTERNAL_FEEDS.map((name) => ({ name, partitions: 3, cleanupPolicy: 'delete', retentionMs }));
}
