import { recordType } from '@hetu/schemas';
import { describe, expect, it } from 'vitest';
import { recommendationKey, toRecommendationRecord } from './record.ts';
import type { RecommendationRecord } from './record.ts';
import {
  applyCommand,
  createRecommendationsState,
  evaluateNow,
  observeMetric,
  observeSpec,
} from './state.ts';
import type { RecommendationsState } from './state.ts';
import type { Recommendation, RecommendationChange, WorkloadRef } from './types.ts';

const T0 = Date.UTC(2026, 10, 26, 0, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const MIB = 1_048_576;
const API: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };

function upserts(changes: RecommendationChange[]): Recommendation[] {
  return changes.flatMap((c) => (c.type === 'upsert' ? [c.recommendation] : []));
}

/** An over-provisioned container with prices configured: a rightsizing recommendation with savings. */
function rightsizing(): { state: RecommendationsState; rec: Recommendation } {
  const state = createRecommendationsState({ prices: { cpuCoreHour: 0.04, memoryGiBHour: 0.005 } });
  observeSpec(
    state,
    API,
    'api',
    { cpuRequest: 1, memoryRequest: 1024 * MIB, cpuLimit: 2, memoryLimit: null, replicas: 3 },
    T0,
  );
  const labels = { namespace: 'shop', pod: 'api-1', container: 'api' };
  for (let ts = T0; ts <= T0 + HOUR; ts += MIN) {
    observeMetric(state, { name: 'cpu_usage_cores', labels, value: 0.101, ts }, API);
    observeMetric(state, { name: 'memory_working_set_bytes', labels, value: 100 * MIB, ts }, API);
  }
  const rec = upserts(evaluateNow(state).changes).at(-1);
  expect(rec).toBeDefined();
  return { state, rec: rec! };
}

function roundTrip(value: RecommendationRecord): unknown {
  const type = recordType('Recommendation');
  expect(type.isValid(value)).toBe(true);
  return type.fromBuffer(type.toBuffer(value));
}

describe('Recommendation record', () => {
  it('carries the patch, savings, status and evidence (figures sorted by name), and round-trips exactly', () => {
    const { rec } = rightsizing();
    const record = toRecommendationRecord(rec, 'prod');
    expect(recommendationKey('prod', rec.id)).toBe('prod/rightsizing:Deployment/shop/api/api');
    const names = Object.keys(rec.evidence.values).sort();
    expect(record).toEqual({
      ts: T0 + HOUR,
      cluster: 'prod',
      id: 'rightsizing:Deployment/shop/api/api',
      type: 'rightsizing',
      target: { kind: 'Deployment', namespace: 'shop', name: 'api', container: 'api' },
      severity: 'medium',
      title: 'Right-size container api of Deployment shop/api: CPU over-provisioned, memory over-provisioned',
      rationale: rec.rationale,
      patch:
        'spec:\n  template:\n    spec:\n      containers:\n        - name: api\n          resources:\n' +
        '            requests:\n              cpu: 150m\n              memory: 128Mi\n            limits:\n' +
        '              cpu: 200m\n              memory: 160Mi\n',
      command: 'kubectl patch deployment api -n shop --type strategic --patch-file patch.yaml',
      savings: { monthly: 84.04, cpuCores: 0.85, memoryBytes: 896 * MIB, replicas: 3, hoursPerMonth: 730 },
      status: 'open',
      statusChangedAt: null,
      createdAt: rec.createdAt,
      updatedAt: T0 + HOUR,
      closedAt: null,
      evidence: {
        from: T0,
        to: T0 + HOUR,
        samples: 122n,
        values: Object.fromEntries(names.map((n) => [n, rec.evidence.values[n]])),
      },
    });
    expect(Object.keys(record.evidence.values)).toEqual(names);
    expect(record.evidence.values['cpuSuggestedRequestMilli']).toBe(150);
    expect(roundTrip(record)).toEqual(record);
  });

  it('a status command and a node target (no namespace, container, patch or savings) round-trip', () => {
    const { state, rec } = rightsizing();
    const accepted = upserts(
      applyCommand(state, { recommendationId: rec.id, status: 'accepted', ts: T0 + 2 * HOUR }).changes,
    );
    const acceptedRecord = toRecommendationRecord(accepted[0]!, 'prod');
    expect([acceptedRecord.status, acceptedRecord.statusChangedAt]).toEqual(['accepted', T0 + 2 * HOUR]);
    expect(roundTrip(acceptedRecord)).toEqual(acceptedRecord);

    const s = createRecommendationsState();
    const node = upserts(
      observeMetric(s, { name: 'node_memory_utilisation', labels: { node: 'n1' }, value: 0.95, ts: T0 })
        .changes,
    );
    const record = toRecommendationRecord(node[0]!, 'prod');
    expect({
      id: record.id,
      type: record.type,
      target: record.target,
      patch: record.patch,
      savings: record.savings,
      severity: record.severity,
    }).toEqual({
      id: 'node-memory-pressure:Node//n1',
      type: 'node-memory-pressure',
      target: { kind: 'Node', namespace: null, name: 'n1', container: null },
      patch: null,
      savings: null,
      severity: 'high',
    });
    expect(roundTrip(record)).toEqual(record);
  });

  it('is deterministic: figures in any order give the same bytes', () => {
    const { rec } = rightsizing();
    const reversed: Recommendation = {
      ...rec,
      evidence: {
        ...rec.evidence,
        values: Object.fromEntries(Object.entries(rec.evidence.values).reverse()),
      },
    };
    const a = recordType('Recommendation').toBuffer(toRecommendationRecord(rec, 'prod'));
    const b = recordType('Recommendation').toBuffer(toRecommendationRecord(reversed, 'prod'));
    expect(a.equals(b)).toBe(true);
  });
});
