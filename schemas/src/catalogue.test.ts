import { describe, expect, it } from 'vitest';
import { TOPICS, topicEntry, topicSpec, topicSpecs } from './catalogue.ts';
import { recordNames } from './generated/records.ts';

const DAY = 86_400_000;

describe('topic catalogue', () => {
  it('holds exactly these topics, with these configs and value schemas', () => {
    expect(
      TOPICS.map((t) => [
        t.name,
        t.partitions,
        t.cleanupPolicy,
        t.retentionMs,
        t.deleteRetentionMs,
        t.valueSchema,
      ]),
    ).toEqual([
      ['hetu.raw.kube', 3, 'delete', 7 * DAY, undefined, 'WatchObserved'],
      ['hetu.raw.metrics', 3, 'delete', 7 * DAY, undefined, 'MetricSampled'],
      ['hetu.raw.logs', 3, 'delete', 3 * DAY, undefined, 'LogLineObserved'],
      ['hetu.commands', 3, 'delete', -1, undefined, 'Command'],
      ['hetu.dlq', 1, 'delete', 30 * DAY, undefined, 'DeadLetter'],
      ['hetu.facts.pod-health', 3, 'compact', undefined, DAY, 'PodHealth'],
      ['hetu.facts.node-health', 3, 'compact', undefined, DAY, 'NodeHealth'],
      ['hetu.facts.error-groups', 3, 'compact', undefined, DAY, 'ErrorGroup'],
      ['hetu.facts.anomalies', 3, 'compact', undefined, DAY, 'AnomalyEpisode'],
      ['hetu.facts.scores', 3, 'compact', undefined, DAY, 'ScopeScore'],
      ['hetu.facts.score-history', 3, 'delete', 30 * DAY, undefined, 'ScoreChanged'],
      ['hetu.facts.incidents', 3, 'compact', undefined, DAY, 'Incident'],
      ['hetu.facts.rca', 3, 'compact', undefined, DAY, 'RcaReport'],
      ['hetu.facts.llm-analyses', 3, 'compact', undefined, DAY, 'LlmAnalysis'],
      ['hetu.facts.llm-usage', 1, 'compact,delete', 90 * DAY, DAY, 'LlmUsage'],
      ['hetu.facts.recommendations', 3, 'compact', undefined, DAY, 'Recommendation'],
      ['hetu.internal.score-partials', 3, 'compact', undefined, DAY, 'NamespaceScorePartial'],
      ['hetu.llm.requests', 3, 'delete', 7 * DAY, undefined, 'LlmRequest'],
    ]);
  });

  it('names topics hetu.<stage>.<thing>, names every value record that exists, and marks the pending ones', () => {
    for (const t of TOPICS) {
      expect(t.name).toMatch(
        /^hetu\.(raw\.[a-z-]+|facts\.[a-z-]+|llm\.[a-z-]+|internal\.[a-z-]+|commands|dlq)$/,
      );
      expect(t.description.length).toBeGreaterThan(0);
      expect(t.key.length).toBeGreaterThan(0);
      if (t.valueSchema === null) expect(t.pendingSchema).toMatch(/^[A-Z][A-Za-z]+$/);
      else expect(recordNames).toContain(t.valueSchema);
    }
  });

  it('gives a TopicSpec in the log port shape', () => {
    expect(topicSpec('hetu.raw.kube')).toEqual({
      name: 'hetu.raw.kube',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 604_800_000,
    });
    expect(topicSpec('hetu.facts.scores')).toEqual({
      name: 'hetu.facts.scores',
      partitions: 3,
      cleanupPolicy: 'compact',
      deleteRetentionMs: 86_400_000,
    });
    expect(topicSpec('hetu.commands')).toEqual({
      name: 'hetu.commands',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: -1,
    });
    expect(topicSpecs().map((s) => s.name)).toEqual(TOPICS.map((t) => t.name));
    expect(topicEntry('hetu.dlq')?.valueSchema).toBe('DeadLetter');
    expect(topicEntry('hetu.raw.nope')).toBe(undefined);
  });

  it('refuses an unknown topic with a stable code and one sentence', () => {
    expect(() => topicSpec('hetu.raw.nope')).toThrow(
      expect.objectContaining({
        code: 'HETU_CATALOGUE_UNKNOWN_TOPIC',
        message: expect.stringMatching(
          /^Topic hetu\.raw\.nope is not in hetu's topic catalogue; use one of hetu\.raw\.kube, .*\.$/,
        ),
      }),
    );
  });
});
