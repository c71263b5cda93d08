import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  recordType,
  startEmbeddedRegistry,
} from '@hetu/schemas';
import type { RecordName, RecordTypes } from '@hetu/schemas';
import { describe, expect, it } from 'vitest';
import { toIncidentRecord } from '../incidents/record.ts';
import { IncidentsState } from '../incidents/state.ts';
import type { Incident, ResourceRef, Signal } from '../incidents/types.ts';
import { toRecommendationRecord } from '../recommendations/record.ts';
import { createRecommendationsState, observeHpa } from '../recommendations/state.ts';
import { scoreChange } from '../scoring/change.ts';
import { T0 as SCORE_T0, merge, pod, wellRunNamespace, workload } from '../scoring/fixtures.ts';
import { toScopeScoreRecord, toScoreChangedRecord } from '../scoring/record.ts';
import { scoreScope } from '../scoring/score.ts';
import { analyze } from './analyze.ts';
import { toRcaReportRecord } from './record.ts';
import type { RcaReportRecord } from './record.ts';
import type { MemorySample } from './types.ts';

const MIN = 60_000;
const MiB = 1_048_576;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const api: ResourceRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const apiPod: ResourceRef = { kind: 'Pod', namespace: 'shop', name: 'api-7d9f-x2' };

function kill(ts: number, offset: string): Signal {
  return {
    source: 'pod',
    key: 'oomkilled:shop/api-7d9f-x2',
    kind: 'oomkilled',
    severity: 'high',
    ts,
    resource: apiPod,
    workload: api,
    detail: { reason: 'OOMKilled', container: 'api', exitCode: 137 },
    evidence: [{ topic: 'hetu.raw.kube', partition: 0, offset, ts, excerpt: 'api-7d9f-x2 OOMKilled' }],
  };
}

/** Two OOM kills of one pod, folded by the real incidents fold. */
function oomIncident(): Incident {
  const state = new IncidentsState();
  state.apply(kill(T0 + 30 * MIN, '9223372036854775807'));
  state.apply(kill(T0 + 34 * MIN, '12'));
  const all = state.list();
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** Memory growing to the limit; the samples carry no log position. */
const memory: MemorySample[] = [300, 340, 380, 420, 460, 490].map((m, i) => ({
  pod: apiPod,
  workload: api,
  container: 'api',
  ts: T0 + i * 5 * MIN,
  usageBytes: m * MiB,
  limitBytes: 512 * MiB,
}));

describe('RcaReport record', () => {
  it('carries category, root cause, confidence, chain, evidence positions, remediation and blast radius', () => {
    const inc = oomIncident();
    const report = analyze(inc, { memory });
    const record = toRcaReportRecord(report, 'prod');
    expect({
      ts: record.ts,
      cluster: record.cluster,
      incidentId: record.incidentId,
      category: record.category,
      subtype: record.subtype,
      rootCause: record.rootCause,
      confidence: record.confidence,
      derivation: record.derivation,
      blastRadius: record.blastRadius,
    }).toEqual({
      ts: inc.updatedAt,
      cluster: 'prod',
      incidentId: inc.id,
      category: 'oom',
      subtype: 'leak',
      rootCause: { kind: 'Deployment', namespace: 'shop', name: 'api' },
      confidence: 0.9,
      derivation: [
        { factor: 'container OOMKilled', weight: 50 },
        { factor: 'memory grew steadily before the kill (+63 %)', weight: 15 },
        { factor: 'memory ≥ 90 % of the limit before the kill (peak 96 %)', weight: 20 },
        { factor: 'killed more than once', weight: 5 },
      ],
      blastRadius: { workloads: [api], pods: [apiPod], namespaces: ['shop'] },
    });
    expect(record.summary).toBe(report.summary);
    expect(record.chain).toEqual(report.chain);
    expect(record.remediation).toEqual(report.remediation);
    // Positions become exact int64; observations without one keep nulls.
    expect(record.evidence).toEqual(
      report.evidence.map((e) => ({ ...e, offset: e.offset === null ? null : BigInt(e.offset) })),
    );
    const offsets = record.evidence.map((e) => e.offset);
    expect(offsets).toContain(9223372036854775807n);
    expect(offsets).toContain(null);
    expect(
      record.evidence.filter((e) => e.offset === null).every((e) => e.topic === null && e.partition === null),
    ).toBe(true);

    const type = recordType('RcaReport');
    expect(type.isValid(record)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(record)) as RcaReportRecord).toEqual(record);
  });

  it('an unknown category (no pattern matched) round-trips with its null subtype', () => {
    const state = new IncidentsState();
    state.apply({ ...kill(T0, '5'), key: 'crashloop:shop/api-7d9f-x2', kind: 'crashloop', detail: {} });
    const record = toRcaReportRecord(analyze(state.list()[0]!), 'prod');
    expect([record.category, record.subtype, record.confidence]).toEqual(['unknown', null, 0.1]);
    const type = recordType('RcaReport');
    expect(type.isValid(record)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(record))).toEqual(record);
  });
});

describe('the five fact records through a schema registry', () => {
  it('registers each schema and encodes and decodes one value of each through the serde', async () => {
    const before = scoreScope(
      merge(wellRunNamespace('shop'), {
        workloads: [workload('shop', 'api')],
        pods: [pod('shop', 'a', 'api')],
      }),
      'namespace:shop',
    );
    const after = scoreScope(
      merge(wellRunNamespace('shop'), {
        workloads: [workload('shop', 'api')],
        pods: [pod('shop', 'a', 'api', ['crashloop'])],
      }),
      'namespace:shop',
    );
    const at = SCORE_T0 + 5 * MIN;
    const inc = oomIncident();
    const recs = createRecommendationsState();
    const hpaChange = observeHpa(
      recs,
      {
        namespace: 'shop',
        name: 'api',
        target: { kind: 'Deployment', name: 'api' },
        min: 1,
        max: 5,
        current: 5,
      },
      T0,
    ).changes[0];
    if (hpaChange?.type !== 'upsert')
      throw new Error('expected the HPA at its maximum to upsert a recommendation');

    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    try {
      const serde = createSerde(createRegistryClient({ url: registry.url }));
      const ids: number[] = [];
      const check = async <N extends RecordName>(
        topic: string,
        name: N,
        value: RecordTypes[N],
      ): Promise<void> => {
        const buf = await serde.encode(topic, name, value);
        expect(buf[0]).toBe(0);
        ids.push(buf.readInt32BE(1));
        expect(await serde.decode(buf, name)).toEqual(value);
      };
      await check('hetu.facts.scores', 'ScopeScore', toScopeScoreRecord(after, 'prod', at));
      await check(
        'hetu.facts.score-history',
        'ScoreChanged',
        toScoreChangedRecord(scoreChange(before, after, at), 'prod'),
      );
      await check('hetu.facts.incidents', 'Incident', toIncidentRecord(inc, 'prod'));
      await check('hetu.facts.rca', 'RcaReport', toRcaReportRecord(analyze(inc, { memory }), 'prod'));
      await check(
        'hetu.facts.recommendations',
        'Recommendation',
        toRecommendationRecord(hpaChange.recommendation, 'prod'),
      );
      expect(new Set(ids).size).toBe(5);
      const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
      expect(subjects.sort()).toEqual([
        'hetu.facts.incidents-value',
        'hetu.facts.rca-value',
        'hetu.facts.recommendations-value',
        'hetu.facts.score-history-value',
        'hetu.facts.scores-value',
      ]);
    } finally {
      await registry.close();
    }
  });
});
