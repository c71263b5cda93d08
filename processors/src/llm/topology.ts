/**
 * The `llm-requests` processor (SPEC §7, LLM part; DESIGN §3 "slow work leaves the consumer loop";
 * docs/llm.md): decides when the LLM is asked, builds the redacted prompt, and emits
 * "analysis requested" records (`LlmRequest`, topic `hetu.llm.requests`). It never calls a model:
 * the LLM worker (`@hetu/producers/llm`) does, and records the outcome on
 * `hetu.facts.llm-analyses`, which this processor reads back to learn that a call ended.
 *
 * Inputs, co-partitioned by cluster (docs/design-analysis-topology.md):
 *  - `hetu.internal.cluster-feed`: error-group facts (re-keyed by cluster); other records only move
 *    event time;
 *  - `hetu.facts.incidents`, `hetu.facts.rca`: written to the cluster's partition by `incidents`;
 *  - `hetu.commands` (keyed `<cluster>`): `incident.ask` (payload `{"question": "…"}`, at most
 *    2 000 characters) and `incident.regenerate`, each naming incident ids in `targetIds`;
 *  - `hetu.facts.llm-analyses`: the worker's outcomes, written to the request's partition.
 *
 * Rules (part 1's `requests.ts`, and):
 *  - An incident's change is looked at once its instant is complete: when its RCA report of the
 *    same event time arrives, or when any record of a later event time does. Its story signature
 *    (`incidentSignature`) is requested once; one request per incident is in flight; a newer
 *    signature meanwhile is queued (the latest replaces the older) and goes out when the worker
 *    records the outcome. Resolved and dismissed incidents are not analysed (a regenerate command
 *    or a question still is).
 *  - A refused request (budget) is requested again, with its current signature, once event time
 *    passes the refusal's `resumesAt` and the incident is still open.
 *  - An error group that is new at error level or above, regressed or spiking is requested at most
 *    once per 10 minutes of event time.
 *  - A question is always requested (the worker counts it in the budget), with the incident's
 *    evidence and the last 20 recorded questions and answers about it.
 *  - A deleted incident or error group (tombstone) emits a `deleted` request: the worker removes the
 *    subject's stored analyses; nothing is sent.
 *
 * Deterministic, event time only: the same inputs in the same order give the same requests, byte
 * for byte, so what leaves the cluster is fixed by the log.
 */
import type { Command } from '@hetu/schemas';
import type { LogRecord, StatefulContext, StatefulProcessor } from '@hetu/streams';
import { createHash } from 'node:crypto';
import { sourceOf, sourceTopicOf } from '../rekey/rekey.ts';
import { pseudonymTable, pseudonymize, type NameKind } from './pseudonym.ts';
import { MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, questionPrompt, type QuestionTurn } from './ask.ts';
import { DEFAULT_PROMPT_MAX_CHARS, errorGroupPrompt, incidentPrompt, type LlmPrompt } from './prompt.ts';
import {
  ERROR_GROUP_MIN_INTERVAL_MS,
  MAX_TRACKED_INCIDENTS,
  emptyTracker,
  errorGroupFailed,
  errorGroupTrigger,
  forgetIncident,
  incidentAnswered,
  incidentFailed,
  incidentSeen,
  incidentSignature,
  shouldRequestErrorGroup,
  shouldRequestIncident,
  type IncidentSettledResult,
  type IncidentTrack,
  type RequestTrackerState,
} from './requests.ts';
import {
  LLM_ANALYSES_TOPIC,
  LLM_REQUESTS_TOPIC,
  plainErrorGroup,
  plainIncident,
  plainRca,
  requestId,
  requestKey,
  type ErrorGroupRecord,
  type IncidentRecord,
  type LlmAnalysisRecord,
  type LlmRequestRecord,
  type PlainErrorGroup,
  type PlainIncident,
  type PlainRca,
  type RcaRecord,
} from './record.ts';

export const LLM_REQUESTS_PROCESSOR = 'llm-requests';
export const LLM_REQUESTS_CHANGELOG = 'hetu.state.llm-requests';
export const CLUSTER_FEED_TOPIC = 'hetu.internal.cluster-feed';
export const INCIDENTS_TOPIC = 'hetu.facts.incidents';
export const RCA_TOPIC = 'hetu.facts.rca';
export const COMMANDS_TOPIC = 'hetu.commands';
export const ERROR_GROUPS_SOURCE = 'hetu.facts.error-groups';
export const ASK_COMMAND = 'incident.ask';
export const REGENERATE_COMMAND = 'incident.regenerate';

export interface LlmRequestsConfig {
  /** Cap of a prompt's data block in characters (default 24 000). */
  readonly maxPromptChars?: number;
  /** Incidents kept per cluster (default 500); least recently touched forgotten first. */
  readonly maxIncidents?: number;
  /** Error groups kept per cluster (default 2 000); least recently updated forgotten first. */
  readonly maxGroups?: number;
  /** Error groups of the incident's workloads whose best samples go into its prompt (default 5). */
  readonly groupsPerIncident?: number;
  /** At most one request per error group per this much event time (default 10 min). */
  readonly errorGroupIntervalMs?: number;
  /** Command ids remembered per cluster to drop a repeated command (default 1 000). */
  readonly rememberedCommands?: number;
  /**
   * Replace the names of namespaces, workloads, pods and nodes in prompts by tokens (`ns-1`,
   * `wl-1`, …); the worker reverses them in the answer (default false).
   */
  readonly pseudonymize?: boolean;
}

export const DEFAULT_LLM_REQUESTS_CONFIG = {
  maxPromptChars: DEFAULT_PROMPT_MAX_CHARS,
  maxIncidents: MAX_TRACKED_INCIDENTS,
  maxGroups: 2_000,
  groupsPerIncident: 5,
  errorGroupIntervalMs: ERROR_GROUP_MIN_INTERVAL_MS,
  rememberedCommands: 1_000,
  pseudonymize: false,
} as const;

export interface LlmRequestsDeps {
  /** The Avro value of a record of `sourceTopic` (e.g. `serde.decode(value, <its record>)`). */
  decode(sourceTopic: string, value: Buffer): Promise<unknown>;
  decodeCommand(record: LogRecord): Promise<Command> | Command;
  readonly config?: LlmRequestsConfig;
}

/** What `decodeInput` hands to the fold. */
export type LlmRequestsInput =
  | {
      readonly type: 'incident';
      readonly cluster: string;
      readonly id: string;
      readonly value: IncidentRecord | null;
    }
  | { readonly type: 'rca'; readonly cluster: string; readonly id: string; readonly value: RcaRecord | null }
  | {
      readonly type: 'group';
      readonly cluster: string;
      readonly id: string;
      readonly value: ErrorGroupRecord | null;
    }
  | { readonly type: 'analysis'; readonly value: LlmAnalysisRecord }
  | {
      readonly type: 'ask';
      readonly cluster: string;
      readonly command: Command;
      readonly incidentId: string;
      readonly question: string;
    }
  | { readonly type: 'regenerate'; readonly cluster: string; readonly command: Command }
  /** Any other record: it only moves event time. */
  | { readonly type: 'time' };

interface IncidentEntry {
  /** Touch counter (restores the least-recently-touched order). */
  seq: number;
  /** requestedAt of the request in flight, or null. */
  inFlightAt: number | null;
  incident: PlainIncident | null;
  rca: PlainRca | null;
  /** Event time of a change not looked at yet, or null. */
  dirtyAt: number | null;
  /** After a budget refusal: when to request again (its resumesAt), or null. */
  retryAt: number | null;
  /** Trigger of the next look: `changed`, or `retry` after a refusal. */
  reason: 'changed' | 'retry';
}

interface GroupEntry {
  seq: number;
  group: PlainErrorGroup;
}

interface ClusterState {
  readonly cluster: string;
  readonly incidents: Map<string, IncidentEntry>;
  readonly groups: Map<string, GroupEntry>;
  readonly history: Map<string, QuestionTurn[]>;
  /** Recent command ids, oldest first. */
  commands: string[];
  tracker: RequestTrackerState;
  seq: number;
}

export interface LlmRequestsState {
  readonly clusters: Map<string, ClusterState>;
  /** `<cluster>\u0000<incident id>` of incidents with a change not looked at yet. */
  readonly dirty: Set<string>;
  /** `<cluster>\u0000<incident id>` of incidents waiting for a refusal's resumesAt. */
  readonly retries: Set<string>;
  /** Non-null between a restore and the first use. */
  restoring: Map<string, Buffer | null> | null;
  /**
   * Lower bounds of the `dirtyAt` of the dirty incidents and the `retryAt` of those waiting for
   * a retry (derived, not in the changelog): until event time passes them nothing is due, and
   * `advance` returns at once instead of walking both sets on every record. −∞: not known.
   */
  dirtyFrom?: number;
  retryFrom?: number;
}

type Ctx = Pick<StatefulContext, 'emit' | 'changed'>;

/** A bad command (dead-lettered by the runtime with this code). */
class LlmCommandError extends Error {
  readonly code = 'HETU_INPUT_INVALID';
  readonly transient = false;
}

/** The changelog holds something this version cannot read: fatal. */
export class LlmRequestsStateError extends Error {
  readonly code = 'HETU_LLM_STATE_INVALID';
  readonly transient = false;
}

function splitKey(key: string): { cluster: string; rest: string } {
  const i = key.indexOf('/');
  return i > 0 ? { cluster: key.slice(0, i), rest: key.slice(i + 1) } : { cluster: key, rest: '' };
}

const CLOSED = new Set(['resolved', 'dismissed']);

export function llmRequestsProcessor(
  deps: LlmRequestsDeps,
): StatefulProcessor<LlmRequestsInput, LlmRequestsState> {
  const cfg = { ...DEFAULT_LLM_REQUESTS_CONFIG, ...deps.config };
  const sk = (cluster: string, sub: string) => cluster + '|' + sub;
  const dk = (cluster: string, id: string) => cluster + '\u0000' + id;

  function newCluster(cluster: string): ClusterState {
    return {
      cluster,
      incidents: new Map(),
      groups: new Map(),
      history: new Map(),
      commands: [],
      tracker: emptyTracker(),
      seq: 0,
    };
  }

  function clusterOf(state: LlmRequestsState, cluster: string): ClusterState {
    let c = state.clusters.get(cluster);
    if (c === undefined) state.clusters.set(cluster, (c = newCluster(cluster)));
    return c;
  }

  // ---- emitting requests ----

  function emit(
    c: ClusterState,
    ctx: Ctx,
    r: {
      kind: 'incident' | 'error-group' | 'question';
      subjectId: string;
      signature: string;
      trigger: string;
      at: number;
      prompt: LlmPrompt | null;
      command?: Command;
      question?: string;
      history?: readonly QuestionTurn[];
    },
  ): void {
    const table =
      cfg.pseudonymize && r.prompt !== null ? pseudonymTable(namesOf(c, r.kind, r.subjectId)) : [];
    const p =
      r.prompt === null || table.length === 0
        ? r.prompt
        : (() => {
            const messages = r.prompt.messages.map((m) => ({
              ...m,
              content: pseudonymize(m.content, table),
            }));
            return {
              ...r.prompt,
              messages,
              promptHash: createHash('sha256').update(JSON.stringify(messages)).digest('hex'),
            };
          })();
    const value: LlmRequestRecord = {
      id: requestId(c.cluster, r.kind, r.subjectId, r.signature),
      ts: r.at,
      cluster: c.cluster,
      subjectKind: r.kind,
      subjectId: r.subjectId,
      signature: r.signature,
      trigger: r.trigger,
      requestedAt: r.at,
      messages: (p?.messages ?? []).map((m) => ({ role: m.role, content: m.content })),
      evidenceIds: p?.evidenceIds ?? [],
      promptHash: p?.promptHash ?? '',
      redactions: (p?.redactions ?? []).map((f) => ({ kind: f.kind, count: f.count })),
      omitted: {
        evidence: p?.omitted.evidence ?? 0,
        signals: p?.omitted.signals ?? 0,
        shortenedTexts: p?.omitted.shortenedTexts ?? 0,
      },
      dataChars: p?.dataChars ?? 0,
      commandId: r.command?.id ?? null,
      issuer: r.command?.issuer ?? null,
      question: r.question ?? null,
      history: (r.history ?? []).map((t) => ({ askedAt: t.askedAt, question: t.question, answer: t.answer })),
      pseudonyms: table.map((t) => ({ token: t.token, name: t.name })),
    };
    ctx.emit(LLM_REQUESTS_TOPIC, { key: requestKey(c.cluster, r.kind, r.subjectId), value, timestamp: r.at });
  }

  /** The names a prompt about this subject may hold: what pseudonymisation hides. */
  function namesOf(c: ClusterState, kind: string, subjectId: string): { kind: NameKind; name: string }[] {
    const out: { kind: NameKind; name: string }[] = [];
    const ns = (n: string | null | undefined) => n && out.push({ kind: 'namespace', name: n });
    const res = (r: { kind: string; namespace?: string | null; name: string } | null | undefined) => {
      if (!r) return;
      ns(r.namespace);
      out.push({ kind: r.kind === 'Pod' ? 'pod' : r.kind === 'Node' ? 'node' : 'workload', name: r.name });
    };
    if (kind === 'error-group') {
      const g = c.groups.get(subjectId)?.group;
      if (g === undefined) return out;
      ns(g.namespace);
      out.push({ kind: 'workload', name: g.workload });
      if (g.bestSample) out.push({ kind: 'pod', name: g.bestSample.pod });
      for (const o of g.occurrences) out.push({ kind: 'pod', name: o.pod });
      return out;
    }
    const e = c.incidents.get(subjectId);
    const inc = e?.incident;
    if (inc) {
      for (const n of inc.namespaces) ns(n);
      for (const n of inc.nodes) out.push({ kind: 'node', name: n });
      for (const w of inc.workloads) res(w);
      for (const s of inc.signals) {
        res(s.resource);
        res(s.workload);
      }
    }
    const rca = e?.rca;
    if (rca) {
      res(rca.rootCause);
      for (const w of rca.blastRadius.workloads) res(w);
      for (const p of rca.blastRadius.pods) res(p);
      for (const n of rca.blastRadius.namespaces) ns(n);
    }
    return out;
  }

  /** Error groups of the incident's workloads, most recently seen first. */
  function groupsFor(c: ClusterState, incident: PlainIncident): PlainErrorGroup[] {
    const names = new Set(incident.workloads.map((w) => `${w.namespace}/${w.name}`));
    return [...c.groups.values()]
      .map((g) => g.group)
      .filter((g) => g.mergedInto === null && names.has(`${g.namespace}/${g.workload}`))
      .sort((a, b) => b.lastSeen - a.lastSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, cfg.groupsPerIncident);
  }

  function promptOf(c: ClusterState, e: IncidentEntry & { incident: PlainIncident }): LlmPrompt {
    return incidentPrompt({
      incident: e.incident,
      rca: e.rca,
      errorGroups: groupsFor(c, e.incident),
      maxChars: cfg.maxPromptChars,
    });
  }

  // ---- incidents ----

  function touch(c: ClusterState, id: string, e: IncidentEntry, ctx: Ctx): void {
    e.seq = ++c.seq;
    // Least recently touched first: re-insert.
    c.incidents.delete(id);
    c.incidents.set(id, e);
    ctx.changed(sk(c.cluster, 'incident:' + id));
  }

  function entryOf(c: ClusterState, id: string): IncidentEntry {
    let e = c.incidents.get(id);
    if (e === undefined) {
      e = {
        seq: 0,
        inFlightAt: null,
        incident: null,
        rca: null,
        dirtyAt: null,
        retryAt: null,
        reason: 'changed',
      };
      c.incidents.set(id, e);
    }
    return e;
  }

  function evict(state: LlmRequestsState, c: ClusterState, ctx: Ctx): void {
    while (c.incidents.size > cfg.maxIncidents) {
      const [id] = c.incidents.keys();
      if (id === undefined) break;
      c.incidents.delete(id);
      c.history.delete(id);
      c.tracker = forgetIncident(c.tracker, id);
      state.dirty.delete(dk(c.cluster, id));
      state.retries.delete(dk(c.cluster, id));
      ctx.changed(sk(c.cluster, 'incident:' + id));
      ctx.changed(sk(c.cluster, 'history:' + id));
    }
    while (c.groups.size > cfg.maxGroups) {
      const [id] = c.groups.keys();
      if (id === undefined) break;
      c.groups.delete(id);
      ctx.changed(sk(c.cluster, 'group:' + id));
    }
  }

  /** Emits the request of a promoted (queued) signature, or releases it when the incident is closed. */
  function promote(c: ClusterState, id: string, settled: IncidentSettledResult, at: number, ctx: Ctx): void {
    c.tracker = settled.state;
    let next = settled.next;
    const e = c.incidents.get(id);
    while (next !== null && (e === undefined || e.incident === null || CLOSED.has(e.incident.status))) {
      const again = incidentFailed(c.tracker, id, next, { sent: false });
      c.tracker = again.state;
      next = again.next;
    }
    if (next === null || e === undefined || e.incident === null) return;
    const incident = e.incident;
    e.inFlightAt = Math.max(at, incident.updatedAt);
    emit(c, ctx, {
      kind: 'incident',
      subjectId: id,
      signature: next,
      trigger: next.includes('~') ? 'regenerate' : 'changed',
      at: Math.max(at, incident.updatedAt),
      prompt: promptOf(c, { ...e, incident }),
    });
  }

  /** Looks at an incident's completed change: requests its signature when it is new. */
  function look(state: LlmRequestsState, c: ClusterState, id: string, ctx: Ctx): void {
    const e = c.incidents.get(id);
    state.dirty.delete(dk(c.cluster, id));
    if (e === undefined || e.dirtyAt === null) return;
    const at = e.dirtyAt;
    const trigger = e.reason;
    e.dirtyAt = null;
    e.reason = 'changed';
    touch(c, id, e, ctx);
    const incident = e.incident;
    if (incident === null || CLOSED.has(incident.status)) return;
    const signature = incidentSignature(incident, e.rca);
    const decision = shouldRequestIncident(c.tracker, id, signature);
    c.tracker = decision.state;
    if (decision.decision !== 'request') return;
    e.inFlightAt = at;
    emit(c, ctx, {
      kind: 'incident',
      subjectId: id,
      signature,
      trigger,
      at,
      prompt: promptOf(c, { ...e, incident }),
    });
  }

  function markDirty(
    state: LlmRequestsState,
    c: ClusterState,
    id: string,
    e: IncidentEntry,
    at: number,
  ): void {
    e.dirtyAt = e.dirtyAt === null ? at : Math.max(e.dirtyAt, at);
    state.dirty.add(dk(c.cluster, id));
    state.dirtyFrom = Math.min(state.dirtyFrom ?? -Infinity, e.dirtyAt);
  }

  function onIncident(
    state: LlmRequestsState,
    input: Extract<LlmRequestsInput, { type: 'incident' }>,
    at: number,
    ctx: Ctx,
  ): void {
    const c = clusterOf(state, input.cluster);
    if (input.value === null) {
      forget(state, c, input.id, 'incident', at, ctx);
      return;
    }
    const e = entryOf(c, input.id);
    e.incident = plainIncident(input.value);
    markDirty(state, c, input.id, e, input.value.updatedAt);
    touch(c, input.id, e, ctx);
    evict(state, c, ctx);
  }

  function onRca(state: LlmRequestsState, input: Extract<LlmRequestsInput, { type: 'rca' }>, ctx: Ctx): void {
    const c = clusterOf(state, input.cluster);
    const e = c.incidents.get(input.id);
    if (e === undefined) {
      if (input.value === null) return;
      // The report came first (should not happen): keep it for the incident.
      const fresh = entryOf(c, input.id);
      fresh.rca = plainRca(input.value);
      touch(c, input.id, fresh, ctx);
      evict(state, c, ctx);
      return;
    }
    e.rca = input.value === null ? null : plainRca(input.value);
    touch(c, input.id, e, ctx);
    // The report of the change's own instant completes it.
    if (input.value !== null && e.dirtyAt !== null && input.value.ts >= e.dirtyAt)
      look(state, c, input.id, ctx);
  }

  function forget(
    state: LlmRequestsState,
    c: ClusterState,
    id: string,
    kind: 'incident' | 'error-group',
    at: number,
    ctx: Ctx,
  ): void {
    if (kind === 'incident') {
      if (!c.incidents.has(id)) return;
      c.incidents.delete(id);
      c.history.delete(id);
      c.tracker = forgetIncident(c.tracker, id);
      state.dirty.delete(dk(c.cluster, id));
      state.retries.delete(dk(c.cluster, id));
      ctx.changed(sk(c.cluster, 'incident:' + id));
      ctx.changed(sk(c.cluster, 'history:' + id));
    } else {
      if (!c.groups.has(id)) return;
      c.groups.delete(id);
      ctx.changed(sk(c.cluster, 'group:' + id));
    }
    emit(c, ctx, { kind, subjectId: id, signature: 'deleted', trigger: 'deleted', at, prompt: null });
  }

  // ---- error groups ----

  function onGroup(
    state: LlmRequestsState,
    input: Extract<LlmRequestsInput, { type: 'group' }>,
    at: number,
    ctx: Ctx,
  ): void {
    const c = clusterOf(state, input.cluster);
    if (input.value === null) {
      forget(state, c, input.id, 'error-group', at, ctx);
      return;
    }
    const prev = c.groups.get(input.id)?.group ?? null;
    const next = plainErrorGroup(input.value);
    c.groups.delete(input.id);
    c.groups.set(input.id, { seq: ++c.seq, group: next });
    ctx.changed(sk(c.cluster, 'group:' + input.id));
    evict(state, c, ctx);
    const trigger = errorGroupTrigger(prev, next);
    if (trigger === null) return;
    const allowed = shouldRequestErrorGroup(c.tracker, input.id, at, cfg.errorGroupIntervalMs);
    c.tracker = allowed.state;
    if (!allowed.allowed) return;
    emit(c, ctx, {
      kind: 'error-group',
      subjectId: input.id,
      signature: `${trigger}@${at}`,
      trigger,
      at,
      prompt: errorGroupPrompt({ group: next, maxChars: cfg.maxPromptChars }),
    });
  }

  // ---- outcomes ----

  function onAnalysis(state: LlmRequestsState, a: LlmAnalysisRecord, at: number, ctx: Ctx): void {
    const c = state.clusters.get(a.cluster);
    if (c === undefined) return;
    if (a.subjectKind === 'incident') {
      const e = c.incidents.get(a.subjectId);
      if (e === undefined) return;
      const track = c.tracker.incidents[a.subjectId];
      const sent = a.status !== 'refused' && a.sent;
      if (track === undefined || track.inFlight !== a.signature) {
        // An outcome this run did not ask for (a replay over the worker's answers): its story
        // counts as sent, and an older call in flight is superseded (the worker skips it).
        if (sent) c.tracker = incidentSeen(c.tracker, a.subjectId, a.signature);
        const inFlight = c.tracker.incidents[a.subjectId]?.inFlight ?? null;
        if (inFlight !== null && e.inFlightAt !== null && e.inFlightAt <= a.requestedAt) {
          e.inFlightAt = null;
          promote(c, a.subjectId, incidentAnswered(c.tracker, a.subjectId, inFlight), at, ctx);
        }
        touch(c, a.subjectId, e, ctx);
        return;
      }
      const settled =
        a.status === 'recorded'
          ? incidentAnswered(c.tracker, a.subjectId, a.signature)
          : incidentFailed(c.tracker, a.subjectId, a.signature, { sent });
      e.inFlightAt = null;
      if (a.status === 'refused' && a.resumesAt !== null) {
        e.retryAt = a.resumesAt;
        state.retries.add(dk(c.cluster, a.subjectId));
        state.retryFrom = Math.min(state.retryFrom ?? -Infinity, a.resumesAt);
      }
      touch(c, a.subjectId, e, ctx);
      promote(c, a.subjectId, settled, at, ctx);
      return;
    }
    if (a.subjectKind === 'error-group') {
      if (a.status !== 'recorded' && !(a.status === 'failed' && a.sent)) {
        c.tracker = errorGroupFailed(c.tracker, a.subjectId, a.requestedAt, { sent: false });
        const g = c.groups.get(a.subjectId);
        if (g !== undefined) ctx.changed(sk(c.cluster, 'group:' + a.subjectId));
      }
      return;
    }
    if (a.subjectKind === 'question' && a.status === 'recorded' && a.answer !== null) {
      if (!c.incidents.has(a.subjectId)) return;
      const turns = [...(c.history.get(a.subjectId) ?? [])];
      turns.push({ askedAt: a.requestedAt, question: a.answer.question, answer: a.answer.answer });
      c.history.set(a.subjectId, turns.slice(-MAX_HISTORY_TURNS));
      ctx.changed(sk(c.cluster, 'history:' + a.subjectId));
    }
  }

  // ---- commands ----

  function seen(c: ClusterState, id: string, ctx: Ctx): boolean {
    if (c.commands.includes(id)) return true;
    c.commands.push(id);
    if (c.commands.length > cfg.rememberedCommands)
      c.commands.splice(0, c.commands.length - cfg.rememberedCommands);
    ctx.changed(sk(c.cluster, 'meta'));
    return false;
  }

  function onAsk(state: LlmRequestsState, input: Extract<LlmRequestsInput, { type: 'ask' }>, ctx: Ctx): void {
    const c = clusterOf(state, input.cluster);
    if (seen(c, input.command.id, ctx)) return;
    const e = c.incidents.get(input.incidentId);
    if (e === undefined || e.incident === null) return;
    const history = c.history.get(input.incidentId) ?? [];
    const prompt = questionPrompt({
      incident: e.incident,
      rca: e.rca,
      errorGroups: groupsFor(c, e.incident),
      question: input.question,
      history,
      maxChars: cfg.maxPromptChars,
    });
    // What is stored of the question is what was sent: its redacted text.
    const sentQuestion = redactedQuestion(prompt);
    emit(c, ctx, {
      kind: 'question',
      subjectId: input.incidentId,
      signature: input.command.id,
      trigger: 'ask',
      at: input.command.ts,
      prompt,
      command: input.command,
      question: sentQuestion,
      history: history.slice(-MAX_HISTORY_TURNS),
    });
  }

  function onRegenerate(
    state: LlmRequestsState,
    input: Extract<LlmRequestsInput, { type: 'regenerate' }>,
    ctx: Ctx,
  ): void {
    const c = clusterOf(state, input.cluster);
    if (seen(c, input.command.id, ctx)) return;
    for (const id of input.command.targetIds) {
      const e = c.incidents.get(id);
      if (e === undefined || e.incident === null) continue;
      const incident = e.incident;
      const signature = `${incidentSignature(incident, e.rca)}~${input.command.id}`;
      const decision = shouldRequestIncident(c.tracker, id, signature);
      c.tracker = decision.state;
      touch(c, id, e, ctx);
      if (decision.decision !== 'request') continue;
      e.inFlightAt = input.command.ts;
      emit(c, ctx, {
        kind: 'incident',
        subjectId: id,
        signature,
        trigger: 'regenerate',
        at: input.command.ts,
        prompt: promptOf(c, { ...e, incident }),
        command: input.command,
      });
    }
  }

  // ---- time ----

  /** Looks at every change of an earlier instant, and at refused incidents whose day has turned. */
  function advance(state: LlmRequestsState, t: number, ctx: Ctx): void {
    // Nothing dirty before t and no retry at or before t: nothing to look at (most records).
    if (t <= (state.dirtyFrom ?? -Infinity) && t < (state.retryFrom ?? -Infinity)) return;
    advanceAll(state, t, ctx);
    state.dirtyFrom = earliest(state, state.dirty, 'dirtyAt');
    state.retryFrom = earliest(state, state.retries, 'retryAt');
  }

  /** The earliest `field` of the incidents keyed in `keys` (`<cluster>\u0000<id>`); ∞ when none. */
  function earliest(state: LlmRequestsState, keys: Set<string>, field: 'dirtyAt' | 'retryAt'): number {
    let min = Infinity;
    for (const d of keys) {
      const [cluster, id] = d.split('\u0000') as [string, string];
      const at = state.clusters.get(cluster)?.incidents.get(id)?.[field];
      if (at !== undefined && at !== null && at < min) min = at;
    }
    return min;
  }

  function advanceAll(state: LlmRequestsState, t: number, ctx: Ctx): void {
    if (state.dirty.size > 0) {
      const due: [string, string][] = [];
      for (const d of state.dirty) {
        const [cluster, id] = d.split('\u0000') as [string, string];
        const e = state.clusters.get(cluster)?.incidents.get(id);
        if (e === undefined || e.dirtyAt === null) state.dirty.delete(d);
        else if (e.dirtyAt < t) due.push([cluster, id]);
      }
      due.sort(([ca, ia], [cb, ib]) => {
        const ea = state.clusters.get(ca)!.incidents.get(ia)!;
        const eb = state.clusters.get(cb)!.incidents.get(ib)!;
        return ea.dirtyAt! - eb.dirtyAt! || ea.seq - eb.seq;
      });
      for (const [cluster, id] of due) look(state, state.clusters.get(cluster)!, id, ctx);
    }
    if (state.retries.size > 0) {
      for (const d of [...state.retries].sort()) {
        const [cluster, id] = d.split('\u0000') as [string, string];
        const c = state.clusters.get(cluster);
        const e = c?.incidents.get(id);
        if (c === undefined || e === undefined || e.retryAt === null) {
          state.retries.delete(d);
          continue;
        }
        if (e.retryAt > t) continue;
        state.retries.delete(d);
        const at = e.retryAt;
        e.retryAt = null;
        e.reason = 'retry';
        markDirty(state, c, id, e, at);
        look(state, c, id, ctx);
      }
    }
  }

  function process(state: LlmRequestsState, input: LlmRequestsInput, ctx: StatefulContext): void {
    settle(state);
    advance(state, ctx.timestamp, ctx);
    switch (input.type) {
      case 'time':
        return;
      case 'incident':
        onIncident(state, input, ctx.timestamp, ctx);
        return;
      case 'rca':
        onRca(state, input, ctx);
        return;
      case 'group':
        onGroup(state, input, ctx.timestamp, ctx);
        return;
      case 'analysis':
        onAnalysis(state, input.value, ctx.timestamp, ctx);
        return;
      case 'ask':
        onAsk(state, input, ctx);
        return;
      case 'regenerate':
        onRegenerate(state, input, ctx);
        return;
    }
  }

  // ---- changelog ----

  function snapshot(state: LlmRequestsState, key: string): Buffer | null {
    settle(state);
    const bar = key.indexOf('|');
    const c = state.clusters.get(key.slice(0, bar));
    if (c === undefined) return null;
    const sub = key.slice(bar + 1);
    const json = (v: object) => Buffer.from(JSON.stringify({ v: 1, ...v }));
    const colon = sub.indexOf(':');
    const kind = colon < 0 ? sub : sub.slice(0, colon);
    const id = colon < 0 ? '' : sub.slice(colon + 1);
    switch (kind) {
      case 'meta':
        return json({ seq: c.seq, commands: c.commands });
      case 'incident': {
        const e = c.incidents.get(id);
        if (e === undefined) return null;
        return json({ ...e, track: c.tracker.incidents[id] ?? null });
      }
      case 'group': {
        const g = c.groups.get(id);
        if (g === undefined) return null;
        return json({ ...g, last: c.tracker.groups[id] ?? null });
      }
      case 'history': {
        const turns = c.history.get(id);
        return turns === undefined ? null : json({ turns });
      }
      default:
        throw new LlmRequestsStateError(`Unknown llm-requests state key ${JSON.stringify(key)}.`);
    }
  }

  function restore(state: LlmRequestsState, key: string, value: Buffer | null): void {
    (state.restoring ??= new Map()).set(key, value);
  }

  /** Builds the state from restored records, in the order they were kept. */
  function settle(state: LlmRequestsState): void {
    const r = state.restoring;
    if (r === null) return;
    state.restoring = null;
    const items = new Map<string, [string, string, Record<string, unknown>][]>();
    for (const [key, value] of r) {
      if (value === null) continue;
      const bar = key.indexOf('|');
      const cluster = key.slice(0, bar);
      const sub = key.slice(bar + 1);
      const o = JSON.parse(value.toString('utf8')) as { v: number } & Record<string, unknown>;
      if (o.v !== 1)
        throw new LlmRequestsStateError(`Cannot restore llm-requests state: ${key} has version ${o.v}.`);
      const colon = sub.indexOf(':');
      const list = items.get(cluster) ?? [];
      list.push([colon < 0 ? sub : sub.slice(0, colon), colon < 0 ? '' : sub.slice(colon + 1), o]);
      items.set(cluster, list);
    }
    for (const [cluster, list] of [...items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const c = newCluster(cluster);
      const incidents: Record<string, IncidentTrack> = {};
      const groups: [string, number][] = [];
      const bySeq = (kind: string) =>
        list
          .filter(([k]) => k === kind)
          .sort(([, ia, a], [, ib, b]) => (a['seq'] as number) - (b['seq'] as number) || (ia < ib ? -1 : 1));
      for (const [kind, , o] of list) {
        if (kind !== 'meta') continue;
        c.seq = o['seq'] as number;
        c.commands = o['commands'] as string[];
      }
      for (const [, id, o] of bySeq('incident')) {
        const e: IncidentEntry = {
          seq: o['seq'] as number,
          inFlightAt: typeof o['inFlightAt'] === 'number' ? o['inFlightAt'] : null,
          incident: o['incident'] as PlainIncident | null,
          rca: o['rca'] as PlainRca | null,
          dirtyAt: o['dirtyAt'] as number | null,
          retryAt: o['retryAt'] as number | null,
          reason: o['reason'] === 'retry' ? 'retry' : 'changed',
        };
        c.incidents.set(id, e);
        const track = o['track'] as IncidentTrack | null;
        if (track !== null) incidents[id] = track;
        if (e.dirtyAt !== null) state.dirty.add(dk(cluster, id));
        if (e.retryAt !== null) state.retries.add(dk(cluster, id));
      }
      for (const [, id, o] of bySeq('group')) {
        c.groups.set(id, { seq: o['seq'] as number, group: o['group'] as PlainErrorGroup });
        if (typeof o['last'] === 'number') groups.push([id, o['last']]);
      }
      for (const [kind, id, o] of list)
        if (kind === 'history') c.history.set(id, o['turns'] as QuestionTurn[]);
      groups.sort(([ia, a], [ib, b]) => a - b || (ia < ib ? -1 : 1));
      c.tracker = { incidents, groups: Object.fromEntries(groups) };
      state.clusters.set(cluster, c);
    }
  }

  // ---- input ----

  /**
   * Nearly every record is a feed record of another source than the error groups: its only use here
   * is its time, given without decoding anything (and without a promise).
   */
  function decodeInput(record: LogRecord): Promise<LlmRequestsInput> | LlmRequestsInput {
    switch (record.topic) {
      case INCIDENTS_TOPIC:
      case RCA_TOPIC:
      case LLM_ANALYSES_TOPIC:
      case COMMANDS_TOPIC:
        return decodeFully(record);
      default:
        return sourceTopicOf(record) === ERROR_GROUPS_SOURCE ? decodeFully(record) : { type: 'time' };
    }
  }

  async function decodeFully(record: LogRecord): Promise<LlmRequestsInput> {
    const key = record.key?.toString('utf8') ?? '';
    switch (record.topic) {
      case INCIDENTS_TOPIC:
      case RCA_TOPIC: {
        const { cluster, rest } = splitKey(key);
        const type = record.topic === INCIDENTS_TOPIC ? 'incident' : 'rca';
        if (record.value === null) return { type, cluster, id: rest, value: null } as LlmRequestsInput;
        const value = (await deps.decode(record.topic, record.value)) as IncidentRecord & RcaRecord;
        const id = type === 'incident' ? value.id : value.incidentId;
        return { type, cluster: value.cluster, id, value } as LlmRequestsInput;
      }
      case LLM_ANALYSES_TOPIC: {
        if (record.value === null) return { type: 'time' };
        const value = (await deps.decode(record.topic, record.value)) as LlmAnalysisRecord;
        return { type: 'analysis', value };
      }
      case COMMANDS_TOPIC:
        return decodeCommandInput(record, key);
      default: {
        // A feed record of the error groups (`decodeInput` answers the others itself).
        const src = sourceOf(record);
        const { cluster, rest } = splitKey(src.key ?? key);
        if (record.value === null) return { type: 'group', cluster, id: rest, value: null };
        const value = (await deps.decode(src.topic, record.value)) as ErrorGroupRecord;
        return { type: 'group', cluster: value.cluster, id: value.id, value };
      }
    }
  }

  async function decodeCommandInput(record: LogRecord, key: string): Promise<LlmRequestsInput> {
    if (record.value === null) return { type: 'time' };
    const command = await deps.decodeCommand(record);
    if (command.type !== ASK_COMMAND && command.type !== REGENERATE_COMMAND) return { type: 'time' };
    const where = `Command ${command.id} (${command.type})`;
    if (command.id === '') throw new LlmCommandError(`Command ${command.type} has no id.`);
    if (command.targetIds.length === 0) throw new LlmCommandError(`${where} names no incident in targetIds.`);
    if (command.type === REGENERATE_COMMAND) return { type: 'regenerate', cluster: key, command };
    if (command.targetIds.length !== 1)
      throw new LlmCommandError(`${where} must name exactly one incident in targetIds.`);
    let payload: unknown;
    try {
      payload = JSON.parse(command.payload);
    } catch {
      throw new LlmCommandError(`${where} has a payload that is not JSON.`);
    }
    const question = (payload as { question?: unknown } | null)?.question;
    if (typeof question !== 'string' || question.trim() === '')
      throw new LlmCommandError(`${where} needs a question: payload {"question": "…"}.`);
    if (question.length > MAX_QUESTION_CHARS)
      throw new LlmCommandError(
        `${where} asks a question of ${question.length} characters; at most ${MAX_QUESTION_CHARS} are allowed.`,
      );
    return {
      type: 'ask',
      cluster: key,
      command,
      incidentId: command.targetIds[0]!,
      question: question.trim(),
    };
  }

  return {
    name: LLM_REQUESTS_PROCESSOR,
    inputs: [CLUSTER_FEED_TOPIC, INCIDENTS_TOPIC, RCA_TOPIC, COMMANDS_TOPIC, LLM_ANALYSES_TOPIC],
    changelogTopic: LLM_REQUESTS_CHANGELOG,
    decodeInput,
    init: () => ({ clusters: new Map(), dirty: new Set(), retries: new Set(), restoring: null }),
    restore,
    process,
    snapshot,
  };
}

/** The question as it went into the prompt: the JSON string after the data block, redacted. */
function redactedQuestion(prompt: LlmPrompt): string {
  const user = prompt.messages[1]?.content ?? '';
  const marker = "The operator's question (a JSON string): ";
  const at = user.lastIndexOf(marker);
  if (at === -1) return '';
  const line = user.slice(
    at + marker.length,
    user.indexOf('\n', at) === -1 ? undefined : user.indexOf('\n', at),
  );
  try {
    return JSON.parse(line) as string;
  } catch {
    return '';
  }
}
