// `hetu replay` on Kafka (the test broker and Apicurio of the global setup), in a namespace of its
// own: the demo is analysed (generation 1), replayed from the earliest record into generation 2,
// verified, switched to and back (docs/replay.md).
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { prefixedLog } from '@hetu/streams';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { analyzeOn } from './commands/analyze.ts';
import { replayOn } from './commands/replay.ts';
import { factDigest } from './digest.ts';
import { activeLog, mappedLog, readGenerations, switchGeneration } from './generations.ts';

describe('hetu replay on Kafka', () => {
  it('replays the demo into generation 2 with the facts of generation 1, and switches readers to it and back', async () => {
    const kafka = await openBackend(
      parseGlobalConfig(
        { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      ),
    );
    try {
      const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, `replay-${randomUUID().slice(0, 8)}.`) };
      await analyzeOn(ns, 'demo/demo.jsonl.gz');
      const original = await factDigest(ns);

      const report = await replayOn(ns, { from: 'earliest' });
      expect(report.generation).toBe(2);
      expect(report.verified).toBe(true);
      expect(report.observations).toBe(21_779);
      for (const s of report.stages) {
        expect(s.complete).toBe(true);
        expect(s.processed + s.deadLettered).toBe(s.inWindow);
      }
      expect((await activeLog(ns.log)).generation).toBe(1);

      // Generation 2, read through its mapping, holds the same facts as generation 1.
      const g2 = (await readGenerations(ns.log)).generations.get(2)!;
      const replayed = await factDigest({ ...ns, log: mappedLog(ns.log, g2.mapping) });
      expect(replayed).toEqual(original);
      expect(Object.values(original).some((d) => d.entries > 0)).toBe(true);
      // …and physically other topics: generation 1's are still there.
      const names = (await ns.log.describeTopics()).map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['hetu.facts.scores', 'hetu.facts.scores.g2']));

      await switchGeneration(ns.log, 2, new Date(0).toISOString());
      const active = await activeLog(ns.log);
      expect(active.generation).toBe(2);
      const [scores] = await active.log.describeTopics(['hetu.facts.scores']);
      const [physical] = await ns.log.describeTopics(['hetu.facts.scores.g2']);
      expect(scores!.partitions).toEqual(physical!.partitions);
      await switchGeneration(ns.log, 1, new Date(0).toISOString());
      expect((await activeLog(ns.log)).generation).toBe(1);
    } finally {
      await kafka.close();
    }
  }, 900_000);
});
