import { recordType } from '@hetu/schemas';
import { describe, expect, it } from 'vitest';
import { incidentKey, toIncidentRecord } from './record.ts';
import type { IncidentRecord } from './record.ts';
import { IncidentsState } from './state.ts';
import type { Incident, ResourceRef, Signal } from './types.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const api: ResourceRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const apiPod: ResourceRef = { kind: 'Pod', namespace: 'shop', name: 'api-7d9f-x2' };

const crashloop: Signal = {
  source: 'pod',
  key: 'crashloop:shop/api-7d9f-x2',
  kind: 'crashloop',
  severity: 'high',
  ts: T0,
  resource: apiPod,
  workload: api,
  node: 'node-1',
  detail: { reason: 'CrashLoopBackOff', container: 'api', exitCode: 1 },
  evidence: [
    {
      topic: 'hetu.raw.kube',
      partition: 1,
      offset: '9223372036854775807',
      ts: T0,
      excerpt: 'api CrashLoopBackOff',
    },
  ],
};

const backOff: Signal = {
  source: 'event',
  key: 'BackOff:Pod/shop/api-7d9f-x2',
  kind: 'warning-event',
  severity: 'medium',
  ts: T0 + 2 * MIN,
  resource: apiPod,
  workload: api,
  detail: { reason: 'BackOff', message: 'Back-off restarting failed container api', eventCount: 7 },
  evidence: [
    {
      topic: 'hetu.raw.kube',
      partition: 1,
      offset: '42',
      ts: T0 + 2 * MIN,
      excerpt: 'BackOff: Back-off restarting failed container api',
    },
  ],
};

function incident(): { state: IncidentsState; incident: Incident } {
  const state = new IncidentsState();
  state.apply(crashloop);
  state.apply(backOff);
  const all = state.list();
  expect(all).toHaveLength(1);
  return { state, incident: all[0]! };
}

function roundTrip(value: IncidentRecord): unknown {
  const type = recordType('Incident');
  expect(type.isValid(value)).toBe(true);
  return type.fromBuffer(type.toBuffer(value));
}

describe('Incident record', () => {
  it('carries the incident with its signals, details and evidence positions, and round-trips exactly', () => {
    const { incident: inc } = incident();
    const record = toIncidentRecord(inc, 'prod');
    expect(incidentKey('prod', inc.id)).toBe(`prod/${inc.id}`);
    expect(record).toEqual({
      ts: T0 + 2 * MIN,
      cluster: 'prod',
      id: inc.id,
      title: inc.title,
      status: 'open',
      severity: 'high',
      openedAt: T0,
      lastSignalAt: T0 + 2 * MIN,
      updatedAt: T0 + 2 * MIN,
      resolvedAt: null,
      resolvedBy: null,
      statusChangedAt: null,
      workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'api' }],
      nodes: ['node-1'],
      failedNodes: [],
      namespaces: ['shop'],
      signals: [
        {
          source: 'pod',
          key: 'crashloop:shop/api-7d9f-x2',
          kind: 'crashloop',
          severity: 'high',
          firstSeen: T0,
          lastSeen: T0,
          count: 1n,
          cleared: false,
          clearedAt: null,
          resource: { kind: 'Pod', namespace: 'shop', name: 'api-7d9f-x2' },
          workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
          node: 'node-1',
          detail: {
            reason: 'CrashLoopBackOff',
            message: null,
            container: 'api',
            exitCode: 1,
            eventCount: null,
            errorGroupId: null,
            title: null,
            errorReason: null,
            metric: null,
            value: null,
            z: null,
            oldImage: null,
            newImage: null,
            revision: null,
          },
          evidence: [
            {
              topic: 'hetu.raw.kube',
              partition: 1,
              offset: 9223372036854775807n,
              ts: T0,
              excerpt: 'api CrashLoopBackOff',
            },
          ],
        },
        {
          source: 'event',
          key: 'BackOff:Pod/shop/api-7d9f-x2',
          kind: 'warning-event',
          severity: 'medium',
          firstSeen: T0 + 2 * MIN,
          lastSeen: T0 + 2 * MIN,
          count: 1n,
          cleared: true,
          clearedAt: T0 + 2 * MIN,
          resource: { kind: 'Pod', namespace: 'shop', name: 'api-7d9f-x2' },
          workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
          node: null,
          detail: {
            reason: 'BackOff',
            message: 'Back-off restarting failed container api',
            container: null,
            exitCode: null,
            eventCount: 7,
            errorGroupId: null,
            title: null,
            errorReason: null,
            metric: null,
            value: null,
            z: null,
            oldImage: null,
            newImage: null,
            revision: null,
          },
          evidence: [
            {
              topic: 'hetu.raw.kube',
              partition: 1,
              offset: 42n,
              ts: T0 + 2 * MIN,
              excerpt: 'BackOff: Back-off restarting failed container api',
            },
          ],
        },
      ],
      omittedSignals: 0,
    });
    expect(roundTrip(record)).toEqual(record);
  });

  it('a repeat counts as a bigint, and a user resolve sets resolvedAt, resolvedBy and statusChangedAt', () => {
    const { state, incident: inc } = incident();
    state.apply({
      ...crashloop,
      ts: T0 + 3 * MIN,
      evidence: [{ ...crashloop.evidence[0]!, offset: '43', ts: T0 + 3 * MIN }],
    });
    state.setStatus(inc.id, 'resolved', T0 + 20 * MIN);
    const record = toIncidentRecord(state.get(inc.id)!, 'prod');
    expect([record.status, record.resolvedAt, record.resolvedBy, record.statusChangedAt, record.ts]).toEqual([
      'resolved',
      T0 + 20 * MIN,
      'user',
      T0 + 20 * MIN,
      T0 + 20 * MIN,
    ]);
    expect(record.signals[0]?.count).toBe(2n);
    expect(record.signals[0]?.evidence.map((e) => e.offset)).toEqual([9223372036854775807n, 43n]);
    expect(roundTrip(record)).toEqual(record);
  });

  it('is deterministic: the same incident gives the same bytes', () => {
    const { incident: inc } = incident();
    const a = recordType('Incident').toBuffer(toIncidentRecord(inc, 'prod'));
    const b = recordType('Incident').toBuffer(toIncidentRecord(structuredClone(inc), 'prod'));
    expect(a.equals(b)).toBe(true);
  });
});
