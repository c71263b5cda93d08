import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { EmbeddedLog } from '@hetu/streams';
import { afterEach, describe, expect, it } from 'vitest';
import { openBackend } from '../backend.ts';
import { parseGlobalConfig } from '../config.ts';
import { runTail } from './tail.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('hetu tail', () => {
  it('prints the last N records of a derived topic, whose last offsets are batch markers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-tail-'));
    dirs.push(dir);
    const backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}));
    try {
      const log = backend.log as EmbeddedLog;
      await log.ensureTopics([{ name: 'derived', partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
      // Three committed batches of one record each: offsets 0, 2, 4 hold records, 1, 3, 5 markers.
      for (const v of ['a', 'b', 'c'])
        log.commitBatch(
          'writer',
          [],
          [
            {
              topic: 'derived',
              records: [{ key: Buffer.from(v), value: Buffer.from(`"${v}"`), timestamp: 1000, partition: 0 }],
            },
          ],
        );
      const [info] = await log.describeTopics(['derived']);
      expect(info!.partitions[0]!.high).toBe(6n);
      const tail = async (lines: number) => {
        const out = new PassThrough();
        let text = '';
        out.on('data', (c: Buffer) => (text += c.toString()));
        const printed = await runTail(backend, 'derived', { lines, follow: false, output: 'json', out });
        return {
          printed,
          keys: text
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { key: string }).key),
        };
      };
      expect(await tail(1)).toEqual({ printed: 1, keys: ['c'] });
      expect(await tail(2)).toEqual({ printed: 2, keys: ['b', 'c'] });
      expect(await tail(10)).toEqual({ printed: 3, keys: ['a', 'b', 'c'] });
    } finally {
      await backend.close();
    }
  });
});
