/**
 * The LLM second opinion in the `hetu` command (docs/llm.md): the `llm-requests` stage (always
 * runs; it only writes requests) and the LLM worker (runs when an LLM is configured), for
 * `hetu analyze` (one after the other, after the other stages) and `hetu start` (all at once).
 */
import { HetuError, groupProgress, type AnyProcessor, type LogRecord } from '@hetu/streams';
import type { RecordName } from '@hetu/schemas';
import { LLM_ANALYSES_TOPIC, LLM_REQUESTS_TOPIC, analysisKey } from '@hetu/processors/llm';
import { llmRequestsProcessor } from '@hetu/processors/llm/topology';
import {
  createLlmClient,
  createLlmWorker,
  describeLlmConfig,
  type LlmClientDeps,
  type LlmConfig,
  type LlmWorker,
  type LlmWorkerEvents,
} from '@hetu/producers/llm';
import type { Backend } from './backend.ts';
import { recordOf, runStage } from './stages.ts';

/** What the worker needs: the validated configuration, and for tests a clock and client hooks. */
export interface LlmSetup {
  readonly config: LlmConfig;
  /**
   * Replace the names of namespaces, workloads, pods and nodes by tokens in what is sent, and back
   * in the answer (`--llm-pseudonymize`, env HETU_LLM_PSEUDONYMIZE=1). Applies to requests made
   * while it is on.
   */
  readonly pseudonymize?: boolean;
  /** Wall clock for budget days and answeredAt (default Date.now). */
  readonly now?: () => number;
  readonly clientDeps?: LlmClientDeps;
  readonly events?: LlmWorkerEvents;
}

/** The stages this module adds to the pipeline, in order (only the requests stage is a processor). */
export const LLM_STAGE_NAMES = ['llm-requests', 'llm-worker'] as const;

/** How many request → worker → request rounds `hetu analyze` runs at most. */
const MAX_ROUNDS = 10;

/** The `llm-requests` processor, decoding its inputs as the catalogue says. */
export function llmRequestsStage(
  backend: Backend,
  opts: { pseudonymize?: boolean } = {},
): [string, AnyProcessor<unknown, unknown>] {
  const { serde } = backend;
  const processor = llmRequestsProcessor({
    config: { pseudonymize: opts.pseudonymize === true },
    decode: async (sourceTopic: string, value: Buffer) => serde.decode(value, recordOf(sourceTopic)),
    decodeCommand: async (r: LogRecord) => {
      if (r.value === null)
        throw new HetuError(
          'HETU_INPUT_INVALID',
          `Record ${r.topic}/${r.partition}/${r.offset} is a tombstone, not a Command.`,
        );
      return serde.decode(r.value, 'Command' satisfies RecordName);
    },
  });
  return ['llm-requests', processor as unknown as AnyProcessor<unknown, unknown>];
}

/** Creates the LLM worker on a backend (not started). */
export function createWorker(backend: Backend, llm: LlmSetup): LlmWorker {
  const client = createLlmClient(llm.config, llm.clientDeps ?? {});
  return createLlmWorker({
    log: backend.log,
    serde: backend.serde,
    client,
    model: llm.config.model,
    dailyTokens: llm.config.dailyTokens,
    maxOutputTokens: llm.config.maxOutputTokens,
    ...(llm.now ? { now: llm.now } : {}),
    ...(llm.events ? { events: llm.events } : {}),
  });
}

async function endOffsets(backend: Backend, topic: string): Promise<string> {
  const [info] = await backend.log.describeTopics([topic]);
  return (info?.partitions ?? []).map((p) => p.high.toString()).join(',');
}

/**
 * `hetu analyze`'s LLM part, after every other stage: the requests stage to the end of its input;
 * with an LLM, the worker to the end of the requests; and again while the worker's outcomes let
 * queued requests out (an incident's newest story waits for its running call), at most 10 rounds.
 */
export async function runLlmStages(
  backend: Backend,
  llm: LlmSetup | undefined,
  progress?: {
    stage?(name: string): void;
    stageDone?(name: string): void;
    records?(stage: string, done: number, total: number): void;
  },
  /**
   * false (a log no stage runs on again): the requests stage writes no changelog (`runStage`) —
   * unless an LLM is set up, when it runs again after each round of the worker and restores from it.
   */
  changelogs = true,
): Promise<void> {
  const changelog = changelogs || llm !== undefined;
  const [, processor] = llmRequestsStage(backend, { pseudonymize: llm?.pseudonymize === true });
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = await endOffsets(backend, LLM_REQUESTS_TOPIC);
    progress?.stage?.('llm-requests');
    // Each round goes through what the stage has not committed yet: that is the bar's length.
    const records = progress?.records;
    const lag = records ? await groupProgress(backend.log, processor.name, processor.inputs) : undefined;
    const total = lag ? Number(lag.end - lag.committed) : 0;
    let done = 0;
    await runStage(
      backend,
      processor,
      records ? (info) => records('llm-requests', (done += info.records), total) : undefined,
      undefined,
      changelog,
    );
    progress?.stageDone?.('llm-requests');
    if (llm === undefined) return;
    if (round > 0 && (await endOffsets(backend, LLM_REQUESTS_TOPIC)) === before) return;
    progress?.stage?.('llm-worker');
    const worker = createWorker(backend, llm);
    try {
      await worker.start();
      await worker.whenCaughtUp(3_600_000);
    } finally {
      await worker.close();
    }
    progress?.stageDone?.('llm-worker');
  }
}

// ---------------------------------------------------------------------------------------------
// The `llm` field of `hetu analyze --json` (docs/analyze-output.md)

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

/** The JSON of a stored outcome: what an operator reads (no wall-clock times, so replays compare). */
export function llmOutcomeJson(a: Record<string, unknown>): Record<string, unknown> {
  const common = {
    status: a.status,
    trigger: a.trigger,
    signature: a.signature,
    requestedAt: iso(a.requestedAt),
    model: a.model,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    estimated: a.estimated,
    attempts: a.attempts,
  };
  if (a.status === 'recorded') {
    return {
      ...common,
      citationsValid: a.citationsValid,
      unknownCitations: a.unknownCitations,
      analysis: a.incident ?? a.errorGroup ?? a.answer ?? null,
    };
  }
  return {
    ...common,
    reason: a.reason,
    code: a.code,
    message: a.message,
    ...(a.status === 'refused' ? { resumesAt: iso(a.resumesAt) } : {}),
    ...(a.raw !== null && a.raw !== undefined ? { raw: a.raw } : {}),
  };
}

/** What `llm` says of a subject: its stored outcome, or why there is none. */
export function llmFieldOf(
  analyses: ReadonlyMap<string, Record<string, unknown>>,
  requested: ReadonlySet<string>,
  configured: boolean,
  cluster: string,
  kind: 'incident' | 'error-group',
  id: string,
): Record<string, unknown> {
  const a = analyses.get(analysisKey(cluster, kind, id, ''));
  if (a !== undefined) return llmOutcomeJson(a);
  if (!configured)
    return {
      status: 'not-configured',
      reason: describeLlmConfig(undefined).status,
    };
  if (requested.has(`${cluster}/${kind}/${id}`))
    return { status: 'pending', reason: 'Requested; the LLM worker has not recorded an outcome yet.' };
  return {
    status: 'not-requested',
    reason:
      kind === 'incident'
        ? 'No analysis was requested: the incident was closed before its first change was looked at.'
        : 'No analysis was requested: the group never became new at error level, regressed or spiked.',
  };
}

/** Keys (`<cluster>/<kind>/<subject id>`) that have a request on the log. */
export async function requestedKeys(backend: Backend): Promise<Set<string>> {
  const out = new Set<string>();
  const [info] = await backend.log.describeTopics([LLM_REQUESTS_TOPIC]);
  for (const p of info?.partitions ?? []) {
    let from = p.low;
    while (from < p.high) {
      const chunk = await backend.log.read(LLM_REQUESTS_TOPIC, p.partition, {
        fromOffset: from,
        maxRecords: 5_000,
      });
      if (chunk.length === 0) break;
      for (const r of chunk) if (r.key !== null) out.add(r.key.toString('utf8'));
      from = chunk[chunk.length - 1]!.offset + 1n;
    }
  }
  return out;
}

export { LLM_ANALYSES_TOPIC, LLM_REQUESTS_TOPIC };
