import { fnv1a64 } from '../incidents/hash.ts';
import { cmpString as cmp, severityRank, workloadKey } from '../incidents/state.ts';
import type { EvidenceRef, Incident, IncidentSignal, ResourceRef } from '../incidents/types.ts';
import {
  CONFIG_ERROR,
  CONNECTIVITY,
  IMAGE_IN_MESSAGE,
  IMAGE_PULL_REASONS,
  MISSING_KEY,
  MISSING_OBJECT,
  PROBE_KIND,
  PULL_AMBIGUOUS,
  PULL_NOT_FOUND,
  PULL_UNAUTHORISED,
  SCHEDULING_REASONS,
  titleCaseKind,
} from './patterns.ts';
import { remediationFor } from './remediation.ts';
import type {
  BlastRadius,
  ChainStep,
  ConfidenceFactor,
  EventContext,
  MemorySample,
  RcaCategory,
  RcaContext,
  RcaEvidence,
  RcaReport,
  RolloutContext,
} from './types.ts';

const MIN = 60_000;

export interface RcaThresholds {
  /** bad-rollout: failures began at most this long after the new revision (inclusive). */
  readonly rolloutWindowMs: number;
  /** image-pull: a rollout this recent is named as having changed the image. */
  readonly rolloutLookbackMs: number;
  /** oom: memory samples at most this long before the kill are read. */
  readonly oomLookbackMs: number;
  /** oom: peak working set ÷ limit at least this is "near the limit". */
  readonly memoryNearLimit: number;
  /** oom: last ÷ first sample before the kill at least this is "growth". */
  readonly memoryGrowth: number;
  /** oom before any kill: growing memory whose last sample ÷ limit is at least this is a leak. */
  readonly memoryLeakWarn: number;
  /** bad-config: an error group first seen within this of the first crash is "at start". */
  readonly startWindowMs: number;
  /** cpu-saturation: usage ÷ limit at least this is "at the limit". */
  readonly cpuAtLimit: number;
  /** cpu-saturation: throttled share of periods at least this is "throttled". */
  readonly throttled: number;
}

export const DEFAULT_RCA_THRESHOLDS: RcaThresholds = Object.freeze({
  rolloutWindowMs: 10 * MIN,
  rolloutLookbackMs: 30 * MIN,
  oomLookbackMs: 30 * MIN,
  memoryNearLimit: 0.9,
  memoryGrowth: 1.2,
  memoryLeakWarn: 0.8,
  startWindowMs: 5 * MIN,
  cpuAtLimit: 0.9,
  throttled: 0.25,
});

// ---------------------------------------------------------------------------------------------
// Evidence book

class Book {
  private readonly items = new Map<string, RcaEvidence>();

  add(type: string, ts: number, excerpt: string, pos?: EvidenceRef): string {
    const basis =
      pos === undefined
        ? type + '\n' + String(ts) + '\n' + excerpt
        : type + '\n' + pos.topic + '\n' + String(pos.partition) + '\n' + pos.offset;
    const id = 'ev-' + fnv1a64(basis).slice(0, 12);
    if (!this.items.has(id))
      this.items.set(id, {
        id,
        type,
        ts,
        excerpt: cut(excerpt, 300),
        topic: pos?.topic ?? null,
        partition: pos?.partition ?? null,
        offset: pos?.offset ?? null,
      });
    return id;
  }

  ref(type: string, ts: number, excerpt: string, pos: EvidenceRef | undefined): string {
    return pos === undefined
      ? this.add(type, ts, excerpt)
      : this.add(type, pos.ts, pos.excerpt || excerpt, pos);
  }

  signal(s: IncidentSignal): string[] {
    const type = s.source + ':' + s.kind;
    if (s.evidence.length === 0) return [this.add(type, s.lastSeen, describe(s))];
    return s.evidence.map((e) => this.add(type, e.ts, e.excerpt || describe(s), e));
  }

  list(): RcaEvidence[] {
    // By time, then by what the evidence says, and only then by its id (which hashes its log
    // position): positions of equal-time records may differ between runs of the same input (a
    // broker restart, another interleaving of tasks writing one partition); their content does not.
    return [...this.items.values()].sort(
      (a, b) => a.ts - b.ts || cmp(a.type, b.type) || cmp(a.excerpt, b.excerpt) || cmp(a.id, b.id),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function cut(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

function iso(ts: number): string {
  return new Date(ts).toISOString();
}

function refText(r: ResourceRef): string {
  return r.kind + ' ' + (r.namespace === '' ? r.name : r.namespace + '/' + r.name);
}

function same(a: ResourceRef | null | undefined, b: ResourceRef): boolean {
  return a !== null && a !== undefined && workloadKey(a) === workloadKey(b);
}

function describe(s: IncidentSignal): string {
  const d = s.detail;
  const parts = [d.reason, d.message, d.title, d.metric].filter(
    (x): x is string => x !== undefined && x !== '',
  );
  return s.kind + ' ' + refText(s.resource) + (parts.length > 0 ? ': ' + parts.join(' — ') : '');
}

function textOf(s: IncidentSignal): string {
  const d = s.detail;
  return [d.reason, d.message, d.title, d.errorReason].filter((x) => x !== undefined).join(' ');
}

function mins(ms: number): string {
  const m = Math.round(ms / 6_000) / 10;
  return String(m) + ' min';
}

function pct(x: number): string {
  return String(Math.round(x * 100)) + ' %';
}

function mib(bytes: number): string {
  return String(Math.round(bytes / 1_048_576)) + ' MiB';
}

const byRef = (a: ResourceRef, b: ResourceRef): number => {
  const x = workloadKey(a);
  const y = workloadKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function uniqRefs(list: readonly ResourceRef[]): ResourceRef[] {
  const m = new Map<string, ResourceRef>();
  for (const r of list) m.set(workloadKey(r), { kind: r.kind, namespace: r.namespace, name: r.name });
  return [...m.values()].sort(byRef);
}

interface Finding {
  category: RcaCategory;
  subtype: string | null;
  rootCause: ResourceRef;
  summary: string;
  factors: ConfidenceFactor[];
  chain: ChainStep[];
  /** Replacements for the remediation templates. */
  image?: string;
  oldImage?: string | null;
  extraPods?: ResourceRef[];
  extraWorkloads?: ResourceRef[];
}

class View {
  readonly failures: IncidentSignal[];
  readonly rolloutSignals: IncidentSignal[];
  readonly incident: Incident;
  readonly ctx: RcaContext;
  readonly t: RcaThresholds;
  readonly book: Book;
  constructor(incident: Incident, ctx: RcaContext, t: RcaThresholds, book: Book) {
    this.incident = incident;
    this.ctx = ctx;
    this.t = t;
    this.book = book;
    this.failures = incident.signals.filter((s) => s.source !== 'rollout');
    this.rolloutSignals = incident.signals.filter((s) => s.source === 'rollout');
  }

  of(w: ResourceRef): IncidentSignal[] {
    return this.failures.filter((s) => same(s.workload, w));
  }

  failureStart(w: ResourceRef): number | null {
    let t: number | null = null;
    for (const s of this.of(w)) if (t === null || s.firstSeen < t) t = s.firstSeen;
    return t;
  }

  rollouts(w: ResourceRef): RolloutContext[] {
    const out = new Map<string, RolloutContext>();
    for (const s of this.rolloutSignals) {
      if (!same(s.workload, w) || s.detail.newImage === undefined) continue;
      const ev = s.evidence[0];
      out.set(String(s.firstSeen) + '\n' + s.detail.newImage, {
        workload: s.workload as ResourceRef,
        ts: s.firstSeen,
        oldImage: s.detail.oldImage ?? null,
        newImage: s.detail.newImage,
        ...(s.detail.revision === undefined ? {} : { revision: s.detail.revision }),
        ...(ev === undefined ? {} : { evidence: ev }),
      });
    }
    for (const r of this.ctx.rollouts ?? []) {
      const k = String(r.ts) + '\n' + r.newImage;
      if (same(r.workload, w) && !out.has(k)) out.set(k, r);
    }
    return [...out.values()].sort((a, b) => a.ts - b.ts);
  }

  events(
    w: ResourceRef,
    reasons: ReadonlySet<string>,
  ): Array<{ ev: EventContext | null; sig: IncidentSignal | null }> {
    const out: Array<{ ev: EventContext | null; sig: IncidentSignal | null }> = [];
    for (const s of this.of(w))
      if (s.source === 'event' && reasons.has(s.detail.reason ?? '')) out.push({ ev: null, sig: s });
    for (const e of this.ctx.events ?? [])
      if ((same(e.workload, w) || same(e.involved, w)) && reasons.has(e.reason))
        out.push({ ev: e, sig: null });
    return out;
  }

  eventIds(items: ReadonlyArray<{ ev: EventContext | null; sig: IncidentSignal | null }>): string[] {
    const ids: string[] = [];
    for (const it of items) {
      if (it.sig !== null) ids.push(...this.book.signal(it.sig));
      else if (it.ev !== null)
        ids.push(
          this.book.ref(
            'event:' + it.ev.reason,
            it.ev.ts,
            it.ev.reason + ': ' + it.ev.message,
            it.ev.evidence,
          ),
        );
    }
    return uniq(ids);
  }

  unhealthy(w: ResourceRef): { yes: boolean; why: string[]; ids: string[]; since: number | null } {
    const active = this.of(w).filter((s) => !s.cleared && s.source !== 'error-group');
    const health = (this.ctx.workloadHealth ?? []).find((h) => same(h.workload, w));
    const ids: string[] = [];
    const why: string[] = [];
    let since: number | null = null;
    for (const s of active) {
      ids.push(...this.book.signal(s));
      why.push(s.kind);
      if (since === null || s.firstSeen < since) since = s.firstSeen;
    }
    if (health !== undefined && !health.healthy) {
      ids.push(
        this.book.ref(
          'health',
          health.since ?? 0,
          refText(w) + ' unhealthy: ' + health.reasons.join(', '),
          health.evidence,
        ),
      );
      why.push(...health.reasons);
      if (health.since !== undefined && (since === null || health.since < since)) since = health.since;
    }
    return {
      yes: active.length > 0 || (health !== undefined && !health.healthy),
      why: uniq(why),
      ids: uniq(ids),
      since,
    };
  }

  connectivity(w: ResourceRef): { ids: string[]; start: number | null; sample: string | null } {
    const ids: string[] = [];
    let start: number | null = null;
    let sample: string | null = null;
    const note = (ts: number, text: string): void => {
      if (start === null || ts < start) start = ts;
      if (sample === null) sample = text;
    };
    for (const s of this.of(w)) {
      if (s.source !== 'error-group' && s.source !== 'pod' && s.source !== 'event') continue;
      const text = textOf(s);
      if (s.detail.errorReason === 'timeout' || CONNECTIVITY.test(text)) {
        ids.push(...this.book.signal(s));
        note(s.firstSeen, s.detail.title ?? s.detail.message ?? text);
      }
    }
    for (const g of this.ctx.errorGroups ?? []) {
      if (!same(g.workload, w)) continue;
      const text = g.title + ' ' + (g.message ?? '');
      if (g.reason === 'timeout' || CONNECTIVITY.test(text)) {
        ids.push(this.book.ref('error-group', g.firstSeen, g.title, g.evidence));
        note(g.firstSeen, g.title);
      }
    }
    for (const p of this.ctx.podReasons ?? []) {
      if (!same(p.workload, w) || p.message === undefined || !CONNECTIVITY.test(p.message)) continue;
      ids.push(this.book.ref('pod-reason', p.ts, p.reason + ': ' + p.message, p.evidence));
      note(p.ts, p.message);
    }
    return { ids: uniq(ids), start, sample };
  }

  callees(w: ResourceRef): ResourceRef[] {
    return uniqRefs((this.ctx.calls ?? []).filter((c) => same(c.from, w)).map((c) => c.to));
  }
}

function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

// ---------------------------------------------------------------------------------------------
// Detectors

function nodeFailure(v: View): Finding | null {
  const nodeSignals = v.failures
    .filter((s) => s.source === 'node' || s.resource.kind === 'Node')
    .sort((a, b) => a.firstSeen - b.firstSeen || (a.key < b.key ? -1 : 1));
  const first = nodeSignals[0];
  if (first === undefined) return null;
  const node = first.node ?? first.resource.name;
  const ofNode = nodeSignals.filter((s) => (s.node ?? s.resource.name) === node);
  const notReady = ofNode.find((s) => s.kind === 'node-not-ready' || /NotReady/i.test(s.detail.reason ?? ''));
  const main = notReady ?? first;
  const condition = notReady !== undefined ? 'NotReady' : (main.detail.reason ?? 'under pressure');
  const nodeStart = Math.min(...ofNode.map((s) => s.firstSeen));
  const podSignals = v.failures.filter(
    (s) => s.node === node && s.source !== 'node' && s.resource.kind !== 'Node',
  );
  const ctxPods = (v.ctx.nodePods ?? []).filter((n) => n.node === node).flatMap((n) => n.pods);
  const pods = uniqRefs([
    ...podSignals.filter((s) => s.resource.kind === 'Pod').map((s) => s.resource),
    ...ctxPods.map((p) => p.pod),
  ]);
  const workloads = uniqRefs([
    ...podSignals.flatMap((s) => (s.workload === null ? [] : [s.workload])),
    ...ctxPods.map((p) => p.workload),
  ]);
  const factors: ConfidenceFactor[] = [
    notReady !== undefined
      ? { factor: 'node NotReady', weight: 50 }
      : { factor: 'node under ' + condition, weight: 40 },
  ];
  const chain: ChainStep[] = [
    {
      step: 'Node ' + node + ' became ' + condition + ' at ' + iso(nodeStart),
      evidence: uniq(ofNode.flatMap((s) => v.book.signal(s))),
    },
  ];
  if (podSignals.length > 0) {
    factors.push({ factor: 'pods on the node failed', weight: 25 });
    const podStart = Math.min(...podSignals.map((s) => s.firstSeen));
    if (podStart >= nodeStart)
      factors.push({ factor: 'pod failures began after the node condition', weight: 10 });
    chain.push({
      step:
        String(pods.length) +
        ' pod(s) of ' +
        String(workloads.length) +
        ' workload(s) on the node failed (' +
        uniq(podSignals.map((s) => s.kind)).join(', ') +
        ')',
      evidence: uniq(podSignals.flatMap((s) => v.book.signal(s))),
    });
  }
  const subtype =
    notReady !== undefined ? 'not-ready' : condition.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return {
    category: 'node-failure',
    subtype,
    rootCause: { kind: 'Node', namespace: '', name: node },
    summary:
      'Node ' +
      node +
      ' became ' +
      condition +
      ' at ' +
      iso(nodeStart) +
      (pods.length > 0
        ? ', taking down ' + String(pods.length) + ' pod(s) of ' + workloads.map(refText).join(', ') + '.'
        : '.'),
    factors,
    chain,
    extraPods: pods,
    extraWorkloads: workloads,
  };
}

function imagePull(v: View, w: ResourceRef): Finding | null {
  const sigs = v
    .of(w)
    .filter(
      (s) =>
        s.kind === 'imagepull' ||
        (s.kind === 'init-failure' && IMAGE_PULL_REASONS.has(s.detail.reason ?? '')) ||
        (s.source === 'event' &&
          /pull/i.test(textOf(s)) &&
          /Failed|BackOff|ErrImagePull/.test(s.detail.reason ?? '')),
    );
  const reasons = (v.ctx.podReasons ?? []).filter(
    (p) => same(p.workload, w) && IMAGE_PULL_REASONS.has(p.reason),
  );
  const events = v
    .events(w, new Set(['Failed', 'BackOff', 'ErrImagePull']))
    .filter((e) => e.ev !== null && /pull/i.test(e.ev.message));
  if (sigs.length + reasons.length + events.length === 0) return null;
  const ids = uniq([
    ...sigs.flatMap((s) => v.book.signal(s)),
    ...reasons.map((p) => v.book.ref('pod-reason', p.ts, p.reason + ': ' + (p.message ?? ''), p.evidence)),
    ...v.eventIds(events),
  ]);
  const messages = [
    ...sigs.map(textOf),
    ...reasons.map((p) => p.message ?? ''),
    ...events.map((e) => e.ev?.message ?? ''),
  ].join('\n');
  const subtype = PULL_AMBIGUOUS.test(messages)
    ? 'not-found-or-unauthorised'
    : PULL_UNAUTHORISED.test(messages)
      ? 'unauthorised'
      : PULL_NOT_FOUND.test(messages)
        ? 'not-found'
        : null;
  const start = Math.min(
    ...sigs.map((s) => s.firstSeen),
    ...reasons.map((p) => p.ts),
    ...events.map((e) => e.ev?.ts ?? Infinity),
  );
  const rollout = v
    .rollouts(w)
    .filter((r) => r.ts <= start && start - r.ts <= v.t.rolloutLookbackMs)
    .at(-1);
  const image = IMAGE_IN_MESSAGE.exec(messages)?.[1] ?? rollout?.newImage ?? 'the image';
  const factors: ConfidenceFactor[] = [
    { factor: 'image pull failing (ErrImagePull/ImagePullBackOff)', weight: 50 },
  ];
  if (subtype === 'unauthorised') factors.push({ factor: 'registry refused the credentials', weight: 25 });
  else if (subtype === 'not-found')
    factors.push({ factor: 'registry reports the image not found', weight: 25 });
  else if (subtype !== null)
    factors.push({ factor: 'registry answer ambiguous (not found or unauthorised)', weight: 10 });
  const chain: ChainStep[] = [];
  if (rollout !== undefined) {
    factors.push({ factor: 'a rollout changed the image just before', weight: 10 });
    chain.push({
      step: 'Rollout of ' + refText(rollout.workload) + ' to ' + rollout.newImage + ' at ' + iso(rollout.ts),
      evidence: [
        v.book.ref(
          'rollout',
          rollout.ts,
          (rollout.oldImage ?? '?') + ' → ' + rollout.newImage,
          rollout.evidence,
        ),
      ],
    });
  }
  const why =
    subtype === 'unauthorised'
      ? 'the registry refused the pull credentials'
      : subtype === 'not-found'
        ? 'the registry reports it does not exist'
        : subtype === 'not-found-or-unauthorised'
          ? 'the registry says it does not exist or needs credentials'
          : 'the pull keeps failing';
  chain.push({ step: 'Pods cannot pull ' + image + ': ' + why, evidence: ids });
  return {
    category: 'image-pull',
    subtype,
    rootCause: w,
    summary: 'Pods of ' + refText(w) + ' cannot pull image ' + image + ': ' + why + '.',
    factors,
    chain,
    image,
    oldImage: rollout?.oldImage ?? null,
  };
}

function unschedulable(v: View, w: ResourceRef): Finding | null {
  const events = v.events(w, new Set(['FailedScheduling']));
  const pending = v
    .of(w)
    .filter(
      (s) =>
        s.kind === 'pending' &&
        (s.detail.reason === 'Unschedulable' || /nodes are available/i.test(s.detail.message ?? '')),
    );
  const reasons = (v.ctx.podReasons ?? []).filter((p) => same(p.workload, w) && p.reason === 'Unschedulable');
  if (events.length + pending.length + reasons.length === 0) return null;
  const messages = [
    ...events.map((e) => (e.sig !== null ? textOf(e.sig) : (e.ev?.message ?? ''))),
    ...pending.map((s) => s.detail.message ?? ''),
    ...reasons.map((p) => p.message ?? ''),
  ].filter((m) => m !== '');
  const message = messages[0] ?? 'Unschedulable';
  const all = messages.join('\n');
  const subtype = SCHEDULING_REASONS.find(([, re]) => re.test(all))?.[0] ?? 'other';
  const pvc = /persistentvolumeclaim "([^"]+)"/i.exec(all)?.[1];
  const root: ResourceRef =
    subtype === 'unbound-pvc' && pvc !== undefined
      ? { kind: 'PersistentVolumeClaim', namespace: w.namespace, name: pvc }
      : w;
  const ids = uniq([
    ...v.eventIds(events),
    ...pending.flatMap((s) => v.book.signal(s)),
    ...reasons.map((p) => v.book.ref('pod-reason', p.ts, p.reason + ': ' + (p.message ?? ''), p.evidence)),
  ]);
  const factors: ConfidenceFactor[] = [
    events.length > 0 || reasons.length > 0
      ? { factor: 'scheduler reports FailedScheduling', weight: 45 }
      : { factor: 'pod pending as Unschedulable', weight: 35 },
    subtype === 'other'
      ? { factor: 'scheduler reason not recognised', weight: 10 }
      : { factor: 'scheduler reason: ' + subtype, weight: 30 },
  ];
  if (v.of(w).some((s) => s.kind === 'pending')) factors.push({ factor: 'pod pending ≥ 5 min', weight: 10 });
  return {
    category: 'unschedulable',
    subtype,
    rootCause: root,
    summary: 'Pods of ' + refText(w) + ' cannot be scheduled (' + subtype + '): ' + cut(message, 160),
    factors,
    chain: [{ step: 'The scheduler finds no node: ' + cut(message, 200), evidence: ids }],
  };
}

function volumeMount(v: View, w: ResourceRef): Finding | null {
  const events = v.events(w, new Set(['FailedMount', 'FailedAttachVolume']));
  if (events.length === 0) return null;
  const messages = events.map((e) => (e.sig !== null ? textOf(e.sig) : (e.ev?.message ?? ''))).join('\n');
  const missing = MISSING_OBJECT.exec(messages);
  const root: ResourceRef =
    missing !== null
      ? { kind: titleCaseKind(missing[1] as string), namespace: w.namespace, name: missing[2] as string }
      : w;
  const subtype =
    missing !== null
      ? 'missing-' + (missing[1] as string).toLowerCase().replace('persistentvolumeclaim', 'pvc')
      : /Multi-Attach/i.test(messages)
        ? 'multi-attach'
        : 'mount-failed';
  const factors: ConfidenceFactor[] = [{ factor: 'FailedMount/FailedAttachVolume events', weight: 50 }];
  if (missing !== null) factors.push({ factor: 'the message names the missing ' + root.kind, weight: 25 });
  else if (subtype === 'multi-attach')
    factors.push({ factor: 'volume already attached elsewhere (Multi-Attach)', weight: 25 });
  const stuck = (v.ctx.podReasons ?? []).filter(
    (p) => same(p.workload, w) && p.reason === 'ContainerCreating',
  );
  const pend = v.of(w).filter((s) => s.kind === 'pending');
  if (stuck.length + pend.length > 0) factors.push({ factor: 'pods stuck before start', weight: 10 });
  const first = cut(messages.split('\n')[0] ?? '', 200);
  return {
    category: 'volume-mount',
    subtype,
    rootCause: root,
    summary:
      'Pods of ' +
      refText(w) +
      ' cannot mount their volumes' +
      (missing !== null ? ': ' + refText(root) + ' not found.' : ': ' + first),
    factors,
    chain: [
      { step: 'The kubelet cannot mount a volume: ' + first, evidence: v.eventIds(events) },
      ...(stuck.length + pend.length > 0
        ? [
            {
              step: 'Pods stay in ContainerCreating/Pending',
              evidence: uniq([
                ...stuck.map((p) => v.book.ref('pod-reason', p.ts, p.reason, p.evidence)),
                ...pend.flatMap((s) => v.book.signal(s)),
              ]),
            },
          ]
        : []),
    ],
  };
}

function badRollout(v: View, w: ResourceRef): Finding | null {
  const start = v.failureStart(w);
  if (start === null) return null;
  const rollout = v
    .rollouts(w)
    .filter((r) => r.ts <= start && start - r.ts <= v.t.rolloutWindowMs)
    .at(-1);
  if (rollout === undefined) return null;
  const lag = start - rollout.ts;
  const factors: ConfidenceFactor[] = [
    {
      factor: 'failures began ' + mins(lag) + ' after the new revision (≤ ' + mins(v.t.rolloutWindowMs) + ')',
      weight: 45,
    },
  ];
  if (rollout.oldImage !== null && rollout.oldImage !== rollout.newImage)
    factors.push({ factor: 'image changed ' + rollout.oldImage + ' → ' + rollout.newImage, weight: 15 });
  const groups = (v.ctx.errorGroups ?? []).filter((g) => same(g.workload, w));
  const before =
    groups.some((g) => g.firstSeen < rollout.ts) ||
    (v.ctx.podReasons ?? []).some((p) => same(p.workload, w) && p.ts < rollout.ts);
  if (!before) factors.push({ factor: 'no failure of the workload before the rollout', weight: 15 });
  const fresh = groups.filter((g) => g.firstSeen >= rollout.ts);
  if (fresh.length > 0) factors.push({ factor: 'new error groups since the rollout', weight: 10 });
  const sigs = v.of(w).sort((a, b) => a.firstSeen - b.firstSeen);
  const kinds = uniq(sigs.map((s) => s.kind));
  const chain: ChainStep[] = [
    {
      step:
        'Rollout of ' +
        refText(rollout.workload) +
        ' from ' +
        (rollout.oldImage ?? '?') +
        ' to ' +
        rollout.newImage +
        ' at ' +
        iso(rollout.ts),
      evidence: [
        v.book.ref(
          'rollout',
          rollout.ts,
          (rollout.oldImage ?? '?') + ' → ' + rollout.newImage,
          rollout.evidence,
        ),
      ],
    },
    {
      step: 'Failures began ' + mins(lag) + ' later: ' + kinds.join(', '),
      evidence: uniq(sigs.flatMap((s) => v.book.signal(s))),
    },
  ];
  if (fresh.length > 0)
    chain.push({
      step: 'New errors since the rollout: ' + fresh.map((g) => '"' + cut(g.title, 80) + '"').join(', '),
      evidence: fresh.map((g) => v.book.ref('error-group', g.firstSeen, g.title, g.evidence)),
    });
  for (const d of [oom, badConfig, cpuSaturation, probeFailure]) {
    const f = d(v, w);
    if (f !== null) {
      chain.push({
        step: 'The new revision fails as ' + f.category + ': ' + f.summary,
        evidence: uniq(f.chain.flatMap((c) => c.evidence)),
      });
      break;
    }
  }
  return {
    category: 'bad-rollout',
    subtype: null,
    rootCause: rollout.workload,
    summary:
      'Rollout of ' +
      refText(rollout.workload) +
      ' from ' +
      (rollout.oldImage ?? '?') +
      ' to ' +
      rollout.newImage +
      ' at ' +
      iso(rollout.ts) +
      ' was followed ' +
      mins(lag) +
      ' later by ' +
      kinds.join(', ') +
      '.',
    factors,
    chain,
    image: rollout.newImage,
    oldImage: rollout.oldImage,
  };
}

/**
 * The memory samples with a limit of `w`'s containers in the `oomLookbackMs` up to `at`, per
 * series (pod + container), each oldest first; the series in the order of their first sample.
 */
function memorySeries(v: View, w: ResourceRef, at: number): Map<string, MemorySample[]> {
  const samples = (v.ctx.memory ?? [])
    .filter(
      (m) =>
        same(m.workload, w) &&
        m.ts <= at &&
        at - m.ts <= v.t.oomLookbackMs &&
        m.limitBytes !== null &&
        m.limitBytes > 0,
    )
    .sort((a, b) => a.ts - b.ts);
  const series = new Map<string, MemorySample[]>();
  for (const m of samples) {
    const k = workloadKey(m.pod) + '/' + (m.container ?? '');
    let list = series.get(k);
    if (list === undefined) series.set(k, (list = []));
    list.push(m);
  }
  return series;
}

/** Steady growth: ≥ 3 samples, the last ≥ `memoryGrowth` × the first, ≥ ⅔ of the steps rising. */
function grewSteadily(list: readonly Pick<MemorySample, 'usageBytes'>[], t: RcaThresholds): boolean {
  const first = list[0];
  const last = list.at(-1);
  if (list.length < 3 || first === undefined || last === undefined) return false;
  let rising = 0;
  for (let i = 1; i < list.length; i++)
    if ((list[i] as MemorySample).usageBytes > (list[i - 1] as MemorySample).usageBytes) rising++;
  return last.usageBytes >= first.usageBytes * t.memoryGrowth && rising * 3 >= (list.length - 1) * 2;
}

/**
 * A leak on its way to a kill, as `memoryLeak` below reads it: one container's samples (oldest
 * first, those of the look-back) grew steadily and the last is at least `memoryLeakWarn` of its
 * limit. The incidents processor asks the same to hold an incident open while it lasts.
 */
export function memoryLeaking(
  list: readonly Pick<MemorySample, 'usageBytes' | 'limitBytes'>[],
  t: RcaThresholds,
): boolean {
  const last = list.at(-1);
  if (last === undefined || last.limitBytes === null || last.limitBytes <= 0) return false;
  return grewSteadily(list, t) && last.usageBytes / last.limitBytes >= t.memoryLeakWarn;
}

function oom(v: View, w: ResourceRef): Finding | null {
  const sigs = v
    .of(w)
    .filter((s) => s.kind === 'oomkilled' || (s.source === 'event' && s.detail.reason === 'OOMKilling'));
  const reasons = (v.ctx.podReasons ?? []).filter((p) => same(p.workload, w) && p.reason === 'OOMKilled');
  if (sigs.length + reasons.length === 0) return null;
  const kill = Math.min(...sigs.map((s) => s.firstSeen), ...reasons.map((p) => p.ts));
  const ids = uniq([
    ...sigs.flatMap((s) => v.book.signal(s)),
    ...reasons.map((p) =>
      v.book.ref('pod-reason', p.ts, 'OOMKilled exit ' + String(p.exitCode ?? 137), p.evidence),
    ),
  ]);
  const series = memorySeries(v, w, kill);
  // The series (pod + container) with the most samples before the kill.
  const main = [...series.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  let peak = 0;
  for (const list of series.values())
    for (const m of list) peak = Math.max(peak, m.usageBytes / (m.limitBytes as number));
  const near = peak >= v.t.memoryNearLimit;
  const firstS = main[0];
  const lastS = main.at(-1);
  const growth = grewSteadily(main, v.t);
  const count = sigs.reduce((a, s) => a + s.count, 0) + reasons.length;
  const maxRestarts = Math.max(0, ...reasons.map((p) => p.restartCount ?? 0));
  const factors: ConfidenceFactor[] = [{ factor: 'container OOMKilled', weight: 50 }];
  const chain: ChainStep[] = [];
  const memIds =
    main.length > 0
      ? uniq(
          main.map((m) =>
            v.book.ref(
              'metric:memory_working_set_bytes',
              m.ts,
              mib(m.usageBytes) + ' of ' + mib(m.limitBytes as number),
              m.evidence,
            ),
          ),
        )
      : [];
  if (growth && firstS !== undefined && lastS !== undefined) {
    factors.push({
      factor: 'memory grew steadily before the kill (+' + pct(lastS.usageBytes / firstS.usageBytes - 1) + ')',
      weight: 15,
    });
    chain.push({
      step:
        'Memory grew from ' + mib(firstS.usageBytes) + ' to ' + mib(lastS.usageBytes) + ' before the kill',
      evidence: memIds,
    });
  }
  if (near) {
    factors.push({
      factor:
        'memory ≥ ' + pct(v.t.memoryNearLimit) + ' of the limit before the kill (peak ' + pct(peak) + ')',
      weight: 20,
    });
    if (!growth) chain.push({ step: 'Memory ran at ' + pct(peak) + ' of the limit', evidence: memIds });
  }
  if (count >= 2 || maxRestarts >= 2) factors.push({ factor: 'killed more than once', weight: 5 });
  chain.push({ step: 'The kernel OOM-killed the container at ' + iso(kill) + ' (exit 137)', evidence: ids });
  const limit = lastS?.limitBytes ?? null;
  const subtype = growth ? 'leak' : near ? 'limit-too-low' : null;
  const summary =
    subtype === 'leak' && firstS !== undefined && lastS !== undefined
      ? refText(w) +
        ' was OOMKilled after its memory grew from ' +
        mib(firstS.usageBytes) +
        ' to ' +
        mib(lastS.usageBytes) +
        (limit !== null ? ' (limit ' + mib(limit) + ')' : '') +
        ': likely a memory leak.'
      : subtype === 'limit-too-low'
        ? refText(w) +
          ' ran at ' +
          pct(peak) +
          ' of its ' +
          (limit !== null ? mib(limit) + ' ' : '') +
          'memory limit and was OOMKilled: the limit is too low for its working set.'
        : refText(w) + ' was OOMKilled (exit 137): its memory limit was exceeded.';
  return { category: 'oom', subtype, rootCause: w, summary, factors, chain };
}

/**
 * oom before the kill: no container of `w` was OOM-killed yet, but one's memory grew steadily over
 * the lookback before the incident's time and ends near its limit — a leak on its way to a kill
 * (the demo's cart: a GC-pause anomaly while memory climbs, the kill 20 minutes later). Checked
 * after every other detector, so it never hides a cause that already happened.
 */
function memoryLeak(v: View, w: ResourceRef): Finding | null {
  const series = memorySeries(v, w, v.incident.updatedAt);
  // The growing series nearest its limit at its last sample (ties: the first key).
  let main: MemorySample[] | null = null;
  let mainRatio = 0;
  for (const k of [...series.keys()].sort()) {
    const list = series.get(k) as MemorySample[];
    const last = list.at(-1) as MemorySample;
    const ratio = last.usageBytes / (last.limitBytes as number);
    if (memoryLeaking(list, v.t) && ratio > mainRatio) {
      main = list;
      mainRatio = ratio;
    }
  }
  if (main === null) return null;
  const first = main[0] as MemorySample;
  const last = main.at(-1) as MemorySample;
  const limit = last.limitBytes as number;
  const minutes = Math.max(1, Math.round((last.ts - first.ts) / MIN));
  // The recent rate (the last 10 minutes): a leak often speeds up as the heap fills.
  const recent = main.find((m) => m.ts >= last.ts - 10 * MIN && m !== last) ?? first;
  const slope = Math.max(
    (last.usageBytes - recent.usageBytes) / Math.max(1, last.ts - recent.ts),
    (last.usageBytes - first.usageBytes) / Math.max(1, last.ts - first.ts),
  ); // bytes per ms
  const toLimit = last.usageBytes >= limit ? 0 : Math.ceil((limit - last.usageBytes) / slope / MIN);
  const memIds = uniq(
    main.map((m) =>
      v.book.ref(
        'metric:memory_working_set_bytes',
        m.ts,
        mib(m.usageBytes) + ' of ' + mib(limit),
        m.evidence,
      ),
    ),
  );
  const memorySignals = v
    .of(w)
    .filter((s) => s.source === 'anomaly' && /memory|gc_|heap/i.test(s.detail.metric ?? ''));
  const factors: ConfidenceFactor[] = [
    {
      factor:
        'memory grew steadily (+' +
        pct(last.usageBytes / first.usageBytes - 1) +
        ' in ' +
        String(minutes) +
        ' min)',
      weight: 30,
    },
    { factor: 'memory at ' + pct(mainRatio) + ' of the limit', weight: 20 },
  ];
  if (memorySignals.length > 0) factors.push({ factor: 'memory or GC anomaly in the incident', weight: 10 });
  const chain: ChainStep[] = [
    {
      step:
        'Memory of ' +
        refText(last.pod) +
        (last.container !== undefined ? ' (' + last.container + ')' : '') +
        ' grew from ' +
        mib(first.usageBytes) +
        ' to ' +
        mib(last.usageBytes) +
        ' in ' +
        String(minutes) +
        ' min, ' +
        pct(mainRatio) +
        ' of its ' +
        mib(limit) +
        ' limit',
      evidence: memIds,
    },
  ];
  if (memorySignals.length > 0)
    chain.push({
      step:
        'Symptoms of memory pressure: ' +
        uniq(memorySignals.map((s) => s.detail.metric ?? s.kind)).join(', '),
      evidence: uniq(memorySignals.flatMap((s) => v.book.signal(s))),
    });
  chain.push({
    step:
      toLimit === 0
        ? 'It is at its limit: the kernel will OOM-kill it'
        : 'At this rate it reaches its limit in about ' + String(toLimit) + ' min and is OOM-killed',
    evidence: memIds.slice(-1),
  });
  return {
    category: 'oom',
    subtype: 'leak',
    rootCause: w,
    summary:
      refText(w) +
      "'s memory grew from " +
      mib(first.usageBytes) +
      ' to ' +
      mib(last.usageBytes) +
      ' (' +
      pct(mainRatio) +
      ' of its ' +
      mib(limit) +
      ' limit) in ' +
      String(minutes) +
      ' min: likely a memory leak, ' +
      (toLimit === 0
        ? 'at its limit now.'
        : 'an OOM kill in about ' + String(toLimit) + ' min at this rate.'),
    factors,
    chain,
  };
}

function badConfig(v: View, w: ResourceRef): Finding | null {
  const crashSigs = v
    .of(w)
    .filter(
      (s) =>
        s.kind === 'crashloop' ||
        s.kind === 'failed' ||
        (s.kind === 'init-failure' && !IMAGE_PULL_REASONS.has(s.detail.reason ?? '')) ||
        s.detail.reason === 'CreateContainerConfigError',
    );
  const reasons = (v.ctx.podReasons ?? []).filter((p) => same(p.workload, w));
  const crashReasons = reasons.filter(
    (p) =>
      p.reason === 'CrashLoopBackOff' ||
      p.reason === 'CreateContainerConfigError' ||
      (p.exitCode !== undefined && p.exitCode !== 0 && p.exitCode !== 137),
  );
  if (crashSigs.length + crashReasons.length === 0) return null;
  const groups = (v.ctx.errorGroups ?? []).filter(
    (g) => same(g.workload, w) && CONFIG_ERROR.test(g.title + ' ' + (g.message ?? '')),
  );
  const groupSigs = v.of(w).filter((s) => s.source === 'error-group' && CONFIG_ERROR.test(textOf(s)));
  const msgReasons = reasons.filter(
    (p) =>
      p.reason === 'CreateContainerConfigError' || (p.message !== undefined && CONFIG_ERROR.test(p.message)),
  );
  const sigMsgs = crashSigs.filter(
    (s) => s.detail.message !== undefined && CONFIG_ERROR.test(s.detail.message),
  );
  if (groups.length + groupSigs.length + msgReasons.length + sigMsgs.length === 0) return null;
  const crashStart = Math.min(...crashSigs.map((s) => s.firstSeen), ...crashReasons.map((p) => p.ts));
  const createConfig = [
    ...crashSigs.map((s) => s.detail.reason),
    ...crashReasons.map((p) => p.reason),
  ].includes('CreateContainerConfigError');
  const texts = [
    ...msgReasons.map((p) => p.message ?? p.reason),
    ...sigMsgs.map((s) => s.detail.message ?? ''),
    ...groups.map((g) => g.title + ' ' + (g.message ?? '')),
    ...groupSigs.map(textOf),
  ];
  const all = texts.join('\n');
  const missing = MISSING_OBJECT.exec(all);
  const missingKey = MISSING_KEY.exec(all);
  const root: ResourceRef =
    missingKey !== null
      ? {
          kind: titleCaseKind(missingKey[1] as string),
          namespace: missingKey[2] as string,
          name: missingKey[3] as string,
        }
      : missing !== null
        ? { kind: titleCaseKind(missing[1] as string), namespace: w.namespace, name: missing[2] as string }
        : w;
  const headline = cut(
    groups[0]?.title ??
      groupSigs[0]?.detail.title ??
      msgReasons[0]?.message ??
      sigMsgs[0]?.detail.message ??
      'configuration error',
    120,
  );
  const factors: ConfidenceFactor[] = [
    createConfig
      ? { factor: 'container cannot be created (CreateContainerConfigError)', weight: 35 }
      : { factor: 'crash loop', weight: 35 },
    { factor: 'configuration/env/file error: "' + headline + '"', weight: 30 },
  ];
  const atStart =
    msgReasons.length + sigMsgs.length > 0 ||
    groups.some((g) => Math.abs(g.firstSeen - crashStart) <= v.t.startWindowMs) ||
    groupSigs.some((s) => Math.abs(s.firstSeen - crashStart) <= v.t.startWindowMs);
  if (atStart)
    factors.push({
      factor: 'error at start (within ' + mins(v.t.startWindowMs) + ' of the first crash)',
      weight: 10,
    });
  const exit = [...crashReasons.map((p) => p.exitCode), ...crashSigs.map((s) => s.detail.exitCode)].find(
    (e) => e !== undefined && e !== 0 && e !== 137,
  );
  if (exit !== undefined) factors.push({ factor: 'non-zero exit code ' + String(exit), weight: 10 });
  const crashIds = uniq([
    ...crashSigs.flatMap((s) => v.book.signal(s)),
    ...crashReasons.map((p) =>
      v.book.ref(
        'pod-reason',
        p.ts,
        p.reason +
          (p.exitCode !== undefined ? ' exit ' + String(p.exitCode) : '') +
          (p.message !== undefined ? ': ' + p.message : ''),
        p.evidence,
      ),
    ),
  ]);
  const cfgIds = uniq([
    ...groups.map((g) => v.book.ref('error-group', g.firstSeen, g.title, g.evidence)),
    ...groupSigs.flatMap((s) => v.book.signal(s)),
    ...msgReasons.map((p) => v.book.ref('pod-reason', p.ts, p.reason + ': ' + (p.message ?? ''), p.evidence)),
  ]);
  return {
    category: 'bad-config',
    subtype:
      missingKey !== null || missing !== null
        ? 'missing-object'
        : createConfig
          ? 'create-container-config'
          : 'start-error',
    rootCause: root,
    summary:
      refText(w) +
      (createConfig ? ' cannot start its container' : ' crash-loops at start') +
      ' on a configuration error: "' +
      headline +
      '"' +
      (root !== w ? ' (' + refText(root) + ').' : '.'),
    factors,
    chain: [
      {
        step: 'The process reports a configuration/env/file error at start: "' + headline + '"',
        evidence: cfgIds.length > 0 ? cfgIds : crashIds,
      },
      {
        step: createConfig
          ? 'The kubelet cannot create the container'
          : 'The container exits and restarts in a crash loop',
        evidence: crashIds,
      },
    ],
  };
}

const CPU_METRICS = new Set(['cpu_throttled_ratio', 'http_p95_latency_seconds', 'cpu_usage_cores']);

function cpuSaturation(v: View, w: ResourceRef): Finding | null {
  const anomalies = v.of(w).filter((s) => s.source === 'anomaly' && CPU_METRICS.has(s.detail.metric ?? ''));
  const samples = (v.ctx.cpu ?? []).filter((c) => same(c.workload, w));
  const atLimit = samples.filter(
    (c) => c.limitCores !== null && c.limitCores > 0 && c.usageCores / c.limitCores >= v.t.cpuAtLimit,
  );
  const throttled = samples.filter((c) => (c.throttledRatio ?? 0) >= v.t.throttled);
  if (atLimit.length === 0 || anomalies.length + throttled.length === 0) return null;
  const peak = Math.max(...atLimit.map((c) => c.usageCores / (c.limitCores as number)));
  const peakThr = Math.max(0, ...throttled.map((c) => c.throttledRatio ?? 0));
  const factors: ConfidenceFactor[] = [];
  const chain: ChainStep[] = [];
  if (anomalies.length > 0) {
    factors.push({
      factor:
        'latency or throttling anomaly (' + uniq(anomalies.map((s) => s.detail.metric)).join(', ') + ')',
      weight: 35,
    });
    chain.push({
      step: 'Anomaly on ' + uniq(anomalies.map((s) => s.detail.metric)).join(', '),
      evidence: uniq(anomalies.flatMap((s) => v.book.signal(s))),
    });
  }
  factors.push({
    factor: 'CPU usage ≥ ' + pct(v.t.cpuAtLimit) + ' of its limit (peak ' + pct(peak) + ')',
    weight: 35,
  });
  chain.push({
    step: 'CPU usage at ' + pct(peak) + ' of the limit',
    evidence: uniq(
      atLimit.map((c) =>
        v.book.ref(
          'metric:cpu_usage_cores',
          c.ts,
          String(c.usageCores) + ' of ' + String(c.limitCores) + ' cores',
          c.evidence,
        ),
      ),
    ),
  });
  if (throttled.length > 0) {
    factors.push({
      factor: 'throttled ≥ ' + pct(v.t.throttled) + ' of CFS periods (peak ' + pct(peakThr) + ')',
      weight: 15,
    });
    chain.push({
      step: 'CFS throttling at ' + pct(peakThr) + ' of periods',
      evidence: uniq(
        throttled.map((c) =>
          v.book.ref(
            'metric:cpu_throttled_ratio',
            c.ts,
            pct(c.throttledRatio ?? 0) + ' throttled',
            c.evidence,
          ),
        ),
      ),
    });
  }
  return {
    category: 'cpu-saturation',
    subtype: throttled.length > 0 ? 'throttling' : 'latency',
    rootCause: w,
    summary:
      refText(w) +
      ' is CPU-saturated: usage at ' +
      pct(peak) +
      ' of its limit' +
      (throttled.length > 0 ? ', throttled ' + pct(peakThr) + ' of the time' : '') +
      (anomalies.length > 0
        ? ', with a ' + uniq(anomalies.map((s) => s.detail.metric)).join('/') + ' anomaly'
        : '') +
      '.',
    factors,
    chain,
  };
}

function probeFailure(v: View, w: ResourceRef): Finding | null {
  const events = v.events(w, new Set(['Unhealthy']));
  if (events.length === 0) return null;
  if (v.of(w).some((s) => s.kind === 'crashloop' || s.kind === 'oomkilled')) return null;
  const messages = events.map((e) => (e.sig !== null ? textOf(e.sig) : (e.ev?.message ?? ''))).join('\n');
  const probe = PROBE_KIND.exec(messages)?.[1]?.toLowerCase() ?? null;
  const count = events.reduce(
    (a, e) => a + (e.sig !== null ? Math.max(e.sig.count, e.sig.detail.eventCount ?? 1) : (e.ev?.count ?? 1)),
    0,
  );
  const factors: ConfidenceFactor[] = [
    { factor: 'Unhealthy probe events', weight: 50 },
    { factor: 'no crash or OOM kill', weight: 20 },
  ];
  if (count >= 3) factors.push({ factor: 'repeated (' + String(count) + ' failures)', weight: 10 });
  const first = cut(messages.split('\n')[0] ?? '', 200);
  return {
    category: 'probe-failure',
    subtype: probe,
    rootCause: w,
    summary:
      'The ' + (probe ?? 'health') + ' probe of ' + refText(w) + ' keeps failing without crashes: ' + first,
    factors,
    chain: [
      {
        step: (probe ?? 'Health') + ' probe failed ' + String(count) + ' time(s): ' + first,
        evidence: v.eventIds(events),
      },
    ],
  };
}

/**
 * app-error: the workload's own code fails — an error group of level error or worse opened,
 * regressed or spiked in the incident, and nothing in the catalogue above explains it (no crash
 * for a configuration error, no rollout, no dependency known to be down, no resource limit).
 * Subtypes: `connectivity` when the error is a failure to reach something no call relation names
 * (the dependency may be outside the cluster), `crash` when the workload's pods crash with it,
 * else the signal's kind (`new`, `regressed`, `spike`). The root cause is the workload; the
 * error group is the place to look.
 */
function appError(v: View, w: ResourceRef): Finding | null {
  const groups = v
    .of(w)
    .filter((s) => s.source === 'error-group')
    .sort(
      (a, b) =>
        a.firstSeen - b.firstSeen ||
        severityRank(b.severity) - severityRank(a.severity) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  const main = groups[0];
  if (main === undefined) return null;
  const title = main.detail.title ?? main.detail.message ?? main.key;
  const quoted = '"' + cut(title, 160) + '"';
  const events = groups.reduce((a, g) => a + Math.max(g.count, g.detail.eventCount ?? 1), 0);
  const crashes = v.of(w).filter((s) => s.kind === 'crashloop' || s.kind === 'failed');
  const connectivity = groups.filter(
    (g) => g.detail.errorReason === 'timeout' || CONNECTIVITY.test(textOf(g)),
  );
  const kinds = uniq(groups.map((g) => g.kind));
  const subtype =
    connectivity.length > 0
      ? 'connectivity'
      : crashes.length > 0
        ? 'crash'
        : kinds.includes('error-group-regressed')
          ? 'regressed'
          : kinds.includes('error-group-spike') && !kinds.includes('error-group-new')
            ? 'spike'
            : 'new';
  const factors: ConfidenceFactor[] = [
    {
      factor:
        'error group' +
        (groups.length > 1 ? 's' : '') +
        ' of level error or worse in the workload (' +
        String(groups.length) +
        ', ' +
        String(events) +
        (events === 1 ? ' event)' : ' events)'),
      weight: 30,
    },
  ];
  const chain: ChainStep[] = [
    {
      step:
        refText(w) +
        ' logs ' +
        (kinds.includes('error-group-regressed') ? 'a regressed' : 'a new') +
        ' error at ' +
        iso(main.firstSeen) +
        ': ' +
        quoted +
        (groups.length > 1 ? ' (and ' + String(groups.length - 1) + ' more error group(s))' : ''),
      evidence: uniq(groups.flatMap((g) => v.book.signal(g))),
    },
  ];
  if (kinds.includes('error-group-spike')) factors.push({ factor: 'its rate spiked', weight: 10 });
  let summary: string;
  if (subtype === 'connectivity') {
    const c = connectivity[0] as IncidentSignal;
    const failing = '"' + cut(c.detail.title ?? textOf(c), 160) + '"';
    factors.push({
      factor: 'the error is a failure to reach a dependency no call relation names',
      weight: 10,
    });
    chain.push({
      step:
        'It fails to reach a dependency: ' +
        failing +
        '; its errors name no Kubernetes Service (<svc>.<ns>.svc), so the dependency is outside what hetu sees',
      evidence: v.book.signal(c),
    });
    summary =
      refText(w) +
      ' fails to reach a dependency hetu does not see (outside the cluster, or named without its Service): ' +
      failing +
      '.';
  } else if (subtype === 'crash') {
    const how = uniq(crashes.map((c) => c.kind)).join(', ');
    factors.push({ factor: 'its pods crash (' + how + ')', weight: 20 });
    chain.push({
      step: 'Its pods crash: ' + how,
      evidence: uniq(crashes.flatMap((c) => v.book.signal(c))),
    });
    summary = refText(w) + ' crashes on an application error: ' + quoted + '.';
  } else {
    factors.push({
      factor: 'no infrastructure failure of the workload (pods running, no rollout)',
      weight: 10,
    });
    summary =
      refText(w) +
      (subtype === 'regressed'
        ? ' raises a regressed error: '
        : subtype === 'spike'
          ? ' raises a spiking error: '
          : ' raises a new error: ') +
      quoted +
      ' (' +
      String(events) +
      (events === 1 ? ' event' : ' events') +
      '); no infrastructure cause found: a code or data problem of the workload.';
  }
  return { category: 'app-error', subtype, rootCause: w, summary, factors, chain };
}

/** Per-workload detectors, in precedence order (after node-failure and the dependency walk). */
const WORKLOAD_DETECTORS = [
  imagePull,
  unschedulable,
  volumeMount,
  badRollout,
  oom,
  badConfig,
  cpuSaturation,
  probeFailure,
  memoryLeak,
  appError,
];

function classify(v: View, w: ResourceRef): Finding | null {
  for (const d of WORKLOAD_DETECTORS) {
    const f = d(v, w);
    if (f !== null) return f;
  }
  return null;
}

/**
 * From `from`, the longest call path whose intermediate workloads fail to connect too and whose
 * last workload is unhealthy on its own (the root), or null.
 */
function walk(v: View, from: ResourceRef, seen: readonly ResourceRef[]): ResourceRef[] | null {
  let best: ResourceRef[] | null = null;
  for (const c of v.callees(from)) {
    if (seen.some((x) => same(x, c))) continue;
    let p: ResourceRef[] | null = null;
    if (v.connectivity(c).ids.length > 0) {
      const sub = walk(v, c, [...seen, c]);
      if (sub !== null) p = [c, ...sub];
    }
    if (p === null && v.unhealthy(c).yes) p = [c];
    if (p !== null && (best === null || p.length > best.length)) best = p;
  }
  return best;
}

/** A dependency's own failure, as the dependency-down summary names it. */
const OWN_FAILURE: Readonly<Record<RcaCategory, string>> = {
  'node-failure': 'its node failing',
  'bad-rollout': 'a bad rollout',
  'dependency-down': 'a dependency of its own',
  'image-pull': 'an image it cannot pull',
  unschedulable: 'pods that cannot be scheduled',
  'volume-mount': 'a volume it cannot mount',
  oom: 'OOM kills',
  'bad-config': 'a configuration error',
  'cpu-saturation': 'CPU saturation',
  'probe-failure': 'failing probes',
  'app-error': 'its own application errors',
  unknown: 'an unknown cause',
};

/** Follow caller → unhealthy callee edges from the incident's workloads to the deepest callee. */
function dependency(v: View): Finding | null {
  const paths: ResourceRef[][] = [];
  for (const caller of v.incident.workloads) {
    if (v.connectivity(caller).ids.length === 0) continue;
    const p = walk(v, caller, [caller]);
    if (p !== null) paths.push([caller, ...p]);
  }
  if (paths.length === 0) return null;
  let longest = paths[0] as ResourceRef[];
  for (const p of paths) if (p.length > longest.length) longest = p;
  const root = longest.at(-1) as ResourceRef;
  const toRoot = paths.filter((p) => same(p.at(-1), root));
  // Edges (caller → callee) of every path to the root, closest to the root first.
  const edges = new Map<string, { from: ResourceRef; to: ResourceRef; depth: number }>();
  for (const p of toRoot)
    for (let i = p.length - 2; i >= 0; i--) {
      const from = p[i] as ResourceRef;
      const to = p[i + 1] as ResourceRef;
      const k = workloadKey(from) + '>' + workloadKey(to);
      const depth = p.length - 2 - i;
      const e = edges.get(k);
      if (e === undefined || depth < e.depth) edges.set(k, { from, to, depth });
    }
  const ordered = [...edges.values()].sort(
    (a, b) => a.depth - b.depth || byRef(a.from, b.from) || byRef(a.to, b.to),
  );
  const callers = uniqRefs(ordered.map((e) => e.from));
  const callerSteps: ChainStep[] = ordered.map((e) => {
    const cc = v.connectivity(e.from);
    return {
      step:
        refText(e.from) +
        ' calls ' +
        refText(e.to) +
        ' and fails to reach it' +
        (cc.sample !== null ? ': "' + cut(cc.sample, 120) + '"' : ''),
      evidence: cc.ids,
    };
  });
  const own = classify(v, root);
  if (own !== null && own.category === 'bad-rollout') {
    return { ...own, chain: [...own.chain, ...callerSteps], extraWorkloads: callers };
  }
  const health = v.unhealthy(root);
  let callerStart: number | null = null;
  for (const c of callers) {
    const st = v.connectivity(c).start;
    if (st !== null && (callerStart === null || st < callerStart)) callerStart = st;
  }
  const factors: ConfidenceFactor[] = [
    { factor: 'callers fail to connect (connection refused / timeouts)', weight: 35 },
    { factor: 'called workload unhealthy (' + health.why.join(', ') + ')', weight: 30 },
  ];
  if (health.since !== null && callerStart !== null && health.since <= callerStart)
    factors.push({ factor: 'called workload failed before the callers', weight: 15 });
  factors.push({ factor: 'call relation observed', weight: 10 });
  const chain: ChainStep[] = [
    { step: refText(root) + ' is unhealthy: ' + health.why.join(', '), evidence: health.ids },
    ...(own !== null
      ? [
          {
            step: 'Its own failure looks like ' + own.category + ': ' + own.summary,
            evidence: uniq(own.chain.flatMap((c) => c.evidence)),
          },
        ]
      : []),
    ...callerSteps,
  ];
  return {
    category: 'dependency-down',
    subtype: own?.category ?? null,
    rootCause: root,
    summary:
      refText(root) +
      ' is down (' +
      health.why.join(', ') +
      ')' +
      (own !== null ? ', likely from ' + OWN_FAILURE[own.category] : '') +
      '; ' +
      callers.map(refText).join(', ') +
      (callers.length === 1 ? ' fails' : ' fail') +
      ' calling it.',
    factors,
    chain,
    extraWorkloads: callers,
  };
}

function primaryWorkload(inc: Incident): ResourceRef | null {
  const sigs = inc.signals
    .filter((s) => s.source !== 'rollout' && s.workload !== null)
    .sort(
      (a, b) =>
        a.firstSeen - b.firstSeen ||
        severityRank(b.severity) - severityRank(a.severity) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  return sigs[0]?.workload ?? null;
}

function blastRadius(v: View, f: Finding): BlastRadius {
  const workloads = uniqRefs([...v.incident.workloads, ...(f.extraWorkloads ?? [])]);
  const keys = new Set(workloads.map(workloadKey));
  const pods = uniqRefs([
    ...v.failures.filter((s) => s.resource.kind === 'Pod').map((s) => s.resource),
    ...(v.ctx.podReasons ?? []).filter((p) => keys.has(workloadKey(p.workload))).map((p) => p.pod),
    ...(f.extraPods ?? []),
  ]);
  const namespaces = uniq([...workloads, ...pods].map((r) => r.namespace).filter((n) => n !== '')).sort();
  return { workloads, pods, namespaces };
}

/**
 * The deterministic root-cause analysis of an incident (SPEC §7). Pure: the same incident and
 * context give the same report, byte for byte. Precedence: node-failure, then the dependency walk
 * (dependency-down, or bad-rollout when the failing dependency was just rolled out), then the
 * primary workload's own failure: image-pull, unschedulable, volume-mount, bad-rollout, oom,
 * bad-config, cpu-saturation, probe-failure; `unknown` when nothing matches.
 */
export function analyze(
  incident: Incident,
  context: RcaContext = {},
  thresholds: Partial<RcaThresholds> = {},
): RcaReport {
  const t: RcaThresholds = { ...DEFAULT_RCA_THRESHOLDS, ...thresholds };
  const attempt = (fn: (v: View) => Finding | null): { v: View; f: Finding } | null => {
    const v = new View(incident, context, t, new Book());
    const f = fn(v);
    return f === null ? null : { v, f };
  };
  const primary = primaryWorkload(incident);
  const found =
    attempt(nodeFailure) ??
    attempt(dependency) ??
    (primary === null ? null : attempt((v) => classify(v, primary))) ??
    attempt((v) => {
      const first = v.failures[0];
      const root = primary ?? first?.resource ?? { kind: 'Unknown', namespace: '', name: incident.id };
      return {
        category: 'unknown',
        subtype: null,
        rootCause: root,
        summary:
          'No known failure pattern matched the signals of ' +
          refText(root) +
          ' (' +
          uniq(v.failures.map((s) => s.kind)).join(', ') +
          ').',
        factors: [{ factor: 'no catalogue pattern matched', weight: 10 }],
        chain: [
          {
            step: 'Signals: ' + uniq(v.failures.map((s) => s.kind)).join(', '),
            evidence: uniq(v.failures.flatMap((s) => v.book.signal(s))),
          },
        ],
      };
    });
  const { v, f } = found as { v: View; f: Finding };
  const weight = f.factors.reduce((a, x) => a + x.weight, 0);
  const rootText = refText(f.rootCause);
  const remediation = remediationFor(f.category, f.subtype).map((r) => ({
    ...r,
    step: r.step
      .replaceAll('{root}', rootText)
      .replaceAll('{image}', f.image ?? 'the image')
      .replaceAll('{old}', f.oldImage ?? 'the previous image'),
  }));
  return {
    incidentId: incident.id,
    asOf: incident.updatedAt,
    category: f.category,
    subtype: f.subtype,
    rootCause: { kind: f.rootCause.kind, namespace: f.rootCause.namespace, name: f.rootCause.name },
    summary: f.summary,
    confidence: weight / 100,
    derivation: f.factors,
    chain: f.chain,
    evidence: v.book.list(),
    remediation,
    blastRadius: blastRadius(v, f),
  };
}
