import {
  ProcessorRuntime,
  avroDeadLetterEncoder,
  avroFactEncoder,
  type BatchCommittedInfo,
  type Subscription,
} from '@hetu/streams';
import type { Backend } from './backend.ts';
import { createCatalogueTopics } from './backend.ts';
import { STAGE_BATCH_RECORDS, STAGE_OUTPUTS, internalFeedSpecs, pipelineStages } from './stages.ts';
import { StageGates, type RawFrontier } from './gates.ts';
import { createWorker, llmRequestsStage, type LlmSetup } from './llm.ts';
import type { LlmWorker } from '@hetu/producers/llm';

export interface Pipeline {
  readonly runtimes: readonly ProcessorRuntime<unknown, unknown>[];
  /** The stages' subscriptions (the LLM worker's is not among them: see `llmWorker`). */
  readonly subscriptions: readonly Subscription[];
  /** The LLM worker when an LLM is configured: its own role, its own subscription. */
  readonly llmWorker: LlmWorker | undefined;
  /** The stages' event-time gates, when `PipelineOptions.rawFrontier` was given. */
  readonly gates: StageGates | undefined;
  /**
   * Resolves once every stage has processed everything appended before the call. It does not wait
   * for the LLM worker (a model that hangs never stalls the stages): use `llmWorker.whenCaughtUp`.
   */
  whenCaughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface PipelineEvents {
  restored?(processor: string, partition: number, keys: number): void;
  /** After each committed batch of a stage, named by its consumer group (pipeline metrics, docs/metrics.md). */
  batchCommitted?(processor: string, info: BatchCommittedInfo): void;
}

export interface PipelineOptions {
  /** Runs the LLM worker too (`hetu start` with an LLM configured). */
  readonly llm?: LlmSetup;
  /**
   * Where raw input is complete. Given, each stage waits until its inputs are
   * complete up to a time before it takes records of that time (cli/src/gates.ts), so the facts
   * do not depend on timing: the same as `hetu analyze` derives, and the same after a restart.
   */
  readonly rawFrontier?: RawFrontier;
}

/**
 * Every stage of the pipeline on one backend, all running at once (`hetu start`): facts and dead
 * letters are Avro through the registry. `hetu analyze` runs the same stages one after another.
 * The LLM requests stage always runs; the LLM worker runs when `options.llm` is given.
 */
export async function startPipeline(
  backend: Backend,
  events: PipelineEvents = {},
  options: PipelineOptions = {},
): Promise<Pipeline> {
  const { log, serde } = backend;
  await createCatalogueTopics(log);
  await log.ensureTopics(internalFeedSpecs(7 * 86_400_000));
  const stages = [
    ...pipelineStages(backend),
    llmRequestsStage(backend, { pseudonymize: options.llm?.pseudonymize === true }),
  ];
  const gates =
    options.rawFrontier === undefined
      ? undefined
      : new StageGates(
          stages.map(([name, p]) => ({ name, inputs: p.inputs, outputs: STAGE_OUTPUTS[name] ?? [] })),
          options.rawFrontier,
        );
  const runtimes = stages.map(
    ([name, processor]) =>
      new ProcessorRuntime({
        log,
        processor,
        maxBatchRecords: STAGE_BATCH_RECORDS,
        ...(gates ? { gate: gates.gate(name), ungatedTopics: gates.ungated(name) } : {}),
        encodeFact: avroFactEncoder(serde),
        encodeDeadLetter: avroDeadLetterEncoder(serde),
        events: {
          restored: (i) => events.restored?.(name, i.partition, i.keys),
          ...(events.batchCommitted
            ? { batchCommitted: (i: BatchCommittedInfo) => events.batchCommitted!(processor.name, i) }
            : {}),
        },
      }),
  );
  const subscriptions: Subscription[] = [];
  const llmWorker = options.llm ? createWorker(backend, options.llm) : undefined;
  try {
    for (const rt of runtimes) subscriptions.push(await rt.start());
    await llmWorker?.start();
  } catch (err) {
    await llmWorker?.close();
    await Promise.all(runtimes.map((r) => r.close()));
    throw err;
  }
  return {
    runtimes,
    subscriptions,
    llmWorker,
    gates,
    // Stages feed each other: wait until a pass over all of them finds nothing new.
    whenCaughtUp: async (timeoutMs) => {
      for (let pass = 0; pass < runtimes.length + 1; pass++) {
        for (const s of subscriptions) await s.whenCaughtUp(timeoutMs);
      }
    },
    close: async () => {
      // The worker first: it aborts a running call instead of waiting for it.
      await llmWorker?.close();
      await Promise.all(runtimes.map((r) => r.close()));
    },
  };
}
