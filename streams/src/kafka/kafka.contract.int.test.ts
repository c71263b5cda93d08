import { inject } from 'vitest';
import { logContract } from '../contract/contract-suite.ts';
import { KafkaLog } from './kafka-log.ts';

const brokers = inject('kafkaBrokers');

logContract('kafka', {
  open: async () => new KafkaLog({ brokers, clientId: 'contract', sessionTimeoutMs: 6000 }),
  childArgs: () => ['--kafka', brokers.join(',')],
  // Short segments and a low dirty ratio let the broker's cleaner compact within seconds.
  compactableTopic: { segmentMs: 100, minCleanableDirtyRatio: 0.001 },
  compact: async (log, topic, nudge) => {
    // The cleaner never touches the active segment: keep appending so segments roll, until the
    // superseded values are gone (the broker's cleaner runs every log.cleaner.backoff.ms).
    const deadline = Date.now() + 120_000;
    for (;;) {
      await nudge();
      const records = await log.read(topic, 0);
      const superseded = records.filter(
        (r) => ['a', 'b'].includes(r.key!.toString()) && r.value?.toString() === '1',
      );
      if (superseded.length === 0) return;
      if (Date.now() > deadline) throw new Error(`Kafka did not compact ${topic} within 120 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  },
});
