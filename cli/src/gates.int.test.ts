/**
 * `hetu start`'s stages, all running at once and gated by event time (cli/src/gates.ts), on the
 * real broker: while the demo is fed in, they derive exactly the facts `hetu analyze` derives from
 * it, one stage after another, on the embedded log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { prefixedLog } from '@hetu/streams';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { analyzeOn } from './commands/analyze.ts';
import { DEMO_RECORDING, feedRecording } from './commands/start.ts';
import { factDigest } from './digest.ts';
import { RawFrontier } from './gates.ts';
import { startPipeline } from './pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-gates-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('event-time gates on Kafka', () => {
  it('the stages running at once, fed the demo, derive what hetu analyze derives', async () => {
    const kafka = await openBackend(
      parseGlobalConfig(
        { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      ),
    );
    const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, `gates-${randomUUID().slice(0, 8)}.`) };
    let live: Awaited<ReturnType<typeof factDigest>>;
    let moves = 0;
    try {
      const raw = new RawFrontier();
      raw.onMove(() => moves++);
      const pipeline = await startPipeline(ns, {}, { rawFrontier: raw });
      try {
        // As `hetu start` feeds a recording: the stages run while it comes in, 500 lines at a time.
        const fed = await feedRecording(ns, DEMO_RECORDING, {
          speed: Infinity,
          maxBatch: 500,
          onComplete: (t) => raw.complete(t),
        });
        expect(fed.observations).toBe(21_779);
        await pipeline.whenCaughtUp(600_000);
        for (const s of ['kube', 'errors', 'anomalies', 'feed', 'scoring-cluster'])
          expect([s, pipeline.gates!.frontier(s)]).toEqual([s, Infinity]);
      } finally {
        await pipeline.close();
      }
      live = await factDigest(ns);
    } finally {
      await kafka.close();
    }
    expect(moves).toBeGreaterThan(40); // the raw input moved on many times while the stages ran

    const embedded = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'analyzed') }, {}));
    await analyzeOn(embedded, DEMO_RECORDING);
    const offline = await factDigest(embedded).finally(() => embedded.close());
    expect(Object.keys(offline).length).toBeGreaterThanOrEqual(10);
    expect(live).toEqual(offline);
  }, 900_000);
});
