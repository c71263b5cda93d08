import {
  HetuError,
  ProcessorRuntime,
  avroDeadLetterEncoder,
  avroFactEncoder,
  type LogRecord,
  type Subscription,
} from '@hetu/streams';
import type { RecordName, RecordTypes, Serde } from '@hetu/schemas';
import { errorsProcessor } from '@hetu/processors/errors';
import { anomaliesProcessor } from '@hetu/processors/anomalies';
import type { Backend } from './backend.ts';
import { createCatalogueTopics } from './backend.ts';

/** Decodes a record's Avro value as a record of ours; a record without a value is bad input. */
function decoder<N extends RecordName>(serde: Serde, name: N) {
  return async (r: LogRecord): Promise<RecordTypes[N]> => {
    if (r.value === null)
      throw new HetuError(
        'HETU_INPUT_INVALID',
        `Record ${r.topic}/${r.partition}/${r.offset} has no value (a tombstone), not a ${name}.`,
      );
    return serde.decode(r.value, name);
  };
}

export interface Pipeline {
  readonly runtimes: readonly ProcessorRuntime<unknown, unknown>[];
  readonly subscriptions: readonly Subscription[];
  /** Resolves once every processor has processed everything appended before the call. */
  whenCaughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface PipelineEvents {
  restored?(processor: string, partition: number, keys: number): void;
}

/**
 * The processors that exist so far, on one backend: `errors` (hetu.raw.logs + hetu.commands →
 * hetu.facts.error-groups) and `anomalies` (hetu.raw.metrics → hetu.facts.anomalies). Facts and
 * dead letters are Avro through the registry.
 */
export async function startPipeline(backend: Backend, events: PipelineEvents = {}): Promise<Pipeline> {
  const { log, serde } = backend;
  await createCatalogueTopics(log);
  const common = {
    log,
    encodeFact: avroFactEncoder(serde),
    encodeDeadLetter: avroDeadLetterEncoder(serde),
  };
  const runtimes = [
    new ProcessorRuntime({
      ...common,
      processor: errorsProcessor({
        decodeLog: decoder(serde, 'LogLineObserved'),
        decodeCommand: decoder(serde, 'Command'),
      }),
      events: { restored: (i) => events.restored?.('errors', i.partition, i.keys) },
    }),
    new ProcessorRuntime({
      ...common,
      processor: anomaliesProcessor({ decodeMetric: decoder(serde, 'MetricSampled') }),
      events: { restored: (i) => events.restored?.('anomalies', i.partition, i.keys) },
    }),
  ] as ProcessorRuntime<unknown, unknown>[];
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
    whenCaughtUp: async (timeoutMs) => {
      await Promise.all(subscriptions.map((s) => s.whenCaughtUp(timeoutMs)));
    },
    close: async () => {
      await Promise.all(runtimes.map((r) => r.close()));
    },
  };
}
