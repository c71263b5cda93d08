// A processor in its own process, for the crash test: folds the sum processor over a topic and
// prints one line per committed batch, so the parent can kill it at a chosen point.
import { parseArgs } from 'node:util';
import { EmbeddedLog } from '../embedded/embedded-log.ts';
import { KafkaLog } from '../kafka/kafka-log.ts';
import { ProcessorRuntime } from '../runtime/runtime.ts';
import type { Log } from '../port.ts';
import { sumProcessor } from './sum-processor.ts';

const { values } = parseArgs({
  options: {
    embedded: { type: 'string' },
    kafka: { type: 'string' },
    input: { type: 'string' },
    changelog: { type: 'string' },
    name: { type: 'string' },
    dlq: { type: 'string' },
    batch: { type: 'string', default: '500' },
  },
});

const log: Log = values.embedded
  ? new EmbeddedLog({ dataDir: values.embedded })
  : new KafkaLog({ brokers: values.kafka!.split(','), sessionTimeoutMs: 6000, clientId: 'crash-child' });

const rt = new ProcessorRuntime({
  log,
  processor: sumProcessor({ name: values.name!, input: values.input!, changelog: values.changelog! }),
  dlqTopic: values.dlq!,
  maxBatchRecords: Number(values.batch),
  events: {
    restored: (i) => process.stdout.write(`restored ${i.partition} ${i.keys}\n`),
    batchCommitted: (i) => process.stdout.write(`batch ${i.partition} ${i.records}\n`),
  },
});
const sub = await rt.start();
await sub.whenCaughtUp(300_000);
process.stdout.write('caught-up\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void rt
    .close()
    .then(() => log.close())
    .then(() => process.exit(0));
});
