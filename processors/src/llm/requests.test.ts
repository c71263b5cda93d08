import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toIncidentRecord } from '../incidents/record.ts';
import {
  ERROR_GROUP_MIN_INTERVAL_MS,
  MAX_SIGNATURES_PER_INCIDENT,
  MAX_TRACKED_INCIDENTS,
  emptyTracker,
  errorGroupFailed,
  errorGroupTrigger,
  forgetIncident,
  incidentAnswered,
  incidentFailed,
  incidentSignature,
  shouldRequestErrorGroup,
  shouldRequestIncident,
  signatureBasis,
} from './requests.ts';
import type { RequestTrackerState, TriggerGroup } from './requests.ts';
import { MIN, T0, foldIncident, oomIncident, oomKill, warningEvent } from './test-fixtures.ts';

describe('incidentSignature', () => {
  it('hashes severity, RCA category and root cause, and the distinct kinds and resources of the signals', () => {
    const { incident, rca } = oomIncident();
    const basis =
      '[1,"high","oom","leak","Deployment/shop/api",["oomkilled Pod/shop/api-7d9f-x2","warning-event Pod/shop/api-7d9f-x2"]]';
    expect(signatureBasis(incident, rca)).toBe(basis);
    expect(incidentSignature(incident, rca)).toBe(
      'sig-' + createHash('sha256').update(basis).digest('hex').slice(0, 16),
    );
    expect(signatureBasis(incident, null)).toBe(
      '[1,"high","none",null,null,["oomkilled Pod/shop/api-7d9f-x2","warning-event Pod/shop/api-7d9f-x2"]]',
    );
  });

  it('does not change with times, counts, messages or the record form', () => {
    const { incident, rca } = oomIncident();
    const later = foldIncident([
      oomKill(T0 + 90 * MIN, '900'),
      warningEvent(T0 + 91 * MIN, '901', 'another message'),
      oomKill(T0 + 92 * MIN, '902'),
      oomKill(T0 + 93 * MIN, '903'),
    ]);
    expect(incidentSignature(later, rca)).toBe(incidentSignature(incident, rca));
    expect(incidentSignature(toIncidentRecord(incident, 'prod'), rca)).toBe(incidentSignature(incident, rca));
  });

  it('changes with a new kind of signal, the severity or the root cause', () => {
    const { incident, rca } = oomIncident();
    const base = incidentSignature(incident, rca);
    const onlyKills = foldIncident([oomKill(T0, '1')]);
    expect(incidentSignature(onlyKills, rca)).not.toBe(base);
    expect(incidentSignature({ ...incident, severity: 'critical' }, rca)).not.toBe(base);
    expect(
      incidentSignature(incident, { ...rca, rootCause: { kind: 'Node', namespace: '', name: 'n1' } }),
    ).not.toBe(base);
    expect(incidentSignature(incident, { ...rca, subtype: null })).not.toBe(base);
  });
});

describe('incident requests', () => {
  it('requests a new signature, never the same one twice', () => {
    let s = emptyTracker();
    const first = shouldRequestIncident(s, 'inc-1', 'sig-a');
    expect([first.decision, first.replaced]).toEqual(['request', null]);
    s = first.state;
    expect(s.incidents['inc-1']).toEqual({ sent: ['sig-a'], inFlight: 'sig-a', queued: null });
    expect(shouldRequestIncident(s, 'inc-1', 'sig-a')).toEqual({
      state: s,
      decision: 'duplicate',
      replaced: null,
    });
    s = incidentAnswered(s, 'inc-1', 'sig-a').state;
    expect(s.incidents['inc-1']).toEqual({ sent: ['sig-a'], inFlight: null, queued: null });
    expect(shouldRequestIncident(s, 'inc-1', 'sig-a').decision).toBe('duplicate');
    expect(shouldRequestIncident(s, 'inc-1', 'sig-b').decision).toBe('request');
  });

  it('keeps one call in flight per incident; a newer signature replaces the queued one', () => {
    let s = shouldRequestIncident(emptyTracker(), 'inc-1', 'sig-a').state;
    const b = shouldRequestIncident(s, 'inc-1', 'sig-b');
    expect([b.decision, b.replaced]).toEqual(['queued', null]);
    const c = shouldRequestIncident(b.state, 'inc-1', 'sig-c');
    expect([c.decision, c.replaced]).toEqual(['queued', 'sig-b']);
    expect(shouldRequestIncident(c.state, 'inc-1', 'sig-c').decision).toBe('duplicate');
    s = c.state;
    expect(s.incidents['inc-1']).toEqual({ sent: ['sig-a'], inFlight: 'sig-a', queued: 'sig-c' });
    // Other incidents are independent.
    expect(shouldRequestIncident(s, 'inc-2', 'sig-a').decision).toBe('request');
    const done = incidentAnswered(s, 'inc-1', 'sig-a');
    expect(done.next).toBe('sig-c');
    expect(done.state.incidents['inc-1']).toEqual({
      sent: ['sig-a', 'sig-c'],
      inFlight: 'sig-c',
      queued: null,
    });
    const last = incidentAnswered(done.state, 'inc-1', 'sig-c');
    expect(last.next).toBeNull();
    expect(last.state.incidents['inc-1']).toEqual({ sent: ['sig-a', 'sig-c'], inFlight: null, queued: null });
    // sig-b was never sent: it may be requested later.
    expect(shouldRequestIncident(last.state, 'inc-1', 'sig-b').decision).toBe('request');
  });

  it('a failure after sending keeps the signature; a failure before sending forgets it', () => {
    const s = shouldRequestIncident(emptyTracker(), 'inc-1', 'sig-a').state;
    const sent = incidentFailed(s, 'inc-1', 'sig-a', { sent: true });
    expect(sent.state.incidents['inc-1']).toEqual({ sent: ['sig-a'], inFlight: null, queued: null });
    expect(shouldRequestIncident(sent.state, 'inc-1', 'sig-a').decision).toBe('duplicate');
    const refused = incidentFailed(s, 'inc-1', 'sig-a', { sent: false });
    expect(refused.state.incidents['inc-1']).toEqual({ sent: [], inFlight: null, queued: null });
    expect(shouldRequestIncident(refused.state, 'inc-1', 'sig-a').decision).toBe('request');
  });

  it('a failure promotes the queued signature too', () => {
    let s = shouldRequestIncident(emptyTracker(), 'inc-1', 'sig-a').state;
    s = shouldRequestIncident(s, 'inc-1', 'sig-b').state;
    const r = incidentFailed(s, 'inc-1', 'sig-a', { sent: false });
    expect(r.next).toBe('sig-b');
    expect(r.state.incidents['inc-1']).toEqual({ sent: ['sig-b'], inFlight: 'sig-b', queued: null });
  });

  it('ignores a settlement for a signature that is not in flight (a replayed or stale record)', () => {
    const s = shouldRequestIncident(emptyTracker(), 'inc-1', 'sig-a').state;
    expect(incidentAnswered(s, 'inc-1', 'sig-x')).toEqual({ state: s, next: null });
    expect(incidentAnswered(s, 'inc-9', 'sig-a')).toEqual({ state: s, next: null });
  });

  it('forgets a deleted incident', () => {
    const s = shouldRequestIncident(emptyTracker(), 'inc-1', 'sig-a').state;
    expect(forgetIncident(s, 'inc-1')).toEqual(emptyTracker());
    expect(forgetIncident(s, 'inc-2')).toBe(s);
  });

  it('is bounded: signatures per incident and incidents tracked (least recently touched go)', () => {
    let s: RequestTrackerState = emptyTracker();
    for (let i = 0; i < MAX_SIGNATURES_PER_INCIDENT + 5; i++) {
      s = shouldRequestIncident(s, 'inc-1', `sig-${i}`).state;
      s = incidentAnswered(s, 'inc-1', `sig-${i}`).state;
    }
    const sent = s.incidents['inc-1']!.sent;
    expect(sent.length).toBe(MAX_SIGNATURES_PER_INCIDENT);
    expect(sent[0]).toBe('sig-5');
    for (let i = 0; i < MAX_TRACKED_INCIDENTS; i++) s = shouldRequestIncident(s, `inc-x${i}`, 'sig').state;
    expect(Object.keys(s.incidents).length).toBe(MAX_TRACKED_INCIDENTS);
    expect(s.incidents['inc-1']).toBeUndefined();
    expect(Object.keys(s.incidents)[0]).toBe('inc-x0');
  });

  it('is plain JSON (a changelog can hold it)', () => {
    let s = shouldRequestIncident(emptyTracker(), 'inc-1', 'sig-a').state;
    s = shouldRequestErrorGroup(s, 'g1', T0).state;
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('errorGroupTrigger', () => {
  const g = (over: Partial<TriggerGroup> = {}): TriggerGroup => ({
    level: 'error',
    status: 'open',
    spike: false,
    regressed: false,
    mergedInto: null,
    ...over,
  });

  it.each([
    ['a new error group', null, g(), 'new'],
    ['a new fatal group', null, g({ level: 'fatal' }), 'new'],
    ['a new warning group', null, g({ level: 'warn' }), null],
    ['a warning group raised to error', g({ level: 'warn' }), g({ level: 'error' }), 'new'],
    ['a group starting to spike', g(), g({ spike: true }), 'spike'],
    ['a group still spiking', g({ spike: true }), g({ spike: true }), null],
    ['a group that regressed', g({ status: 'resolved' }), g({ regressed: true }), 'regressed'],
    ['a regression that also spikes', g(), g({ regressed: true, spike: true }), 'regressed'],
    ['an ignored group spiking', g({ status: 'ignored' }), g({ status: 'ignored', spike: true }), null],
    ['a merged-away group', null, g({ mergedInto: 'other' }), null],
    ['a count update', g(), g(), null],
  ] as const)('%s → %s', (_name, previous, next, expected) => {
    expect(errorGroupTrigger(previous, next)).toBe(expected);
  });
});

describe('error-group requests', () => {
  it('allows one request per group per 10 minutes of event time', () => {
    let s = emptyTracker();
    const first = shouldRequestErrorGroup(s, 'g1', T0);
    expect([first.allowed, first.nextAllowedAt]).toEqual([true, null]);
    s = first.state;
    expect(shouldRequestErrorGroup(s, 'g1', T0 + ERROR_GROUP_MIN_INTERVAL_MS - 1)).toEqual({
      state: s,
      allowed: false,
      nextAllowedAt: T0 + 10 * MIN,
    });
    expect(shouldRequestErrorGroup(s, 'g2', T0 + 1).allowed).toBe(true);
    const again = shouldRequestErrorGroup(s, 'g1', T0 + 10 * MIN);
    expect(again.allowed).toBe(true);
    expect(again.state.groups).toEqual({ g1: T0 + 10 * MIN });
  });

  it('forgets groups whose interval has passed', () => {
    let s = shouldRequestErrorGroup(emptyTracker(), 'g1', T0).state;
    s = shouldRequestErrorGroup(s, 'g2', T0 + 5 * MIN).state;
    s = shouldRequestErrorGroup(s, 'g3', T0 + 12 * MIN).state;
    expect(s.groups).toEqual({ g2: T0 + 5 * MIN, g3: T0 + 12 * MIN });
  });

  it('a failure before sending frees the group at once; after sending it does not', () => {
    const s = shouldRequestErrorGroup(emptyTracker(), 'g1', T0).state;
    expect(errorGroupFailed(s, 'g1', T0, { sent: true })).toBe(s);
    const freed = errorGroupFailed(s, 'g1', T0, { sent: false });
    expect(freed.groups).toEqual({});
    expect(shouldRequestErrorGroup(freed, 'g1', T0 + 1).allowed).toBe(true);
    // A failure of an older request does not free a newer one.
    expect(errorGroupFailed(s, 'g1', T0 - 1, { sent: false })).toBe(s);
  });
});
