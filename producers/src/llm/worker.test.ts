import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  topicSpecs,
  type Serde,
} from '@hetu/schemas';
import { EmbeddedLog } from '@hetu/streams';
import {
  LLM_ANALYSES_TOPIC,
  LLM_REQUESTS_TOPIC,
  LLM_USAGE_TOPIC,
  type LlmAnalysisRecord,
  type LlmRequestRecord,
  type LlmUsageRecord,
} from '@hetu/processors/llm';
import { createLlmClient, estimateInputTokens, type LlmClientConfig } from './client.ts';
import { startFakeLlmServer, type FakeLlmScript, type FakeLlmServer } from './fake-server.ts';
import { createLlmWorker, type LlmWorker } from './worker.ts';

const DAY1 = Date.UTC(2026, 10, 26, 23, 0, 0);
const DAY2 = Date.UTC(2026, 10, 27, 0, 0, 1);
const T = Date.UTC(2026, 10, 26, 8, 0, 0);

const VALID = JSON.stringify({
  summary: 'The api container runs out of memory under load.',
  rootCause: { description: 'Memory limit too low for the cache.', confidence: 0.7 },
  remediation: [{ step: 'Raise the memory limit to 768Mi.', risk: 'low', automatable: true, effort: 'low' }],
  evidenceIds: ['ev-1'],
});

interface Env {
  log: EmbeddedLog;
  serde: Serde;
  server: FakeLlmServer;
  clock: { now: number };
  workers: LlmWorker[];
  close(): Promise<void>;
}

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function setup(script: FakeLlmScript): Promise<Env> {
  const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
  const serde = createSerde(createRegistryClient({ url: registry.url }));
  const log = new EmbeddedLog({ dataDir: ':memory:' });
  await log.ensureTopics(topicSpecs());
  const server = await startFakeLlmServer({ script });
  const workers: LlmWorker[] = [];
  env = {
    log,
    serde,
    server,
    clock: { now: DAY1 },
    workers,
    close: async () => {
      for (const w of workers) await w.close();
      await server.close();
      await log.close();
      await registry.close();
    },
  };
  return env;
}

function worker(
  e: Env,
  opts: { dailyTokens?: number; group?: string; client?: Partial<LlmClientConfig> } = {},
): LlmWorker {
  const client = createLlmClient(
    {
      baseUrl: e.server.baseUrl,
      model: 'fake-model',
      maxOutputTokens: 500,
      retryBaseDelayMs: 1,
      retryMaxDelayMs: 2,
      ...opts.client,
    },
    { random: () => 0, now: () => e.clock.now },
  );
  const w = createLlmWorker({
    log: e.log,
    serde: e.serde,
    client,
    model: 'fake-model',
    dailyTokens: opts.dailyTokens ?? 1_000_000,
    maxOutputTokens: 500,
    now: () => e.clock.now,
    ...(opts.group ? { group: opts.group } : {}),
  });
  e.workers.push(w);
  return w;
}

function request(n: number, overrides: Partial<LlmRequestRecord> = {}): LlmRequestRecord {
  const subjectId = overrides.subjectId ?? `inc-${n}`;
  return {
    id: `req-${n}`,
    ts: T + n * 60_000,
    cluster: 'prod',
    subjectKind: 'incident',
    subjectId,
    signature: `sig-${n}`,
    trigger: 'changed',
    requestedAt: T + n * 60_000,
    messages: [
      { role: 'system', content: 'You are an SRE.' },
      {
        role: 'user',
        content: `<<<HETU_DATA_BEGIN>>>{"evidence":[{"id":"ev-1","text":"OOMKilled ${n}"}]}<<<HETU_DATA_END>>>`,
      },
    ],
    evidenceIds: ['ev-1'],
    promptHash: `hash-${n}`,
    redactions: [{ kind: 'password', count: 2 }],
    omitted: { evidence: 0, signals: 0, shortenedTexts: 0 },
    dataChars: 60,
    commandId: null,
    issuer: null,
    question: null,
    history: [],
    pseudonyms: [],
    ...overrides,
  };
}

async function put(e: Env, ...reqs: LlmRequestRecord[]): Promise<void> {
  for (const r of reqs)
    await e.log.append(LLM_REQUESTS_TOPIC, [
      {
        key: Buffer.from(`${r.cluster}/${r.subjectKind}/${r.subjectId}`),
        value: await e.serde.encode(LLM_REQUESTS_TOPIC, 'LlmRequest', r),
        timestamp: r.requestedAt,
        partition: 1,
      },
    ]);
}

async function all<N extends 'LlmAnalysis' | 'LlmUsage'>(
  e: Env,
  topic: string,
  name: N,
): Promise<
  {
    key: string;
    partition: number;
    value: (N extends 'LlmAnalysis' ? LlmAnalysisRecord : LlmUsageRecord) | null;
  }[]
> {
  const out: { key: string; partition: number; value: never }[] = [];
  const [info] = await e.log.describeTopics([topic]);
  for (const p of info!.partitions)
    for (const r of await e.log.read(topic, p.partition))
      out.push({
        key: r.key!.toString(),
        partition: r.partition,
        value: (r.value === null ? null : await e.serde.decode(r.value, name)) as never,
      });
  return out;
}

async function run(w: LlmWorker): Promise<void> {
  await w.start();
  await w.whenCaughtUp(20_000);
}

describe('LLM worker', () => {
  it('records a valid answer with its tokens and the day’s usage and audit, in the batch that commits it', async () => {
    const e = await setup(() => ({ content: VALID, usage: { prompt_tokens: 40, completion_tokens: 70 } }));
    await put(e, request(1));
    await run(worker(e));
    const [a] = await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis');
    expect(a!.key).toBe('prod/incident/inc-1');
    expect(a!.partition).toBe(1); // the request's partition: co-partitioned with its cluster
    expect(a!.value).toEqual({
      id: 'req-1',
      ts: T + 60_000,
      cluster: 'prod',
      subjectKind: 'incident',
      subjectId: 'inc-1',
      signature: 'sig-1',
      trigger: 'changed',
      requestedAt: T + 60_000,
      status: 'recorded',
      reason: null,
      code: null,
      message: null,
      resumesAt: null,
      incident: {
        summary: 'The api container runs out of memory under load.',
        rootCause: { description: 'Memory limit too low for the cache.', confidence: 0.7, resource: null },
        contributingFactors: [],
        blastRadius: { workloads: [], pods: [], namespaces: [] },
        remediation: [
          { step: 'Raise the memory limit to 768Mi.', risk: 'low', automatable: true, effort: 'low' },
        ],
        preventiveMeasures: [],
        evidenceIds: ['ev-1'],
      },
      errorGroup: null,
      answer: null,
      citationsValid: true,
      unknownCitations: [],
      raw: null,
      model: 'fake-model',
      inputTokens: 40,
      outputTokens: 70,
      estimated: false,
      attempts: 1,
      sent: true,
      promptHash: 'hash-1',
      answeredAt: DAY1,
    });
    const [u] = await all(e, LLM_USAGE_TOPIC, 'LlmUsage');
    expect(u!.key).toBe('2026-11-26');
    expect(u!.value).toEqual({
      ts: DAY1,
      day: '2026-11-26',
      inputTokens: 40n,
      outputTokens: 70n,
      calls: 1,
      limit: 1_000_000n,
      audit: [
        {
          at: DAY1,
          requestId: 'req-1',
          subjectKind: 'incident',
          subjectId: 'inc-1',
          model: 'fake-model',
          inputTokens: 40,
          outputTokens: 70,
          estimated: false,
          status: 'recorded',
          promptHash: 'hash-1',
          redactions: [{ kind: 'password', count: 2 }],
        },
      ],
      auditDropped: 0,
    });
    // What was sent is exactly the request's messages.
    const body = e.server.chatRequests()[0]!.body as { messages: unknown; max_tokens: number };
    expect(body.messages).toEqual(request(1).messages);
    expect(body.max_tokens).toBe(500);
  });

  it('replaces the tokens of a pseudonymised request by the names in the stored answer', async () => {
    const answer = JSON.stringify({
      summary: 'wl-1 in ns-1 runs out of memory; pod-1 was OOMKilled.',
      rootCause: { description: 'wl-1 leaks; wl-10 is unrelated.', confidence: 0.7 },
      evidenceIds: ['ev-1'],
    });
    const e = await setup(() => ({ content: answer, usage: { prompt_tokens: 40, completion_tokens: 70 } }));
    await put(
      e,
      request(1, {
        pseudonyms: [
          { token: 'ns-1', name: 'shop' },
          { token: 'pod-1', name: 'api-7d9f8c6b5-x2k4q' },
          { token: 'wl-1', name: 'api' },
        ],
      }),
    );
    await run(worker(e));
    const [a] = await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis');
    const incident = (a!.value as LlmAnalysisRecord).incident!;
    expect([incident.summary, incident.rootCause.description]).toEqual([
      'api in shop runs out of memory; api-7d9f8c6b5-x2k4q was OOMKilled.',
      'api leaks; wl-10 is unrelated.',
    ]);
  });

  it('keeps an invalid answer as failed/invalid with the raw text, and still counts its tokens', async () => {
    const e = await setup(() => ({
      content: 'Sure! {"summary": 3}',
      usage: { prompt_tokens: 40, completion_tokens: 9 },
    }));
    await put(e, request(1));
    const w = worker(e);
    await run(w);
    const [a] = await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis');
    expect([a!.value!.status, a!.value!.reason, a!.value!.code, a!.value!.raw, a!.value!.incident]).toEqual([
      'failed',
      'invalid',
      'HETU_LLM_INVALID_ANSWER',
      'Sure! {"summary": 3}',
      null,
    ]);
    expect(a!.value!.message).toBe(
      "The model's answer was not used: The answer does not have the IncidentAnalysis shape: summary: Invalid input: expected string, received number (and 1 more problem). The raw text is kept.",
    );
    expect(w.status().usage.inputTokens + w.status().usage.outputTokens).toBe(49);
  });

  it('stores answers as plain text: links, images and markup are removed, unknown citations flagged', async () => {
    const e = await setup(() => ({
      content: JSON.stringify({
        summary:
          'See ![diagram](https://evil.example/x.png) and [the runbook](https://evil.example/run) <img src=x onerror=alert(1)>.',
        rootCause: { description: 'Go to https://evil.example/?q=secret now', confidence: 0.5 },
        remediation: [
          {
            step: '<a href="javascript:alert(1)">click</a>',
            risk: 'high',
            automatable: false,
            effort: 'low',
          },
        ],
        evidenceIds: ['ev-1', 'ev-999'],
      }),
    }));
    await put(e, request(1));
    await run(worker(e));
    const a = (await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis'))[0]!.value!;
    expect(a.status).toBe('recorded');
    expect(a.incident!.summary).toBe('See diagram and the runbook .');
    expect(a.incident!.rootCause.description).toBe('Go to https[:]//evil.example/?q=secret now');
    expect(a.incident!.remediation[0]!.step).toBe('click');
    expect([a.citationsValid, a.unknownCitations, a.incident!.evidenceIds]).toEqual([
      false,
      ['ev-999'],
      ['ev-1'],
    ]);
    expect(JSON.stringify(a)).not.toMatch(/\]\(|<img|<a |https?:\/\//);
  });

  it('refuses at the budget without sending, resumes the next UTC day, and keeps the day’s usage across a restart', async () => {
    const e = await setup(() => ({
      content: VALID,
      usage: { prompt_tokens: 1_500, completion_tokens: 600 },
    }));
    await put(e, request(1), request(2));
    const first = worker(e, { dailyTokens: 2_500 });
    await run(first);
    expect(e.server.chatRequests().length).toBe(1);
    const refused = (await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis'))[1]!.value!;
    const estimate = estimateInputTokens(request(2).messages as never) + 500;
    expect([
      refused.status,
      refused.reason,
      refused.code,
      refused.sent,
      refused.attempts,
      refused.resumesAt,
    ]).toEqual([
      'refused',
      'budget-exhausted',
      'HETU_LLM_BUDGET_EXHAUSTED',
      false,
      0,
      Date.UTC(2026, 10, 27),
    ]);
    expect(refused.message).toBe(
      `This LLM call (about ${estimate} tokens) would pass the daily LLM token budget: 2100 of 2500 tokens used on 2026-11-26 (UTC); calls resume at 2026-11-27T00:00:00.000Z.`,
    );
    await first.close();
    // A restart on the same day restores the usage from the log: still refused, nothing sent.
    await put(e, request(3));
    await run(worker(e, { dailyTokens: 2_500 }));
    expect(e.server.chatRequests().length).toBe(1);
    expect((await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis'))[2]!.value!.status).toBe('refused');
    // The next UTC day: calls resume.
    e.clock.now = DAY2;
    await put(e, request(4));
    await e.workers[1]!.whenCaughtUp(20_000);
    expect(e.server.chatRequests().length).toBe(2);
    const usage = await all(e, LLM_USAGE_TOPIC, 'LlmUsage');
    expect(
      usage.map((u) => [u.key, Number(u.value!.inputTokens + u.value!.outputTokens), u.value!.calls]),
    ).toEqual([
      ['2026-11-26', 2_100, 1],
      ['2026-11-27', 2_100, 1],
    ]);
  });

  it('makes no calls over a log that already holds the answers (a replay), and skips superseded requests', async () => {
    const e = await setup(() => ({ content: VALID }));
    await put(e, request(1), request(2));
    await run(worker(e));
    expect(e.server.chatRequests().length).toBe(2);
    // A new consumer group reads every request again: all answered, 0 calls.
    const skipped: string[] = [];
    const replay = createLlmWorker({
      log: e.log,
      serde: e.serde,
      client: createLlmClient({ baseUrl: e.server.baseUrl, model: 'fake-model' }),
      model: 'fake-model',
      dailyTokens: 1_000_000,
      maxOutputTokens: 500,
      group: 'llm-worker-replay',
      events: { skipped: ({ request: r, why }) => skipped.push(`${r.id} ${why}`) },
    });
    e.workers.push(replay);
    await run(replay);
    expect(e.server.chatRequests().length).toBe(2);
    expect(skipped).toEqual(['req-1 answered', 'req-2 answered']);
    // An older story of a subject whose newer one is answered: skipped, no call.
    await put(e, request(0, { subjectId: 'inc-2', id: 'req-old', signature: 'sig-old' }));
    await replay.whenCaughtUp(20_000);
    expect(e.server.chatRequests().length).toBe(2);
    expect(skipped[2]).toBe('req-old superseded');
  });

  it('sends a request it cannot read to the DLQ with a sentence and its position, and answers the next', async () => {
    const e = await setup(() => ({ content: VALID }));
    // Not the registry's wire format (no magic byte), then a good request behind it.
    await e.log.append(LLM_REQUESTS_TOPIC, [
      {
        key: Buffer.from('prod/incident/inc-0'),
        value: Buffer.from('{"id":"req-0"}'),
        timestamp: T,
        partition: 1,
      },
    ]);
    await put(e, request(1));
    await run(worker(e));
    expect(e.server.chatRequests().length).toBe(1);
    const analyses = await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis');
    expect(analyses.map((a) => [a.key, a.value?.status])).toEqual([['prod/incident/inc-1', 'recorded']]);
    const [dlq] = await e.log.describeTopics(['hetu.dlq']);
    const dead = [];
    for (const p of dlq!.partitions)
      for (const r of await e.log.read('hetu.dlq', p.partition))
        dead.push(await e.serde.decode(r.value!, 'DeadLetter'));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      processor: 'llm-worker',
      reasonCode: 'HETU_SERDE_BAD_MAGIC',
      sourceTopic: LLM_REQUESTS_TOPIC,
      sourcePartition: 1,
      sourceOffset: 0n,
      sourceTimestamp: T,
      value: Buffer.from('{"id":"req-0"}'),
    });
    expect((dead[0] as { message: string }).message).toMatch(/magic byte/);
  });

  it('retries a 500, then records the answer with the attempts it took', async () => {
    const e = await setup((_r, i) =>
      i < 2 ? { status: 500, body: { error: { message: 'boom' } } } : { content: VALID },
    );
    await put(e, request(1));
    await run(worker(e));
    const a = (await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis'))[0]!.value!;
    expect([a.status, a.attempts, e.server.chatRequests().length]).toEqual(['recorded', 3, 3]);
  });

  it('times out a hanging model per attempt, twice retried, and counts the input of every attempt', async () => {
    const e = await setup(() => ({ hang: true }));
    await put(e, request(1));
    const w = worker(e, { client: { timeoutMs: 150 } });
    await run(w);
    const a = (await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis'))[0]!.value!;
    const perAttempt = estimateInputTokens(request(1).messages as never);
    expect([
      a.status,
      a.reason,
      a.code,
      a.attempts,
      a.sent,
      a.inputTokens,
      a.outputTokens,
      a.estimated,
    ]).toEqual(['failed', 'timeout', 'HETU_LLM_TIMEOUT', 3, true, 3 * perAttempt, 0, true]);
    expect(e.server.chatRequests().length).toBe(3);
    expect(w.status().usage.audit.map((x) => [x.status, x.inputTokens])).toEqual([
      ['failed', 3 * perAttempt],
    ]);
  });

  it('opens the circuit breaker after 5 failed calls: the 6th is recorded failed/circuit-open and nothing is sent', async () => {
    const e = await setup(() => ({ status: 503, body: { error: { message: 'overloaded' } } }));
    await put(e, ...[1, 2, 3, 4, 5, 6].map((n) => request(n)));
    await run(worker(e));
    const outcomes = (await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis')).map((x) => x.value!);
    expect(outcomes.map((a) => [a.reason, a.attempts, a.sent])).toEqual([
      ['http-503', 3, true],
      ['http-503', 3, true],
      ['http-503', 3, true],
      ['http-503', 3, true],
      ['http-503', 3, true],
      ['circuit-open', 0, false],
    ]);
    expect(e.server.chatRequests().length).toBe(15);
  });

  it('does not believe a server that under-reports tokens', async () => {
    const e = await setup(() => ({ content: VALID, usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    await put(e, request(1));
    await run(worker(e));
    const a = (await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis'))[0]!.value!;
    expect([a.inputTokens, a.outputTokens, a.estimated]).toEqual([
      estimateInputTokens(request(1).messages as never),
      Math.ceil(VALID.length / 4),
      true,
    ]);
  });

  it('close() aborts a hanging call at once; the request is answered after a restart', async () => {
    let hang = true;
    const e = await setup(() => (hang ? { hang: true } : { content: VALID }));
    await put(e, request(1));
    const w = worker(e, { client: { timeoutMs: 600_000 } });
    await w.start();
    await e.server.waitForRequests(1);
    expect(w.status().busy).toBe(true);
    await w.close(); // would take 10 minutes without the abort
    expect(await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis')).toEqual([]);
    hang = false;
    await run(worker(e));
    expect((await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis')).map((x) => x.value!.status)).toEqual([
      'recorded',
    ]);
  });

  it('answers questions, and removes a deleted incident’s analyses and questions without a call', async () => {
    const e = await setup((r) => {
      const system = (r.body as { messages: { content: string }[] }).messages[0]!.content;
      return {
        content: system.includes('question')
          ? '{"answer":"Because of memory.","evidenceIds":["ev-1"]}'
          : VALID,
      };
    });
    await put(
      e,
      request(1),
      request(2, {
        subjectKind: 'question',
        subjectId: 'inc-1',
        signature: 'cmd-1',
        trigger: 'ask',
        question: 'Why?',
        messages: [
          { role: 'system', content: 'Answer the question.' },
          { role: 'user', content: 'Why?' },
        ],
      }),
    );
    await run(worker(e));
    await put(e, request(3, { subjectId: 'inc-1', signature: 'deleted', trigger: 'deleted', messages: [] }));
    await e.workers[0]!.whenCaughtUp(20_000);
    const rows = await all(e, LLM_ANALYSES_TOPIC, 'LlmAnalysis');
    expect(rows.map((x) => [x.key, x.value?.status ?? null, x.value?.answer ?? null])).toEqual([
      ['prod/incident/inc-1', 'recorded', null],
      [
        'prod/question/inc-1/req-2',
        'recorded',
        { question: 'Why?', answer: 'Because of memory.', evidenceIds: ['ev-1'] },
      ],
      ['prod/incident/inc-1', null, null],
      ['prod/question/inc-1/req-2', null, null],
    ]);
    expect(e.server.chatRequests().length).toBe(2);
  });
});
