import { ProcessorRuntime, avroDeadLetterEncoder, avroFactEncoder, type Subscription } from '@hetu/streams';
import type { Backend } from './backend.ts';
import { createCatalogueTopics } from './backend.ts';
import { CLUSTER_FEED, pipelineStages } from './stages.ts';

export interface Pipeline {
  readonly runtimes: readonly ProcessorRuntime<unknown, unknown>[];
  readonly subscriptions: readonly Subscription[];
  /** Resolves once every stage has processed everything appended before the call. */
  whenCaughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface PipelineEvents {
  restored?(processor: string, partition: number, keys: number): void;
}

/**
 * Every stage of the pipeline on one backend, all running at once (`hetu start`): facts and dead
 * letters are Avro through the registry. `hetu analyze` runs the same stages one after another.
 */
export async function startPipeline(backend: Backend, events: PipelineEvents = {}): Promise<Pipeline> {
  const { log, serde } = backend;
  await createCatalogueTopics(log);
  await log.ensureTopics([
    { name: CLUSTER_FEED, partitions: 3, cleanupPolicy: 'delete', retentionMs: 7 * 86_400_000 },
  ]);
  const runtimes = pipelineStages(backend).map(
    ([name, processor]) =>
      new ProcessorRuntime({
        log,
        processor,
        encodeFact: avroFactEncoder(serde),
        encodeDeadLetter: avroDeadLetterEncoder(serde),
        events: { restored: (i) => events.restored?.(name, i.partition, i.keys) },
      }),
  );
  const subscriptions: Subscription[] = [];
  try {
    for (const rt of runtimes) subscriptions.push(await rt.start());
  } catch (err) {
    await Promise.all(runtimes.map((r) => r.close()));
    throw err;
  }
  return {
    runtimes,
    subscriptions,
    // Stages feed each other: wait until a pass over all of them finds nothing new.
    whenCaughtUp: async (timeoutMs) => {
      for (let pass = 0; pass < runtimes.length + 1; pass++) {
        for (const s of subscriptions) await s.whenCaughtUp(timeoutMs);
      }
    },
    close: async () => {
      await Promise.all(runtimes.map((r) => r.close()));
    },
  };
}
