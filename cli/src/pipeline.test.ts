import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGlobalConfig } from './config.ts';
import { openBackend } from './backend.ts';
import { feedRecording } from './commands/start.ts';
import { RawFrontier } from './gates.ts';
import { startPipeline } from './pipeline.ts';
import { STAGE_BATCH_RECORDS } from './stages.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hetu start pipeline', () => {
  it('cuts batches as hetu analyze does: a slot of many records in pieces of STAGE_BATCH_RECORDS', async () => {
    // 2.5 pieces' worth of samples of one series, all in one event-time slot.
    const n = Math.round(STAGE_BATCH_RECORDS * 2.5);
    const file = join(dir, 'one-slot.jsonl');
    writeFileSync(
      file,
      Array.from({ length: n }, (_, i) =>
        JSON.stringify({
          ts: '2026-11-26T08:00:00.000Z',
          cluster: 'c',
          kind: 'metric',
          name: 'cpu_usage_cores',
          labels: { namespace: 'shop', pod: 'api-0', container: 'app' },
          value: i % 7,
        }),
      ).join('\n') + '\n',
    );
    const backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'data') }, {}));
    const batches: number[] = [];
    const raw = new RawFrontier();
    const pipeline = await startPipeline(
      backend,
      { batchCommitted: (p, b) => void (p === 'anomalies' && batches.push(b.records)) },
      { rawFrontier: raw },
    );
    try {
      await feedRecording(backend, file, { speed: Infinity, onComplete: (t) => raw.complete(t) });
      await pipeline.whenCaughtUp(120_000);
    } finally {
      await pipeline.close();
      await backend.close();
    }
    expect(batches).toEqual([STAGE_BATCH_RECORDS, STAGE_BATCH_RECORDS, n - 2 * STAGE_BATCH_RECORDS]);
  }, 180_000);
});
