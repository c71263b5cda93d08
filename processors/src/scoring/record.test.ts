import { recordType } from '@hetu/schemas';
import { describe, expect, it } from 'vitest';
import { scoreChange } from './change.ts';
import { T0, merge, pod, wellRunNamespace, workload } from './fixtures.ts';
import { scoreKey, toScopeScoreRecord, toScoreChangedRecord } from './record.ts';
import type { ScopeScoreRecord, ScoreChangedRecord } from './record.ts';
import { scoreScope } from './score.ts';
import type { ScoringInput, ScoringPod } from './types.ts';

const AT = T0 + 12 * 60_000;
const MAX_OFFSET = '9223372036854775807';

function roundTrip<N extends 'ScopeScore' | 'ScoreChanged'>(name: N, value: unknown): unknown {
  const type = recordType(name);
  expect(type.isValid(value)).toBe(true);
  return type.fromBuffer(type.toBuffer(value));
}

function input(pods: ScoringPod[]): ScoringInput {
  return merge(wellRunNamespace('shop'), { workloads: [workload('shop', 'api')], pods });
}

const crashing = (name: string): ScoringPod =>
  pod('shop', name, 'api', ['crashloop'], {
    evidence: [
      {
        topic: 'hetu.raw.kube',
        partition: 2,
        offset: MAX_OFFSET,
        ts: T0 + 5_000,
        excerpt: `${name} CrashLoopBackOff`,
      },
    ],
  });

const running = pod('shop', 'api-ok', 'api', [], { usage: { cpuCores: 0.1, memoryBytes: 256 * 2 ** 20 } });

describe('ScopeScore record', () => {
  it('carries the score, its rules, resources and evidence positions, and round-trips exactly', () => {
    const score = scoreScope(
      input([crashing('api-x1'), crashing('api-x2'), running]),
      'workload:shop/Deployment/api',
    );
    const record = toScopeScoreRecord(score, 'prod', AT);
    expect(scoreKey('prod', score.scope)).toBe('prod/workload:shop/Deployment/api');
    expect({
      ts: record.ts,
      cluster: record.cluster,
      scope: record.scope,
      scopeType: record.scopeType,
      namespace: record.namespace,
      workloadKind: record.workloadKind,
      workloadName: record.workloadName,
      noData: record.noData,
      reliability: record.reliability,
      overall: record.overall,
      level: record.level,
    }).toEqual({
      ts: AT,
      cluster: 'prod',
      scope: 'workload:shop/Deployment/api',
      scopeType: 'workload',
      namespace: 'shop',
      workloadKind: 'Deployment',
      workloadName: 'api',
      noData: false,
      reliability: score.reliability,
      overall: score.overall,
      level: score.level,
    });
    const crash = record.deductions.find((d) => d.rule === 'crashloop-pods');
    expect(crash).toEqual({
      dimension: 'reliability',
      rule: 'crashloop-pods',
      title: score.deductions.find((d) => d.rule === 'crashloop-pods')?.title,
      severity: 'high',
      points: -20,
      count: 2,
      perItem: 10,
      cap: 30,
      resources: ['api-x1', 'api-x2'].map((name) => ({
        kind: 'Pod',
        namespace: 'shop',
        name,
        status: 'crashloop',
        detail: 'a container is waiting in CrashLoopBackOff',
        share: -10,
        evidence: [
          {
            topic: 'hetu.raw.kube',
            partition: 2,
            offset: 9223372036854775807n,
            ts: T0 + 5_000,
            excerpt: `${name} CrashLoopBackOff`,
          },
        ],
      })),
      totalResources: 2,
    });
    expect(record.efficiency).toEqual(score.efficiency);
    expect(record.deductions.map((d) => d.rule)).toEqual(score.deductions.map((d) => d.rule));
    const back = roundTrip('ScopeScore', record) as ScopeScoreRecord;
    expect(back).toEqual(record);
  });

  it('maps a cluster scope and a scope without data to nulls', () => {
    const cluster = toScopeScoreRecord(scoreScope(input([running]), 'cluster'), 'prod', AT);
    expect([cluster.scopeType, cluster.namespace, cluster.workloadKind, cluster.workloadName]).toEqual([
      'cluster',
      null,
      null,
      null,
    ]);
    expect(roundTrip('ScopeScore', cluster)).toEqual(cluster);

    const empty = toScopeScoreRecord(scoreScope({}, 'namespace:empty'), 'prod', AT);
    expect(empty).toEqual({
      ts: AT,
      cluster: 'prod',
      scope: 'namespace:empty',
      scopeType: 'namespace',
      namespace: 'empty',
      workloadKind: null,
      workloadName: null,
      noData: true,
      overall: null,
      level: null,
      reliability: null,
      security: null,
      cost: null,
      architecture: null,
      efficiency: null,
      deductions: [],
    });
    expect(roundTrip('ScopeScore', empty)).toEqual(empty);
  });

  it('is deterministic: the same score gives the same bytes', () => {
    const score = scoreScope(input([crashing('api-x1'), running]), 'namespace:shop');
    const a = recordType('ScopeScore').toBuffer(toScopeScoreRecord(score, 'prod', AT));
    const b = recordType('ScopeScore').toBuffer(toScopeScoreRecord(structuredClone(score), 'prod', AT));
    expect(a.equals(b)).toBe(true);
  });
});

describe('ScoreChanged record', () => {
  it('carries the history entry with its causes and round-trips exactly', () => {
    const before = scoreScope(input([crashing('api-x1'), running]), 'namespace:shop');
    const after = scoreScope(input([crashing('api-x1'), crashing('api-x2'), running]), 'namespace:shop');
    const change = scoreChange(before, after, AT);
    const record = toScoreChangedRecord(change, 'prod');
    expect(record).toEqual({
      ts: AT,
      cluster: 'prod',
      scope: 'namespace:shop',
      overallFrom: change.overall.from,
      overallTo: change.overall.to,
      overallDelta: change.overall.delta,
      levelFrom: change.level.from,
      levelTo: change.level.to,
      dimensions: [
        {
          dimension: 'reliability',
          from: 90,
          to: 80,
          delta: -10,
          causes: [
            {
              at: AT,
              delta: -10,
              cause: 'pod shop/api-x2 entered crashloop',
              rule: 'crashloop-pods',
              entered: [{ kind: 'Pod', namespace: 'shop', name: 'api-x2' }],
              left: [],
            },
          ],
        },
      ],
    });
    expect(roundTrip('ScoreChanged', record) as ScoreChangedRecord).toEqual(record);
  });

  it('a first score (no previous) has null from-values and round-trips', () => {
    const record = toScoreChangedRecord(
      scoreChange(null, scoreScope(input([running]), 'cluster'), AT),
      'prod',
    );
    expect([record.overallFrom, record.overallDelta, record.levelFrom]).toEqual([null, null, null]);
    expect(record.dimensions.every((d) => d.from === null && d.delta === null)).toBe(true);
    expect(roundTrip('ScoreChanged', record)).toEqual(record);
  });
});
