/**
 * Test fixtures of the LLM building blocks: one OOM incident folded by the real incidents fold,
 * its deterministic RCA, and an error group. Imported by tests only.
 */
import { IncidentsState } from '../incidents/state.ts';
import type { Incident, ResourceRef, Signal } from '../incidents/types.ts';
import { analyze } from '../rca/analyze.ts';
import type { MemorySample, RcaReport } from '../rca/types.ts';
import type { PromptErrorGroup } from './prompt.ts';

export const MIN = 60_000;
const MiB = 1_048_576;
/** 2026-11-26T08:00:00Z */
export const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
export const api: ResourceRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
export const apiPod: ResourceRef = { kind: 'Pod', namespace: 'shop', name: 'api-7d9f-x2' };

export function oomKill(ts: number, offset: string, excerpt = 'api-7d9f-x2 OOMKilled'): Signal {
  return {
    source: 'pod',
    key: 'oomkilled:shop/api-7d9f-x2',
    kind: 'oomkilled',
    severity: 'high',
    ts,
    resource: apiPod,
    workload: api,
    detail: { reason: 'OOMKilled', container: 'api', exitCode: 137 },
    evidence: [{ topic: 'hetu.raw.kube', partition: 0, offset, ts, excerpt }],
  };
}

export function warningEvent(ts: number, offset: string, message: string): Signal {
  return {
    source: 'event',
    key: 'BackOff:shop/api-7d9f-x2',
    kind: 'warning-event',
    severity: 'medium',
    ts,
    resource: apiPod,
    workload: api,
    detail: { reason: 'BackOff', message },
    evidence: [{ topic: 'hetu.raw.kube', partition: 1, offset, ts, excerpt: message }],
  };
}

/** Memory growing to the limit; the samples carry no log position. */
export const memory: MemorySample[] = [300, 340, 380, 420, 460, 490].map((m, i) => ({
  pod: apiPod,
  workload: api,
  container: 'api',
  ts: T0 + i * 5 * MIN,
  usageBytes: m * MiB,
  limitBytes: 512 * MiB,
}));

/** Folds `signals` with the real incidents fold; expects them to make one incident. */
export function foldIncident(signals: readonly Signal[]): Incident {
  const state = new IncidentsState();
  for (const s of signals) state.apply(s);
  const all = state.list();
  if (all.length !== 1) throw new Error(`expected one incident, got ${all.length}`);
  return all[0]!;
}

/** Two OOM kills and a BackOff event of one pod, and the deterministic RCA of them. */
export function oomIncident(eventMessage = 'Back-off restarting failed container api'): {
  incident: Incident;
  rca: RcaReport;
} {
  const incident = foldIncident([
    oomKill(T0 + 30 * MIN, '41'),
    warningEvent(T0 + 31 * MIN, '7', eventMessage),
    oomKill(T0 + 34 * MIN, '42'),
  ]);
  return { incident, rca: analyze(incident, { memory }) };
}

export function errorGroup(overrides: Partial<PromptErrorGroup> = {}): PromptErrorGroup {
  return {
    id: '5f0c3a9e1b2d4c6f',
    namespace: 'shop',
    workload: 'api',
    title: 'java.lang.OutOfMemoryError: Java heap space',
    reason: 'oom',
    level: 'error',
    status: 'open',
    exceptionType: 'java.lang.OutOfMemoryError',
    firstSeen: T0 + 20 * MIN,
    lastSeen: T0 + 33 * MIN,
    count: 12,
    count5m: 4,
    count1h: 12,
    count24h: 12,
    spike: true,
    regressed: false,
    bestSample: {
      ts: T0 + 29 * MIN,
      pod: 'api-7d9f-x2',
      container: 'api',
      level: 'error',
      exceptionType: 'java.lang.OutOfMemoryError',
      message: 'Java heap space',
      stack: 'java.lang.OutOfMemoryError: Java heap space\n\tat shop.Cache.put(Cache.java:42)',
      url: '/orders',
    },
    occurrences: [
      { ts: T0 + 20 * MIN, pod: 'api-7d9f-x1', container: 'api', level: 'error', message: 'Java heap space' },
      {
        ts: T0 + 29 * MIN,
        pod: 'api-7d9f-x2',
        container: 'api',
        level: 'error',
        message: 'Java heap space',
        url: '/orders',
      },
      { ts: T0 + 33 * MIN, pod: 'api-7d9f-x2', container: 'api', level: 'error', message: 'Java heap space' },
    ],
    ...overrides,
  };
}
