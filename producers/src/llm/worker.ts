/**
 * The LLM worker (SPEC §7, LLM part; DESIGN §3 "slow work leaves the consumer loop"; docs/llm.md):
 * its own role, not a processor. It reads "analysis requested" records (`LlmRequest`,
 * `hetu.llm.requests`) as a single-task consumer group, calls the model one request at a time,
 * and records each outcome (`LlmAnalysis`, `hetu.facts.llm-analyses`) together with the day's
 * usage and audit (`LlmUsage`, `hetu.facts.llm-usage`) in the batch that commits its position.
 *
 * - On start it restores the budget (the newest day of `hetu.facts.llm-usage`) and what was
 *   already answered (`hetu.facts.llm-analyses`): a request whose (subject, signature) has an
 *   outcome, or whose subject has an outcome of a later request, is skipped without a call, so a
 *   replay over a log that holds the answers makes no calls.
 * - The budget is per UTC day of the wall clock at call time (when the money is spent): input and
 *   output tokens of every call path, failed calls that reached the server included (their input
 *   estimated, per attempt). At the budget a request is recorded as `refused` with `resumesAt`
 *   and nothing is sent.
 * - A server that reports fewer than half the tokens the text's length implies (characters ÷ 4) is
 *   not believed: the estimate is counted and the outcome says `estimated`.
 * - A hanging model stalls only this worker: every other stage has its own subscription. The
 *   client's timeout (60 s per attempt, 2 retries, circuit breaker) bounds each call; `close()`
 *   aborts a running call, and its request is read again on the next start.
 * - An outcome computed for a batch that then fails to commit (e.g. the registry is unreachable)
 *   is kept and reused when the batch is retried: a retry does not call the model again.
 */
import type { Serde } from '@hetu/schemas';
import {
  avroDeadLetterEncoder,
  deadLetterOf,
  isBadInput,
  isTransient,
  type AppendRecord,
  type Log,
  type LogRecord,
  type Subscription,
} from '@hetu/streams';
import {
  LLM_ANALYSES_TOPIC,
  LLM_REQUESTS_TOPIC,
  LLM_USAGE_TOPIC,
  analysisKey,
  budgetDecision,
  emptyUsage,
  parseErrorGroupAnswer,
  parseIncidentAnswer,
  parseQuestionAnswer,
  plainValue,
  reveal,
  recordUsage,
  type IncidentAnalysis,
  type LlmAnalysisRecord,
  type LlmRequestRecord,
  type LlmUsageRecord,
  type UsageEntry,
  type UsageState,
} from '@hetu/processors/llm';
import {
  LlmError,
  estimateInputTokens,
  estimateTokens,
  type BreakerStatus,
  type LlmClient,
  type LlmCompletion,
} from './client.ts';

export const LLM_WORKER_GROUP = 'llm-worker';

type IncidentAnalysisRecord = NonNullable<LlmAnalysisRecord['incident']>;

export interface LlmWorkerEvents {
  /** After an outcome was committed. */
  outcome?(o: { readonly request: LlmRequestRecord; readonly analysis: LlmAnalysisRecord }): void;
  /** A request was skipped without a call (committed). */
  skipped?(o: { readonly request: LlmRequestRecord; readonly why: 'answered' | 'superseded' }): void;
  /** After the start-up restore. */
  restored?(o: { readonly analyses: number; readonly day: string | null; readonly used: number }): void;
}

export interface LlmWorkerOptions {
  readonly log: Log;
  readonly serde: Serde;
  readonly client: LlmClient;
  /** The configured model: named in outcomes and audit entries when no server answered. */
  readonly model: string;
  /** Daily budget, input + output tokens. */
  readonly dailyTokens: number;
  /** `max_tokens` of every call: part of the estimate a call is admitted with. */
  readonly maxOutputTokens: number;
  /** Wall clock for budget days and `answeredAt` (default Date.now); tests inject theirs. */
  readonly now?: () => number;
  /** Consumer group (default `llm-worker`). */
  readonly group?: string;
  /** Requests per committed batch (default 1: every outcome commits before the next call). */
  readonly maxBatchRecords?: number;
  readonly events?: LlmWorkerEvents;
}

export interface LlmWorkerStatus {
  /** Calls made (requests sent to the model) since start. */
  readonly calls: number;
  readonly recorded: number;
  readonly failed: number;
  readonly refused: number;
  readonly skipped: number;
  readonly deleted: number;
  readonly usage: UsageState;
  readonly dailyTokens: number;
  readonly breaker: BreakerStatus;
  /** True while a call is running. */
  readonly busy: boolean;
}

export interface LlmWorker {
  /** Restores budget and answers from the log, then subscribes. */
  start(): Promise<Subscription>;
  /** Resolves once every request appended before the call has an outcome (or was skipped). */
  whenCaughtUp(timeoutMs?: number): Promise<void>;
  status(): LlmWorkerStatus;
  /** Aborts a running call and stops. Idempotent. */
  close(): Promise<void>;
}

interface Answered {
  readonly signature: string;
  readonly requestedAt: number;
}

interface Outcome {
  readonly analysis: LlmAnalysisRecord;
  readonly usage: UsageEntry | null;
  readonly called: boolean;
}

const REFUSAL_CODES = {
  exhausted: ['budget-exhausted', 'HETU_LLM_BUDGET_EXHAUSTED'],
  'too-large': ['too-large', 'HETU_LLM_TOO_LARGE'],
} as const;

function reasonOf(code: string): string {
  if (code === 'HETU_LLM_TIMEOUT') return 'timeout';
  if (code === 'HETU_LLM_UNAVAILABLE') return 'unavailable';
  if (code === 'HETU_LLM_CIRCUIT_OPEN') return 'circuit-open';
  if (code === 'HETU_LLM_BAD_RESPONSE') return 'bad-response';
  if (code === 'HETU_LLM_ABORTED') return 'aborted';
  const http = /^HETU_LLM_HTTP_(\d{3})$/.exec(code);
  if (http) return `http-${http[1]}`;
  return code
    .toLowerCase()
    .replace(/^hetu_llm_/, '')
    .replaceAll('_', '-');
}

/** Reported tokens, unless implausibly few for the text: then the estimate. */
function believed(reported: number, estimate: number): { tokens: number; estimated: boolean } {
  if (reported * 2 < estimate) return { tokens: estimate, estimated: true };
  return { tokens: reported, estimated: false };
}

function incidentRecord(a: IncidentAnalysis): IncidentAnalysisRecord {
  const clean = plainValue(a);
  return {
    summary: clean.summary,
    rootCause: {
      description: clean.rootCause.description,
      confidence: clean.rootCause.confidence,
      resource:
        clean.rootCause.resource === undefined
          ? null
          : {
              kind: clean.rootCause.resource.kind,
              namespace: clean.rootCause.resource.namespace,
              name: clean.rootCause.resource.name,
            },
    },
    contributingFactors: clean.contributingFactors,
    blastRadius: {
      workloads: clean.blastRadius.workloads,
      pods: clean.blastRadius.pods,
      namespaces: clean.blastRadius.namespaces,
    },
    remediation: clean.remediation.map((r) => ({
      step: r.step,
      risk: r.risk,
      automatable: r.automatable,
      effort: r.effort,
    })),
    preventiveMeasures: clean.preventiveMeasures,
    evidenceIds: clean.evidenceIds,
  };
}

/** The usage fold as its Avro record. */
export function usageRecord(usage: UsageState, dailyTokens: number, at: number): LlmUsageRecord {
  return {
    ts: at,
    day: usage.day ?? '',
    inputTokens: BigInt(usage.inputTokens),
    outputTokens: BigInt(usage.outputTokens),
    calls: usage.calls,
    limit: BigInt(dailyTokens),
    audit: usage.audit.map((e) => ({
      at: e.atMs,
      requestId: e.requestId ?? '',
      subjectKind: e.kind,
      subjectId: e.subjectId ?? '',
      model: e.model,
      inputTokens: e.inputTokens,
      outputTokens: e.outputTokens,
      estimated: e.estimated ?? false,
      status: e.status ?? 'recorded',
      promptHash: e.promptHash,
      redactions: (e.redactions ?? []).map((r) => ({ kind: r.kind, count: r.count })),
    })),
    auditDropped: usage.auditDropped,
  };
}

/** The usage fold a `LlmUsage` record holds. */
export function usageFromRecord(r: LlmUsageRecord): UsageState {
  return {
    day: r.day,
    inputTokens: Number(r.inputTokens),
    outputTokens: Number(r.outputTokens),
    calls: r.calls,
    audit: r.audit.map((e) => ({
      atMs: e.at,
      inputTokens: e.inputTokens,
      outputTokens: e.outputTokens,
      model: e.model,
      promptHash: e.promptHash,
      kind: e.subjectKind,
      requestId: e.requestId,
      subjectId: e.subjectId,
      estimated: e.estimated,
      status: e.status,
      redactions: e.redactions.map((x) => ({ kind: x.kind, count: x.count })),
    })),
    auditDropped: r.auditDropped,
  };
}

/** Creates the worker; nothing is read or sent before `start()`. */
export function createLlmWorker(options: LlmWorkerOptions): LlmWorker {
  const { log, serde, client } = options;
  const now = options.now ?? Date.now;
  const group = options.group ?? LLM_WORKER_GROUP;
  const events = options.events ?? {};
  const abort = new AbortController();
  const encodeDeadLetter = avroDeadLetterEncoder(serde);

  /** Latest outcome per analysis key; every (key, signature) with an outcome. */
  const latest = new Map<string, Answered>();
  const answered = new Set<string>();
  /** Question keys per `<cluster>/<incident id>`, to delete them with the incident. */
  const questions = new Map<string, Set<string>>();
  let usage: UsageState = emptyUsage();
  /** Outcomes computed for a batch that did not commit, by request id. */
  const computed = new Map<string, Outcome>();
  const counts = { calls: 0, recorded: 0, failed: 0, refused: 0, skipped: 0, deleted: 0 };
  let busy = false;
  let closing = false;
  let subscription: Subscription | undefined;

  const pairKey = (key: string, signature: string) => key + '\u0000' + signature;
  const incidentOf = (cluster: string, id: string) => `${cluster}/${id}`;

  function remember(a: {
    cluster: string;
    subjectKind: string;
    subjectId: string;
    id: string;
    signature: string;
    requestedAt: number;
  }): void {
    const key = analysisKey(a.cluster, a.subjectKind, a.subjectId, a.id);
    const prev = latest.get(key);
    if (prev === undefined || prev.requestedAt <= a.requestedAt)
      latest.set(key, { signature: a.signature, requestedAt: a.requestedAt });
    answered.add(pairKey(key, a.signature));
    if (a.subjectKind === 'question') {
      const k = incidentOf(a.cluster, a.subjectId);
      let set = questions.get(k);
      if (set === undefined) questions.set(k, (set = new Set()));
      set.add(key);
    }
  }

  async function readTopic(topic: string, each: (r: LogRecord) => Promise<void>): Promise<void> {
    const [info] = await log.describeTopics([topic]);
    if (info === undefined) return;
    for (const p of info.partitions) {
      let from = p.low;
      while (from < p.high) {
        const chunk = await log.read(topic, p.partition, {
          fromOffset: from,
          toOffset: p.high,
          maxRecords: 5_000,
        });
        if (chunk.length === 0) break;
        for (const r of chunk) await each(r);
        from = chunk[chunk.length - 1]!.offset + 1n;
      }
    }
  }

  async function restore(): Promise<void> {
    let n = 0;
    await readTopic(LLM_ANALYSES_TOPIC, async (r) => {
      if (r.value === null) return;
      const a = await serde.decode(r.value, 'LlmAnalysis');
      remember(a);
      n++;
    });
    let newest: LlmUsageRecord | null = null;
    await readTopic(LLM_USAGE_TOPIC, async (r) => {
      if (r.value === null) return;
      const u = await serde.decode(r.value, 'LlmUsage');
      if (newest === null || u.day >= newest.day) newest = u;
    });
    if (newest !== null) usage = usageFromRecord(newest);
    events.restored?.({ analyses: n, day: usage.day, used: usage.inputTokens + usage.outputTokens });
  }

  function baseOf(req: LlmRequestRecord, at: number): Omit<LlmAnalysisRecord, 'status'> {
    return {
      id: req.id,
      ts: req.requestedAt,
      cluster: req.cluster,
      subjectKind: req.subjectKind,
      subjectId: req.subjectId,
      signature: req.signature,
      trigger: req.trigger,
      requestedAt: req.requestedAt,
      reason: null,
      code: null,
      message: null,
      resumesAt: null,
      incident: null,
      errorGroup: null,
      answer: null,
      citationsValid: true,
      unknownCitations: [],
      raw: null,
      model: options.model,
      inputTokens: 0,
      outputTokens: 0,
      estimated: false,
      attempts: 0,
      sent: false,
      promptHash: req.promptHash,
      answeredAt: at,
    };
  }

  function entryOf(
    req: LlmRequestRecord,
    at: number,
    model: string,
    inputTokens: number,
    outputTokens: number,
    estimated: boolean,
    status: 'recorded' | 'failed',
  ): UsageEntry {
    return {
      atMs: at,
      inputTokens,
      outputTokens,
      model,
      promptHash: req.promptHash,
      kind: req.subjectKind,
      requestId: req.id,
      subjectId: req.subjectId,
      estimated,
      status,
      redactions: req.redactions.map((r) => ({ kind: r.kind, count: r.count })),
    };
  }

  /** The typed answer of a completion, or an `invalid` failure with the raw text. */
  function judge(
    req: LlmRequestRecord,
    completion: LlmCompletion,
    base: Omit<LlmAnalysisRecord, 'status'>,
  ): LlmAnalysisRecord {
    // Pseudonymised prompt: the answer's tokens become the names again before anything is kept.
    const c = { ...completion, text: reveal(completion.text, req.pseudonyms ?? []) };
    const invalid = (detail: string, raw: string): LlmAnalysisRecord => ({
      ...base,
      status: 'failed',
      reason: 'invalid',
      code: 'HETU_LLM_INVALID_ANSWER',
      message: `The model's answer was not used: ${detail} The raw text is kept.`,
      raw,
    });
    if (req.subjectKind === 'incident') {
      const p = parseIncidentAnswer(c.text, req.evidenceIds);
      if (!p.ok) return invalid(p.detail, p.raw);
      return {
        ...base,
        status: 'recorded',
        incident: incidentRecord(p.analysis),
        citationsValid: p.citationsValid,
        unknownCitations: plainValue(p.unknownCitations),
      };
    }
    if (req.subjectKind === 'error-group') {
      const p = parseErrorGroupAnswer(c.text);
      if (!p.ok) return invalid(p.detail, p.raw);
      const a = plainValue(p.analysis);
      return {
        ...base,
        status: 'recorded',
        errorGroup: {
          rootCause: a.rootCause,
          impact: a.impact,
          fix: a.fix,
          severity: a.severity,
          confidence: a.confidence,
        },
      };
    }
    const p = parseQuestionAnswer(c.text, req.evidenceIds);
    if (!p.ok) return invalid(p.detail, p.raw);
    return {
      ...base,
      status: 'recorded',
      answer: {
        question: req.question ?? '',
        answer: plainValue(p.analysis.answer),
        evidenceIds: p.analysis.evidenceIds,
      },
      citationsValid: p.citationsValid,
      unknownCitations: plainValue(p.unknownCitations),
    };
  }

  /** Decides and, when allowed, calls: the outcome of one request. Throws only when aborted. */
  async function answer(req: LlmRequestRecord, current: UsageState): Promise<Outcome> {
    const started = now();
    const messages = req.messages.map((m) => ({
      role: m.role === 'system' ? ('system' as const) : ('user' as const),
      content: m.content,
    }));
    const estimateIn = estimateInputTokens(messages);
    const decision = budgetDecision(
      current,
      started,
      options.dailyTokens,
      estimateIn + options.maxOutputTokens,
    );
    if (!decision.allowed) {
      const [reason, code] = REFUSAL_CODES[decision.code];
      return {
        analysis: {
          ...baseOf(req, started),
          status: 'refused',
          reason,
          code,
          message: decision.reason,
          resumesAt: decision.resumesAt,
        },
        usage: null,
        called: false,
      };
    }
    busy = true;
    try {
      const c = await client.complete(messages, { signal: abort.signal });
      const at = now();
      const inTok = believed(c.inputTokens, estimateIn);
      const outTok = believed(c.outputTokens, estimateTokens(c.text));
      const estimated = c.estimated || inTok.estimated || outTok.estimated;
      const base = {
        ...baseOf(req, at),
        model: c.model,
        inputTokens: inTok.tokens,
        outputTokens: outTok.tokens,
        estimated,
        attempts: c.attempts,
        sent: true,
      };
      const analysis = judge(req, c, base);
      const status = analysis.status === 'recorded' ? 'recorded' : 'failed';
      return {
        analysis,
        usage: entryOf(req, at, c.model, inTok.tokens, outTok.tokens, estimated, status),
        called: true,
      };
    } catch (err) {
      if (!(err instanceof LlmError)) throw err;
      if (err.code === 'HETU_LLM_ABORTED' || abort.signal.aborted) throw err;
      const at = now();
      // An attempt that reached the server may have cost its input: count it (estimated).
      // A connection that could not be made sent nothing.
      const counted = err.sent && err.code !== 'HETU_LLM_UNAVAILABLE';
      const inputTokens = counted ? estimateIn * err.attempts : 0;
      return {
        analysis: {
          ...baseOf(req, at),
          status: 'failed',
          reason: reasonOf(err.code),
          code: err.code,
          message: err.message,
          inputTokens,
          estimated: counted,
          attempts: err.attempts,
          sent: counted,
        },
        usage: counted ? entryOf(req, at, options.model, inputTokens, 0, true, 'failed') : null,
        called: counted,
      };
    } finally {
      busy = false;
    }
  }

  async function handle(
    records: readonly LogRecord[],
    tx: { append(topic: string, records: readonly AppendRecord[]): void; onCommitted(cb: () => void): void },
  ): Promise<void> {
    let day = usage;
    let dayChanged = false;
    const outs: AppendRecord[] = [];
    const dead: AppendRecord[] = [];
    const after: (() => void)[] = [];
    // Outcomes of this batch, seen by its later requests before they are committed.
    const batchLatest = new Map<string, Answered>();
    const batchAnswered = new Set<string>();
    for (const r of records) {
      if (r.value === null) continue;
      let req: LlmRequestRecord;
      try {
        req = await serde.decode(r.value, 'LlmRequest');
      } catch (err) {
        if (!isBadInput(err)) throw err;
        dead.push(await encodeDeadLetter(deadLetterOf(group, r, err), now()));
        continue;
      }
      const key = analysisKey(req.cluster, req.subjectKind, req.subjectId, req.id);
      if (req.trigger === 'deleted') {
        const keys = [key];
        if (req.subjectKind === 'incident')
          keys.push(...(questions.get(incidentOf(req.cluster, req.subjectId)) ?? []));
        for (const k of keys)
          outs.push({ key: Buffer.from(k), value: null, timestamp: req.requestedAt, partition: r.partition });
        after.push(() => {
          for (const k of keys) latest.delete(k);
          questions.delete(incidentOf(req.cluster, req.subjectId));
          counts.deleted++;
        });
        continue;
      }
      const pair = pairKey(key, req.signature);
      const last = batchLatest.get(key) ?? latest.get(key);
      const why =
        answered.has(pair) || batchAnswered.has(pair)
          ? 'answered'
          : req.subjectKind !== 'question' && last !== undefined && last.requestedAt > req.requestedAt
            ? 'superseded'
            : null;
      if (why !== null) {
        after.push(() => {
          counts.skipped++;
          events.skipped?.({ request: req, why });
        });
        continue;
      }
      let outcome = computed.get(req.id);
      if (outcome === undefined) {
        outcome = await answer(req, day);
        computed.set(req.id, outcome);
      }
      const o = outcome;
      if (o.usage !== null) {
        day = recordUsage(day, o.usage);
        dayChanged = true;
      }
      outs.push({
        key: Buffer.from(key),
        value: await serde.encode(LLM_ANALYSES_TOPIC, 'LlmAnalysis', o.analysis),
        timestamp: o.analysis.ts,
        partition: r.partition,
      });
      batchLatest.set(key, { signature: req.signature, requestedAt: req.requestedAt });
      batchAnswered.add(pair);
      after.push(() => {
        computed.delete(req.id);
        remember(o.analysis);
        if (o.called) counts.calls++;
        counts[o.analysis.status]++;
        events.outcome?.({ request: req, analysis: o.analysis });
      });
    }
    if (outs.length > 0) tx.append(LLM_ANALYSES_TOPIC, outs);
    if (dead.length > 0) tx.append('hetu.dlq', dead);
    if (dayChanged) {
      const record = usageRecord(day, options.dailyTokens, now());
      tx.append(LLM_USAGE_TOPIC, [
        {
          key: Buffer.from(record.day),
          value: await serde.encode(LLM_USAGE_TOPIC, 'LlmUsage', record),
          timestamp: record.ts,
          partition: 0,
        },
      ]);
    }
    const next = day;
    tx.onCommitted(() => {
      usage = next;
      for (const f of after) f();
    });
  }

  return {
    async start() {
      if (subscription !== undefined) return subscription;
      await restore();
      subscription = await log.subscribe({
        group,
        topics: [LLM_REQUESTS_TOPIC],
        fromBeginning: true,
        singleTask: true,
        maxBatchRecords: options.maxBatchRecords ?? 1,
        onError: (err) => (closing || !isTransient(err) ? 'stop' : 'retry'),
        handler: (batch, tx) => handle(batch.records, tx),
      });
      return subscription;
    },
    whenCaughtUp(timeoutMs) {
      if (subscription === undefined) return Promise.reject(new Error('The LLM worker is not started.'));
      return subscription.whenCaughtUp(timeoutMs);
    },
    status() {
      return { ...counts, usage, dailyTokens: options.dailyTokens, breaker: client.breaker(), busy };
    },
    async close() {
      closing = true;
      abort.abort();
      await subscription?.close();
    },
  };
}
